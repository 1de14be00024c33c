using RnnNotebooks.Platform;
using static TorchSharp.torch;

namespace RnnNotebooks.Audio;

/// <summary>How many and how wide the SpecAugment masks are.</summary>
/// <param name="FrequencyMasks">Bands of features set to zero.</param>
/// <param name="MaxFrequencyWidth">Each band is 0…this many features wide.</param>
/// <param name="TimeMasks">Stretches of frames set to zero.</param>
/// <param name="MaxTimeWidth">Each stretch is 0…this many frames long…</param>
/// <param name="MaxTimeFraction">…and at most this fraction of the utterance.</param>
/// <param name="MelBands">With MFCC features, mask bands of the log-mel spectrum before the DCT (each masked mel filter
/// set to its mean over the utterance, so it carries nothing that changes; bands 0…<paramref name="MaxFrequencyWidth"/>
/// filters wide), instead of cepstral coefficients. A band of filters is a stretch of frequencies, what SpecAugment's
/// frequency masks were designed to hide; a cepstral coefficient is a ripple across the whole spectrum. Kaldi's
/// recipes mask in that domain too, behind an inverse DCT. No effect on log-mel features. On lesson 05's development
/// voices it helped two of four and raised the mean CER (README), so it is off by default.</param>
/// <remarks>Introduced in 05-speech-recognition.</remarks>
public sealed record SpecAugmentOptions(
    int FrequencyMasks = 2,
    int MaxFrequencyWidth = 6,
    int TimeMasks = 2,
    int MaxTimeWidth = 10,
    double MaxTimeFraction = 0.1,
    bool MelBands = false);

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
    /// random bands of features masked: set to zero (the mean of normalised features), or with
    /// <paramref name="fillWithMean"/> to each feature's own mean over the frames (for features not yet normalised,
    /// such as the log-mel spectrum before the DCT).</summary>
    public static Tensor MaskFrequencies(Tensor features, Random random, SpecAugmentOptions options, bool fillWithMean = false)
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
            if (fillWithMean)
            {
                // The mean of the features as given, not of earlier masks' fill: a band that overlaps an earlier one
                // gets the same values there.
                using var original = features[TensorIndex.Colon, TensorIndex.Slice(start, start + width)];
                using var mean = original.mean([0], keepdim: true);
                band.copy_(mean.expand_as(band));
            }
            else band.fill_(Scalars.Zero);
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
