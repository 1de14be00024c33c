using TorchSharp;
using static TorchSharp.torch;

namespace RnnNotebooks.Training;

/// <summary>
/// An exponential moving average of a module's floating-point weights, kept beside the weights being trained:
/// after every update, <c>average ← d·average + (1 − d)·weights</c>. The average of the last few hundred updates
/// usually generalises better than the final weights, which sit wherever the last noisy step left them.
/// </summary>
/// <remarks>
/// Early on the decay is <c>min(d, (1 + n)/(10 + n))</c> after <c>n</c> updates, so the random initial weights are
/// forgotten quickly. Evaluate or save the average inside <see cref="Apply"/>; disposing its result puts the trained
/// weights back. Introduced in 05-speech-recognition.
/// </remarks>
public sealed class WeightAverage : IDisposable
{
    readonly List<(Tensor Weight, Tensor Average)> pairs;
    bool disposed;

    /// <param name="module">The module whose floating-point parameters and buffers are averaged.</param>
    /// <param name="decay">The decay <c>d</c> per update, in [0, 1); 0.998 averages over about the last 500 updates.</param>
    public WeightAverage(nn.Module module, double decay)
    {
        ArgumentNullException.ThrowIfNull(module);
        if (decay is < 0 or >= 1 or double.NaN)
            throw new ArgumentOutOfRangeException(nameof(decay), decay, "The decay must be in [0, 1), e.g. 0.998.");
        Decay = decay;
        using var noGrad = no_grad();
        pairs = [.. module.parameters().Cast<Tensor>().Concat(module.buffers()).Where(t => t.is_floating_point())
            .Select(t => (t, t.clone().DetachFromDisposeScope()))];
    }

    /// <summary>The decay per update, <c>d</c>.</summary>
    public double Decay { get; }

    /// <summary>How many updates have been averaged.</summary>
    public long Updates { get; private set; }

    /// <summary>The decay used for the next update: <c>min(d, (1 + n)/(10 + n))</c>.</summary>
    public double CurrentDecay => Math.Min(Decay, (1.0 + Updates) / (10.0 + Updates));

    /// <summary>Folds the module's current weights into the average; call it after every optimizer update.</summary>
    public void Update()
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        var d = CurrentDecay;
        using var noGrad = no_grad();
        // Explicit, disposed Scalars: an implicit double → Scalar can be finalized mid-call (README, Troubleshooting).
        using Scalar keep = d.ToScalar(), take = (1 - d).ToScalar();
        foreach (var (weight, average) in pairs)
            average.mul_(keep).add_(weight, alpha: take);
        Updates++;
    }

    /// <summary>Puts the averaged weights into the module until the result is disposed, which restores the
    /// weights being trained.</summary>
    public IDisposable Apply()
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        var saved = new List<Tensor>(pairs.Count);
        using (no_grad())
            foreach (var (weight, average) in pairs)
            {
                saved.Add(weight.clone().DetachFromDisposeScope());   // under no_grad: no graph
                weight.copy_(average);
            }
        return new Restorer(pairs, saved);
    }

    /// <summary>Copies the averaged weights into the module for good.</summary>
    public void CopyToModule()
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        using var noGrad = no_grad();
        foreach (var (weight, average) in pairs) weight.copy_(average);
    }

    sealed class Restorer(List<(Tensor Weight, Tensor Average)> pairs, List<Tensor> saved) : IDisposable
    {
        bool done;

        public void Dispose()
        {
            if (done) return;
            done = true;
            using var noGrad = no_grad();
            for (var i = 0; i < pairs.Count; i++)
            {
                pairs[i].Weight.copy_(saved[i]);
                saved[i].Dispose();
            }
        }
    }

    public void Dispose()
    {
        if (disposed) return;
        disposed = true;
        foreach (var (_, average) in pairs) average.Dispose();
    }
}
