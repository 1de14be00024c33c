namespace RnnNotebooks.Audio;

/// <summary>Whether a clip holds anything a recognizer should transcribe, and if not, why.</summary>
/// <param name="HasSpeech">True when something rises above the background for long enough to be a word.</param>
/// <param name="Reason">Why not (null when <paramref name="HasSpeech"/>): "silent", "steady" or "too short".</param>
/// <param name="PeakDb">The loudest frame's level, dB relative to full scale.</param>
/// <param name="RiseDb">How far the loudest frame stands above the quietest tenth of the frames, dB.</param>
/// <param name="LoudSeconds">How long frames within <see cref="VoiceActivity.LoudRangeDb"/> of the loudest last in all.</param>
/// <remarks>Introduced in 05-speech-recognition.</remarks>
public sealed record VoiceActivityResult(bool HasSpeech, string? Reason, double PeakDb, double RiseDb, double LoudSeconds);

/// <summary>
/// An energy rule for "is anything said here?", checked before a clip is transcribed: a CTC model given silence,
/// steady noise or a click still emits its likeliest labels, i.e. invents digits. A clip counts as speech when its
/// loudest 25 ms frame is above <see cref="SilenceDb"/>, stands at least <see cref="MinRiseDb"/> above the quietest
/// tenth of its frames (steady noise and hum do not: their frames differ by about 1–2 dB), and frames within
/// <see cref="LoudRangeDb"/> of it last at least <see cref="MinLoudSeconds"/> (a click or a 10 ms beep does not).
/// </summary>
/// <remarks>
/// The thresholds leave a margin on both sides: every one of FSDD's 2,500 recordings, cut tight to the word, passes
/// (the quietest peaks at −48 dBFS, the smallest rise is 4.5 dB, the shortest loud part 0.1 s), while 10 s of white
/// noise rises 1.4–1.7 dB. A steady tone or a long beep counts as speech: the rule hears events, not words.
/// Introduced in 05-speech-recognition.
/// </remarks>
public static class VoiceActivity
{
    /// <summary>A clip whose loudest frame is below this level (dBFS) is silent.</summary>
    public const double SilenceDb = -60;

    /// <summary>The loudest frame must stand this far (dB) above the quietest tenth of the frames.</summary>
    public const double MinRiseDb = 3;

    /// <summary>Frames within this many dB of the loudest count as its loud part.</summary>
    public const double LoudRangeDb = 30;

    /// <summary>The loud part must last this long (seconds, counted in 10 ms hops).</summary>
    public const double MinLoudSeconds = 0.06;

    const double FrameSeconds = 0.025;
    const double HopSeconds = 0.010;

    /// <summary>Measures <paramref name="clip"/> and applies the rule.</summary>
    /// <exception cref="ArgumentNullException"><paramref name="clip"/> is null.</exception>
    public static VoiceActivityResult Detect(AudioClip clip)
    {
        ArgumentNullException.ThrowIfNull(clip);
        var levels = FrameLevels(clip);
        if (levels.Length == 0) return new VoiceActivityResult(false, "silent", double.NegativeInfinity, 0, 0);
        var sorted = levels.Order().ToArray();
        var peak = sorted[^1];
        var rise = peak - sorted[(int)(0.1 * (sorted.Length - 1))];
        var loud = levels.Count(l => l >= peak - LoudRangeDb) * HopSeconds;
        var reason = peak < SilenceDb ? "silent"
            : rise < MinRiseDb ? "steady"
            : loud < MinLoudSeconds ? "too short"
            : null;
        return new VoiceActivityResult(reason is null, reason, peak, rise, loud);
    }

    /// <summary>Each 25 ms frame's mean power in dB relative to full scale, every 10 ms; one frame for a shorter clip.</summary>
    static double[] FrameLevels(AudioClip clip)
    {
        var x = clip.Samples;
        if (x.Length == 0) return [];
        var window = Math.Min(x.Length, Math.Max(1, (int)Math.Round(FrameSeconds * clip.SampleRate)));
        var hop = Math.Max(1, (int)Math.Round(HopSeconds * clip.SampleRate));
        var levels = new List<double>();
        for (var start = 0; start + window <= x.Length; start += hop)
        {
            double sum = 0;
            for (var i = start; i < start + window; i++) sum += (double)x[i] * x[i];
            levels.Add(10 * Math.Log10(sum / window + 1e-10));
        }
        return [.. levels];
    }
}
