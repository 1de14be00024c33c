using TorchSharp;
using static TorchSharp.torch;

namespace RnnNotebooks.Training;

/// <summary>
/// The uniform average of several sets of weights of one architecture: every floating-point entry of the state dict
/// becomes the mean of that entry over the sources. Averaging the checkpoints of a few late epochs of one run (or its
/// few best by validation, as ESPnet recipes do) lands nearer the middle of the region training wandered through, which
/// tends to generalise better than any one of them; it costs nothing at recognition time, unlike an ensemble.
/// </summary>
/// <remarks>Checkpoints of different runs (different seeds) are not averaged this way: their hidden units are not in
/// the same order, so their mean is not a model of either. Introduced in 05-speech-recognition.</remarks>
public static class CheckpointAverage
{
    /// <summary>Writes the mean of <paramref name="sources"/>' weights into <paramref name="target"/> (which may be one
    /// of them). Integer entries (counters) are taken from the first source.</summary>
    /// <param name="target">Receives the average; its state dict must have the sources' names and shapes.</param>
    /// <param name="sources">One or more modules of the same architecture.</param>
    /// <param name="names">What to call each source in errors (e.g. its directory); defaults to its position.</param>
    /// <exception cref="ArgumentException">No sources, or a source whose entries' names or shapes differ from the
    /// target's (the error names the source and the entry).</exception>
    public static void Into(nn.Module target, IReadOnlyList<nn.Module> sources, IReadOnlyList<string>? names = null)
    {
        ArgumentNullException.ThrowIfNull(target);
        ArgumentNullException.ThrowIfNull(sources);
        if (sources.Count == 0) throw new ArgumentException("Give at least one set of weights to average.", nameof(sources));
        if (names is not null && names.Count != sources.Count)
            throw new ArgumentException($"{sources.Count} sources but {names.Count} names.", nameof(names));
        Into(target.state_dict(), [.. sources.Select(m => (IReadOnlyDictionary<string, Tensor>)m.state_dict())], names);
    }

    /// <summary>The same over state dicts (e.g. <see cref="WeightSnapshot"/>s' copies): writes into
    /// <paramref name="targetState"/>'s tensors.</summary>
    internal static void Into(IReadOnlyDictionary<string, Tensor> targetState, IReadOnlyList<IReadOnlyDictionary<string, Tensor>> states,
        IReadOnlyList<string>? names = null)
    {
        if (states.Count == 0) throw new ArgumentException("Give at least one set of weights to average.", "sources");
        string Name(int i) => names?[i] ?? $"source {i + 1}";
        for (var i = 0; i < states.Count; i++)
        {
            var missing = targetState.Keys.Except(states[i].Keys).Concat(states[i].Keys.Except(targetState.Keys)).FirstOrDefault();
            if (missing is not null)
                throw new ArgumentException($"{Name(i)}: its weights do not match (entry '{missing}' is in one but not the other); " +
                    "only checkpoints of the same model sizes can be averaged.", "sources");
            foreach (var (key, t) in targetState)
                if (!t.shape.SequenceEqual(states[i][key].shape))
                    throw new ArgumentException($"{Name(i)}: '{key}' has shape [{string.Join(", ", states[i][key].shape)}], " +
                        $"expected [{string.Join(", ", t.shape)}]; only checkpoints of the same model sizes can be averaged.", "sources");
        }
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        // Explicit, disposed Scalars: an implicit number → Scalar can be finalized mid-call (README, Troubleshooting).
        using Scalar share = (1.0 / states.Count).ToScalar();
        var means = new Dictionary<string, Tensor>();
        foreach (var (key, t) in targetState)
        {
            if (!t.is_floating_point()) { means[key] = states[0][key].clone(); continue; }
            var sum = zeros_like(t, dtype: ScalarType.Float64);
            foreach (var state in states) sum.add_(state[key].to(ScalarType.Float64), alpha: Platform.Scalars.One);
            means[key] = sum.mul_(share).to(t.dtype);
        }
        // Written only after every mean is computed: the target may be one of the sources.
        foreach (var (key, t) in targetState) t.copy_(means[key]);
    }
}
