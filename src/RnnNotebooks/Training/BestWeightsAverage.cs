using TorchSharp;
using static TorchSharp.torch;

namespace RnnNotebooks.Training;

/// <summary>
/// Keeps copies of a module's weights at the <see cref="Count"/> validations with the lowest scores so far, and
/// ends training with their uniform average (<see cref="CheckpointAverage"/>) instead of the single best: the
/// "average the N best epochs" step of ESPnet's recipes, without writing every epoch to disk.
/// </summary>
/// <remarks>A score equal to the worst kept one does not replace it (earlier wins ties). The copies live outside every
/// dispose scope until they are pushed out or this object is disposed. Introduced in 05-speech-recognition.</remarks>
public sealed class BestWeightsAverage : IDisposable
{
    readonly nn.Module module;
    readonly List<(double Score, int Offer, WeightSnapshot Weights)> kept = [];

    /// <summary>Watches <paramref name="module"/>; nothing is copied until the first <see cref="Offer"/>.</summary>
    /// <param name="module">The module being trained.</param>
    /// <param name="count">How many of the best validations to keep and average (1 = the best alone).</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="count"/> is below 1.</exception>
    public BestWeightsAverage(nn.Module module, int count)
    {
        ArgumentNullException.ThrowIfNull(module);
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        this.module = module;
        Count = count;
    }

    /// <summary>How many of the best validations are kept.</summary>
    public int Count { get; }

    /// <summary>How many scores have been offered.</summary>
    public int Offers { get; private set; }

    /// <summary>The offers (1-based) and scores whose weights are kept, in the order they were offered.</summary>
    public IReadOnlyList<(int Offer, double Score)> Kept => [.. kept.OrderBy(k => k.Offer).Select(k => (k.Offer, k.Score))];

    /// <summary>Copies the module's weights if <paramref name="score"/> is among the <see cref="Count"/> lowest so far
    /// (NaN never is), pushing out the worst kept copy when full; returns whether it copied.</summary>
    public bool Offer(double score)
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        Offers++;
        if (double.IsNaN(score)) return false;
        if (kept.Count == Count)
        {
            var worst = kept.MaxBy(k => (k.Score, k.Offer));
            if (!(score < worst.Score)) return false;
            kept.Remove(worst);
            worst.Weights.Dispose();
        }
        kept.Add((score, Offers, new WeightSnapshot(module)));
        return true;
    }

    /// <summary>Writes the mean of the kept copies into the module.</summary>
    /// <exception cref="InvalidOperationException">Nothing was kept yet.</exception>
    public void RestoreAverage()
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        if (kept.Count == 0)
            throw new InvalidOperationException("BestWeightsAverage.RestoreAverage: no score was offered yet, so there are no weights to average.");
        CheckpointAverage.Into(module.state_dict(), [.. kept.Select(k => k.Weights.Weights)]);
    }

    bool disposed;

    public void Dispose()
    {
        if (disposed) return;
        disposed = true;
        foreach (var k in kept) k.Weights.Dispose();
        kept.Clear();
    }
}
