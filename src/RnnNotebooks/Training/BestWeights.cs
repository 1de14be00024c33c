using TorchSharp;
using static TorchSharp.torch;

namespace RnnNotebooks.Training;

/// <summary>
/// Keeps copies of a module's weights from the points where a validation score (lower is better) was best, so
/// training can run past them and still end with the best model: <c>Offer</c> after each validation, <c>Restore</c>
/// at the end.
/// </summary>
/// <remarks>A score equal to the worst kept one does not replace it (earlier wins ties). The copies live outside every
/// dispose scope until this object is disposed or better scores push them out. Introduced in 05-speech-recognition.</remarks>
public sealed class BestWeights : IDisposable
{
    readonly nn.Module module;
    readonly List<(double Score, int Offer, WeightSnapshot Weights)> kept = [];
    bool disposed;

    /// <summary>Watches <paramref name="module"/>; nothing is copied until the first <see cref="Offer"/>.</summary>
    /// <param name="module">The module being trained.</param>
    /// <param name="keep">How many of the best validations' weights to keep (1 = the best alone).</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="keep"/> is below 1.</exception>
    public BestWeights(nn.Module module, int keep = 1)
    {
        ArgumentNullException.ThrowIfNull(module);
        ArgumentOutOfRangeException.ThrowIfLessThan(keep, 1);
        this.module = module;
        Keep = keep;
    }

    /// <summary>How many of the best validations' weights are kept.</summary>
    public int Keep { get; }

    /// <summary>The best score offered so far (+∞ before the first).</summary>
    public double BestScore { get; private set; } = double.PositiveInfinity;

    /// <summary>How many scores have been offered.</summary>
    public int Offers { get; private set; }

    /// <summary>The 1-based offer that gave <see cref="BestScore"/> (0 before the first).</summary>
    public int BestOffer { get; private set; }

    /// <summary>The offers (1-based) and scores whose weights are kept, in the order they were offered.</summary>
    public IReadOnlyList<(int Offer, double Score)> Kept => [.. kept.OrderBy(k => k.Offer).Select(k => (k.Offer, k.Score))];

    /// <summary>Copies the module's current weights if <paramref name="score"/> is among the <see cref="Keep"/> lowest
    /// so far (NaN never is), pushing out the worst kept copy when full; returns whether it is lower than every
    /// earlier score (a new best).</summary>
    public bool Offer(double score)
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        Offers++;
        if (double.IsNaN(score)) return false;
        if (kept.Count == Keep)
        {
            var worst = kept.MaxBy(k => (k.Score, k.Offer));
            if (!(score < worst.Score)) return false;
            kept.Remove(worst);
            worst.Weights.Dispose();
        }
        kept.Add((score, Offers, new WeightSnapshot(module)));
        if (!(score < BestScore)) return false;
        BestScore = score;
        BestOffer = Offers;
        return true;
    }

    /// <summary>Writes the best weights back into the module.</summary>
    /// <exception cref="InvalidOperationException">Nothing was offered yet.</exception>
    public void Restore()
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        if (kept.Count == 0)
            throw new InvalidOperationException("BestWeights.Restore: no score was offered yet, so there are no weights to restore.");
        kept.Single(k => k.Offer == BestOffer).Weights.Restore();
    }

    public void Dispose()
    {
        if (disposed) return;
        disposed = true;
        foreach (var k in kept) k.Weights.Dispose();
        kept.Clear();
    }
}
