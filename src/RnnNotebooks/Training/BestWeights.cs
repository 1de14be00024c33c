using TorchSharp;
using static TorchSharp.torch;

namespace RnnNotebooks.Training;

/// <summary>
/// Keeps a copy of a module's weights from the point where a validation score (lower is better) was best, so
/// training can run past that point and still end with the best model: <c>Offer</c> after each validation,
/// <c>Restore</c> at the end.
/// </summary>
/// <remarks>The copies live outside every dispose scope until this object is disposed or a better score replaces
/// them. Introduced in 05-speech-recognition.</remarks>
public sealed class BestWeights : IDisposable
{
    readonly nn.Module module;
    WeightSnapshot? saved;

    /// <summary>Watches <paramref name="module"/>; nothing is copied until the first <see cref="Offer"/>.</summary>
    public BestWeights(nn.Module module)
    {
        ArgumentNullException.ThrowIfNull(module);
        this.module = module;
    }

    /// <summary>The best score offered so far (+∞ before the first).</summary>
    public double BestScore { get; private set; } = double.PositiveInfinity;

    /// <summary>How many scores have been offered.</summary>
    public int Offers { get; private set; }

    /// <summary>The 1-based offer that gave <see cref="BestScore"/> (0 before the first).</summary>
    public int BestOffer { get; private set; }

    /// <summary>Copies the module's current weights if <paramref name="score"/> is lower than every earlier one
    /// (NaN never is); returns whether it did.</summary>
    public bool Offer(double score)
    {
        Offers++;
        if (!(score < BestScore)) return false;
        var copy = new WeightSnapshot(module);
        saved?.Dispose();
        saved = copy;
        BestScore = score;
        BestOffer = Offers;
        return true;
    }

    /// <summary>Writes the best weights back into the module.</summary>
    /// <exception cref="InvalidOperationException">Nothing was offered yet.</exception>
    public void Restore()
    {
        if (saved is null)
            throw new InvalidOperationException("BestWeights.Restore: no score was offered yet, so there are no weights to restore.");
        saved.Restore();
    }

    public void Dispose()
    {
        saved?.Dispose();
        saved = null;
    }
}
