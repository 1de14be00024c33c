using TorchSharp;
using RnnNotebooks.Platform;
using static TorchSharp.torch;

namespace RnnNotebooks.Audio;

/// <summary>
/// Each feature's mean and standard deviation over many frames, e.g. over everything one speaker said: the
/// statistics for per-speaker mean and variance normalisation (CMVN), which removes a voice's and a microphone's
/// average colouring while keeping what tells one word from another.
/// </summary>
/// <remarks>
/// Per-utterance normalisation (<see cref="LogMelFeatures.NormalizeUtterance"/>) also subtracts the average of the
/// words themselves: a one-word utterance loses part of what makes it that word. Introduced in 05-speech-recognition.
/// </remarks>
public sealed class FeatureStatistics : IDisposable
{
    FeatureStatistics(Tensor mean, Tensor std, long frames)
    {
        Mean = mean;
        Std = std;
        Frames = frames;
    }

    /// <summary>Mean of each feature, <c>[1, features]</c>.</summary>
    public Tensor Mean { get; }

    /// <summary>Standard deviation of each feature (population, plus 1e-5 under the root), <c>[1, features]</c>.</summary>
    public Tensor Std { get; }

    /// <summary>How many frames the statistics were computed over.</summary>
    public long Frames { get; }

    /// <summary>The statistics of all frames of <paramref name="features"/> (each <c>[frames, features]</c>),
    /// accumulated in double precision.</summary>
    /// <exception cref="ArgumentException">No frames, or utterances with different feature counts.</exception>
    public static FeatureStatistics Of(IEnumerable<Tensor> features)
    {
        ArgumentNullException.ThrowIfNull(features);
        using var scope = NewDisposeScope();
        Tensor? sum = null, squares = null;
        long frames = 0, width = -1;
        foreach (var f in features)
        {
            if (f.dim() != 2) throw new ArgumentException($"Expected features [frames, features], got [{string.Join(", ", f.shape)}].", nameof(features));
            if (width >= 0 && f.shape[1] != width)
                throw new ArgumentException($"Utterances have {width} and {f.shape[1]} features per frame; they must agree.", nameof(features));
            width = f.shape[1];
            var d = f.to(ScalarType.Float64);
            // No implicit Scalars (alpha of add_, the 2 of square): see Platform.Scalars.
            sum = sum is null ? d.sum([0], keepdim: true) : sum.add_(d.sum([0], keepdim: true), Scalars.One);
            var squared = d.mul(d).sum([0], keepdim: true);
            squares = squares is null ? squared : squares.add_(squared, Scalars.One);
            frames += f.shape[0];
        }
        if (frames == 0 || sum is null || squares is null)
            throw new ArgumentException("No frames to compute feature statistics from: give at least one non-empty utterance.", nameof(features));
        using Scalar count = ((double)frames).ToScalar(), zero = 0.0.ToScalar();
        var mean = sum.div(count);
        var variance = squares.div(count).sub(mean.mul(mean)).clamp_min(zero);
        var std = variance.add(Scalars.VarianceFloor, Scalars.One).sqrt();
        return new FeatureStatistics(mean.to(ScalarType.Float32).MoveToOuterDisposeScope(),
            std.to(ScalarType.Float32).MoveToOuterDisposeScope(), frames);
    }

    /// <summary><c>(features − mean) / std</c>, feature by feature.</summary>
    /// <exception cref="ArgumentException">The feature count differs from the statistics'.</exception>
    public Tensor Normalize(Tensor features)
    {
        ArgumentNullException.ThrowIfNull(features);
        if (features.dim() != 2 || features.shape[1] != Mean.shape[1])
            throw new ArgumentException(
                $"Features [{string.Join(", ", features.shape)}] do not match statistics of {Mean.shape[1]} features per frame.", nameof(features));
        return features.sub(Mean).div(Std);
    }

    public void Dispose()
    {
        Mean.Dispose();
        Std.Dispose();
    }
}
