namespace RnnNotebooks.Audio;

/// <summary>Changes the sample rate of mono audio with a windowed-sinc low-pass interpolator.</summary>
/// <remarks>
/// Each output sample at input position <c>t = n · from / to</c> is
/// <c>Σ_k x[k] · c · sinc(c · (t − k)) · w((t − k) / half)</c>, where <c>c = min(1, to / from)</c> is the
/// cutoff relative to the input's Nyquist frequency (so down-sampling removes what the new rate cannot hold)
/// and <c>w</c> is a Hann window over ±<c>half</c> input samples (<see cref="ZeroCrossings"/> zero crossings of
/// the sinc). Direct evaluation, O(samples × taps): fine for the seconds-long clips of the course.
/// Also used for speed perturbation: <c>Resample(x, from, to)</c> played back at <c>from</c> is
/// <c>from / to</c> times faster.
/// Introduced in 05-speech-recognition.
/// </remarks>
public static class Resampler
{
    /// <summary>Zero crossings of the sinc on each side of the centre tap.</summary>
    public const int ZeroCrossings = 16;

    /// <summary>Resamples <paramref name="clip"/> to <paramref name="targetRate"/> (a copy when the rate already matches).</summary>
    public static AudioClip Resample(AudioClip clip, int targetRate)
    {
        ArgumentNullException.ThrowIfNull(clip);
        return clip.SampleRate == targetRate
            ? clip with { Samples = (float[])clip.Samples.Clone() }
            : new AudioClip(Resample(clip.Samples, clip.SampleRate, targetRate), targetRate);
    }

    /// <summary>Resamples <paramref name="samples"/> taken at <paramref name="fromRate"/> to <paramref name="toRate"/>.</summary>
    public static float[] Resample(float[] samples, double fromRate, double toRate)
    {
        ArgumentNullException.ThrowIfNull(samples);
        if (!(fromRate > 0) || !(toRate > 0))
            throw new ArgumentOutOfRangeException(nameof(fromRate), $"Sample rates must be positive, got {fromRate} → {toRate}.");
        var step = fromRate / toRate;                       // input samples per output sample
        var cutoff = Math.Min(1.0, toRate / fromRate);
        var half = ZeroCrossings / cutoff;                  // window half-width in input samples
        var outLength = (int)Math.Floor(samples.Length / step);
        var output = new float[outLength];
        // The sinc numerator sin(π·c·d) and the window's cos(π·d / half) advance by a fixed angle from one tap
        // to the next (d falls by 1), so they are rotated instead of recomputed: two sin/cos pairs per output
        // sample instead of two per tap.
        double stepA = Math.PI * cutoff, cosStepA = Math.Cos(stepA), sinStepA = Math.Sin(stepA);
        double stepB = Math.PI / half, cosStepB = Math.Cos(stepB), sinStepB = Math.Sin(stepB);
        for (var n = 0; n < outLength; n++)
        {
            var t = n * step;
            var first = Math.Max(0, (int)Math.Ceiling(t - half));
            var last = Math.Min(samples.Length - 1, (int)Math.Floor(t + half));
            var d = t - first;
            double sinA = Math.Sin(stepA * d), cosA = Math.Cos(stepA * d);
            double sinB = Math.Sin(stepB * d), cosB = Math.Cos(stepB * d);
            double sum = 0;
            for (var k = first; k <= last; k++, d -= 1)
            {
                var x = cutoff * d;
                var sinc = Math.Abs(x) < 1e-9 ? 1.0 : sinA / (Math.PI * x);
                sum += samples[k] * cutoff * sinc * (0.5 + 0.5 * cosB);
                (sinA, cosA) = (sinA * cosStepA - cosA * sinStepA, cosA * cosStepA + sinA * sinStepA);
                (sinB, cosB) = (sinB * cosStepB - cosB * sinStepB, cosB * cosStepB + sinB * sinStepB);
            }
            output[n] = (float)sum;
        }
        return output;
    }

}
