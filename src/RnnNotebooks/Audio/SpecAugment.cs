using RnnNotebooks.Platform;
using static TorchSharp.torch;

namespace RnnNotebooks.Audio;

/// <summary>How many and how wide the SpecAugment masks are.</summary>
/// <param name="FrequencyMasks">Bands of features set to zero.</param>
/// <param name="MaxFrequencyWidth">Each band is 0…this many features wide.</param>
/// <param name="TimeMasks">Stretches of frames set to zero.</param>
/// <param name="MaxTimeWidth">Each stretch is 0…this many frames long…</param>
/// <param name="MaxTimeFraction">…and at most this fraction of the utterance.</param>
/// <remarks>Introduced in 05-speech-recognition.</remarks>
public sealed record SpecAugmentOptions(
    int FrequencyMasks = 2,
    int MaxFrequencyWidth = 6,
    int TimeMasks = 2,
    int MaxTimeWidth = 10,
    double MaxTimeFraction = 0.1);

/// <summary>SpecAugment-style masking (Park et al., 2019) without time warping: zero random feature bands and
/// frame stretches of normalised features (zero is each feature's mean), so the model cannot rely on any one.</summary>
/// <remarks>Introduced in 05-speech-recognition.</remarks>
public static class SpecAugment
{
    /// <summary>A masked copy of <paramref name="features"/> <c>[frames, dims]</c>; the input is not changed.
    /// The same <paramref name="random"/> state gives the same masks: <see cref="MaskFrequencies"/> (with zeros),
    /// then <see cref="MaskTimes"/>.</summary>
    public static Tensor Apply(Tensor features, Random random, SpecAugmentOptions? options = null)
    {
        options ??= new SpecAugmentOptions();
        using var scope = NewDisposeScope();
        return MaskTimes(MaskFrequencies(features, random, options), random, options).MoveToOuterDisposeScope();
    }

    /// <summary>A copy of <paramref name="features"/> <c>[frames, dims]</c> with <see cref="SpecAugmentOptions.FrequencyMasks"/>
    /// random bands of features set to zero (the mean of normalised features).</summary>
    public static Tensor MaskFrequencies(Tensor features, Random random, SpecAugmentOptions options)
    {
        Check(features, random, options);
        var dims = (int)features.shape[1];
        var masked = features.clone();
        for (var i = 0; i < options.FrequencyMasks; i++)
        {
            var width = random.Next(Math.Min(options.MaxFrequencyWidth, dims) + 1);
            var start = random.Next(dims - width + 1);
            if (width == 0) continue;
            using var band = masked[TensorIndex.Colon, TensorIndex.Slice(start, start + width)];
            band.fill_(Scalars.Zero);
        }
        return masked;
    }

    /// <summary>A copy of <paramref name="features"/> <c>[frames, dims]</c> with <see cref="SpecAugmentOptions.TimeMasks"/>
    /// random stretches of frames set to zero.</summary>
    public static Tensor MaskTimes(Tensor features, Random random, SpecAugmentOptions options)
    {
        Check(features, random, options);
        var frames = (int)features.shape[0];
        var masked = features.clone();
        var maxTime = Math.Min(options.MaxTimeWidth, (int)(options.MaxTimeFraction * frames));
        for (var i = 0; i < options.TimeMasks; i++)
        {
            var width = random.Next(Math.Max(0, maxTime) + 1);
            var start = random.Next(frames - width + 1);
            if (width > 0) using (var stretch = masked[TensorIndex.Slice(start, start + width), TensorIndex.Colon]) stretch.fill_(Scalars.Zero);
        }
        return masked;
    }

    static void Check(Tensor features, Random random, SpecAugmentOptions options)
    {
        ArgumentNullException.ThrowIfNull(features);
        ArgumentNullException.ThrowIfNull(random);
        ArgumentNullException.ThrowIfNull(options);
        if (features.dim() != 2)
            throw new ArgumentException($"Expected features [frames, dims], got [{string.Join(", ", features.shape)}].", nameof(features));
    }
}
