using static TorchSharp.torch;

namespace RnnNotebooks.Audio;

/// <summary>Which hertz-to-mel formula a filterbank uses.</summary>
public enum MelScale
{
    /// <summary>HTK: <c>mel = 2595 · log10(1 + f / 700)</c>.</summary>
    Htk,
    /// <summary>Slaney (Auditory Toolbox): linear below 1 kHz (<c>f / (200/3)</c>), logarithmic above
    /// (<c>15 + 27 · ln(f / 1000) / ln 6.4</c>).</summary>
    Slaney,
}

/// <summary>How each triangular filter is scaled.</summary>
public enum MelNorm
{
    /// <summary>Every triangle peaks at 1 at its centre frequency; neighbouring triangles sum to 1 between
    /// the first and last centre.</summary>
    Peak,
    /// <summary>Slaney's area normalisation: each triangle is scaled by <c>2 / (right − left)</c> hertz, so
    /// every filter has the same area (wide high-frequency filters get a lower peak).</summary>
    Area,
}

/// <summary>Triangular mel filters that turn a power spectrum into a mel spectrum.</summary>
/// <remarks>
/// <c>nMels + 2</c> points equally spaced on the mel scale from <c>fMin</c> to <c>fMax</c>; filter <c>m</c>
/// rises linearly from point <c>m</c> to point <c>m + 1</c> (its centre) and falls to point <c>m + 2</c>.
/// Weights are the triangle evaluated at the FFT bin frequencies <c>k · sampleRate / nFft</c>, so a filter's
/// largest weight is 1 (<see cref="MelNorm.Peak"/>) only when a bin falls exactly on its centre.
/// Introduced in 05-speech-recognition.
/// </remarks>
public static class MelFilterbank
{
    /// <summary>Hertz to mel on <paramref name="scale"/>.</summary>
    public static double HzToMel(double hz, MelScale scale = MelScale.Htk) => scale switch
    {
        MelScale.Htk => 2595.0 * Math.Log10(1.0 + hz / 700.0),
        _ => hz < 1000.0 ? hz / (200.0 / 3.0) : 15.0 + Math.Log(hz / 1000.0) * 27.0 / Math.Log(6.4),
    };

    /// <summary>Mel to hertz on <paramref name="scale"/> (the inverse of <see cref="HzToMel"/>).</summary>
    public static double MelToHz(double mel, MelScale scale = MelScale.Htk) => scale switch
    {
        MelScale.Htk => 700.0 * (Math.Pow(10.0, mel / 2595.0) - 1.0),
        _ => mel < 15.0 ? mel * (200.0 / 3.0) : 1000.0 * Math.Exp((mel - 15.0) * Math.Log(6.4) / 27.0),
    };

    /// <summary>The <c>nMels + 2</c> edge frequencies in hertz: left edge, then the centres, then the right edge.</summary>
    public static double[] EdgeFrequencies(int nMels, double fMin, double fMax, MelScale scale = MelScale.Htk)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(nMels, 1);
        if (!(fMin >= 0) || !(fMax > fMin))
            throw new ArgumentOutOfRangeException(nameof(fMax), $"Expected 0 ≤ fMin < fMax, got {fMin}..{fMax} Hz.");
        var lo = HzToMel(fMin, scale);
        var hi = HzToMel(fMax, scale);
        return [.. Enumerable.Range(0, nMels + 2).Select(i => MelToHz(lo + (hi - lo) * i / (nMels + 1), scale))];
    }

    /// <summary>The filter weights as <c>[nFft / 2 + 1, nMels]</c> doubles: <c>melSpectrum = power · weights</c>.</summary>
    public static double[,] Weights(int nFft, int sampleRate, int nMels, double fMin = 0, double? fMax = null,
        MelScale scale = MelScale.Htk, MelNorm norm = MelNorm.Peak)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(nFft, 2);
        var top = fMax ?? sampleRate / 2.0;
        if (top > sampleRate / 2.0 + 1e-9)
            throw new ArgumentOutOfRangeException(nameof(fMax), $"fMax {top} Hz is above the Nyquist frequency {sampleRate / 2.0} Hz.");
        var edges = EdgeFrequencies(nMels, fMin, top, scale);
        var bins = nFft / 2 + 1;
        var w = new double[bins, nMels];
        for (var m = 0; m < nMels; m++)
        {
            double left = edges[m], centre = edges[m + 1], right = edges[m + 2];
            var scaleBy = norm == MelNorm.Area ? 2.0 / (right - left) : 1.0;
            for (var k = 0; k < bins; k++)
            {
                var f = (double)k * sampleRate / nFft;
                var rise = (f - left) / (centre - left);
                var fall = (right - f) / (right - centre);
                w[k, m] = Math.Max(0.0, Math.Min(rise, fall)) * scaleBy;
            }
        }
        return w;
    }

    /// <summary><see cref="Weights"/> as a float32 tensor <c>[nFft / 2 + 1, nMels]</c>.</summary>
    public static Tensor Create(int nFft, int sampleRate, int nMels, double fMin = 0, double? fMax = null,
        MelScale scale = MelScale.Htk, MelNorm norm = MelNorm.Peak)
    {
        var w = Weights(nFft, sampleRate, nMels, fMin, fMax, scale, norm);
        var flat = new float[w.Length];
        var i = 0;
        foreach (var v in w) flat[i++] = (float)v;
        return tensor(flat, [w.GetLength(0), w.GetLength(1)]);
    }
}
