using RnnNotebooks.Platform;
using TorchSharp;
using static TorchSharp.torch;

namespace RnnNotebooks.Audio;

/// <summary>How audio becomes a feature matrix. Saved beside a speech model so decoding uses the same settings.</summary>
/// <param name="SampleRate">Rate the audio is resampled to before anything else.</param>
/// <param name="NFft">FFT size (zero-padded frame length); gives <c>NFft / 2 + 1</c> frequency bins.</param>
/// <param name="WinLength">Hann window length in samples (≤ NFft); 200 = 25 ms at 8 kHz.</param>
/// <param name="HopLength">Samples between frame centres; 80 = 10 ms at 8 kHz.</param>
/// <param name="NMels">Mel filters.</param>
/// <param name="FMin">Lowest filter edge in hertz.</param>
/// <param name="FMax">Highest filter edge in hertz; null = the Nyquist frequency.</param>
/// <param name="Scale">Mel formula (HTK by default).</param>
/// <param name="Norm">Filter scaling (peak 1 by default).</param>
/// <param name="Mfcc">0 for log-mel features; otherwise keep this many DCT-II coefficients of the log-mel (MFCC).</param>
/// <param name="Normalize">Per-utterance mean and variance normalisation of each feature over time.</param>
/// <param name="LogFloor">Mel energies are clamped to at least this before the log (silence stays finite).</param>
/// <remarks>Introduced in 05-speech-recognition.</remarks>
public sealed record FeatureOptions(
    int SampleRate = 8000,
    int NFft = 256,
    int WinLength = 200,
    int HopLength = 80,
    int NMels = 40,
    double FMin = 20,
    double? FMax = null,
    MelScale Scale = MelScale.Htk,
    MelNorm Norm = MelNorm.Peak,
    int Mfcc = 0,
    bool Normalize = true,
    double LogFloor = 1e-6)
{
    /// <summary>Features per frame: <see cref="Mfcc"/> if set, else <see cref="NMels"/>.</summary>
    public int Dimension => Mfcc > 0 ? Mfcc : NMels;

    /// <summary>Frames for a clip of <paramref name="samples"/> samples: <c>1 + max(samples, NFft/2 + 1) / HopLength</c>
    /// (frames are centred, as in <c>torch.stft(center: true)</c>; very short clips are zero-padded first).</summary>
    public int FrameCount(int samples) => 1 + Math.Max(samples, NFft / 2 + 1) / HopLength;

    internal void Validate()
    {
        if (SampleRate <= 0 || NFft < 2 || WinLength < 1 || WinLength > NFft || HopLength < 1 || NMels < 1)
            throw new ArgumentException(
                $"Invalid feature options: need SampleRate > 0, 2 ≤ NFft, 1 ≤ WinLength ≤ NFft, HopLength ≥ 1, NMels ≥ 1 (got {this}).");
        if (Mfcc < 0 || Mfcc > NMels)
            throw new ArgumentException($"Mfcc must be between 0 and NMels ({NMels}), got {Mfcc}.");
    }
}

/// <summary>
/// Log-mel (or MFCC) features from <c>torch.stft</c>: power spectrogram → mel filterbank → log → (DCT) →
/// per-utterance normalisation. Holds the window, filterbank and DCT tensors; dispose it when done.
/// </summary>
/// <remarks>Introduced in 05-speech-recognition.</remarks>
public sealed class LogMelFeatures : IDisposable
{
    readonly Tensor window;      // [WinLength]
    readonly Tensor filterbank;  // [NFft/2+1, NMels]
    readonly Tensor? dct;        // [NMels, Mfcc]
    // Held for the object's life: a Scalar made implicitly for one call can be freed by the finalizer during that call
    // (Platform.Scalars), and features are computed thousands of times (nine speeds a string when voting).
    readonly Scalar logFloor;

    public LogMelFeatures(FeatureOptions? options = null)
    {
        Options = options ?? new FeatureOptions();
        Options.Validate();
        window = hann_window(Options.WinLength, periodic: true);
        filterbank = MelFilterbank.Create(Options.NFft, Options.SampleRate, Options.NMels, Options.FMin, Options.FMax,
            Options.Scale, Options.Norm);
        dct = Options.Mfcc > 0 ? DctMatrix(Options.NMels, Options.Mfcc) : null;
        logFloor = Options.LogFloor.ToScalar();
    }

    /// <summary>The settings these features were built with.</summary>
    public FeatureOptions Options { get; }

    /// <summary>Features of a clip, resampled to <see cref="FeatureOptions.SampleRate"/> if needed: <c>[frames, Dimension]</c>.</summary>
    /// <param name="clip">The audio.</param>
    public Tensor Compute(AudioClip clip)
    {
        ArgumentNullException.ThrowIfNull(clip);
        var samples = clip.SampleRate == Options.SampleRate
            ? clip.Samples
            : Resampler.Resample(clip.Samples, clip.SampleRate, Options.SampleRate);
        return Compute(samples);
    }

    /// <summary>Features of samples already at <see cref="FeatureOptions.SampleRate"/>: <c>[frames, Dimension]</c>.</summary>
    /// <param name="samples">The audio.</param>
    public Tensor Compute(float[] samples)
    {
        ArgumentNullException.ThrowIfNull(samples);
        using var scope = NewDisposeScope();
        var minLength = Options.NFft / 2 + 1;               // reflect padding needs more samples than NFft / 2
        if (samples.Length < minLength)
        {
            var padded = new float[minLength];
            samples.CopyTo(padded, 0);
            samples = padded;
        }
        var x = tensor(samples);
        var spec = stft(x, Options.NFft, Options.HopLength, Options.WinLength, window, center: true,
            return_complex: true);                                              // [bins, frames] complex
        var magnitude = spec.abs();
        var power = magnitude.mul(magnitude);                                   // [bins, frames]; no Scalar, unlike square()
        var mel = power.t().matmul(filterbank);                                 // [frames, NMels]
        var features = mel.clamp_min(logFloor).log();
        if (dct is not null) features = features.matmul(dct);                   // [frames, Mfcc]
        if (Options.Normalize) features = NormalizeUtterance(features);
        return features.contiguous().MoveToOuterDisposeScope();
    }

    /// <summary>Subtracts each feature's mean over time and divides by its standard deviation.</summary>
    public static Tensor NormalizeUtterance(Tensor features)
    {
        using var scope = NewDisposeScope();
        var mean = features.mean([0], keepdim: true);
        var std = features.var(0, unbiased: false, keepdim: true).add(Scalars.VarianceFloor, Scalars.One).sqrt();
        return features.sub(mean).div(std).MoveToOuterDisposeScope();
    }

    /// <summary>Orthonormal DCT-II basis <c>[n, k]</c>: <c>logMel · basis</c> gives the first k cepstral coefficients.</summary>
    public static Tensor DctMatrix(int n, int k)
    {
        var m = new float[n * k];
        for (var i = 0; i < n; i++)
            for (var j = 0; j < k; j++)
                m[i * k + j] = (float)(Math.Sqrt((j == 0 ? 1.0 : 2.0) / n) * Math.Cos(Math.PI * j * (i + 0.5) / n));
        return tensor(m, [n, k]);
    }

    public void Dispose()
    {
        window.Dispose();
        filterbank.Dispose();
        dct?.Dispose();
        logFloor.Dispose();
    }
}
