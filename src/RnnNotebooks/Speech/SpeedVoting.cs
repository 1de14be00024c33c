using RnnNotebooks.Audio;

namespace RnnNotebooks.Speech;

/// <summary>Every clip's transcript after the vote, and what each speed heard.</summary>
/// <param name="Transcripts">The winning transcript of each clip, in order.</param>
/// <param name="Factors">The speeds, in the order given.</param>
/// <param name="BySpeed"><c>BySpeed[k][i]</c>: clip <c>i</c>'s transcript at speed <c>Factors[k]</c>.</param>
/// <remarks>Introduced in 05-speech-recognition.</remarks>
public sealed record SpeedVote(IReadOnlyList<string> Transcripts, IReadOnlyList<double> Factors,
    IReadOnlyList<IReadOnlyList<string>> BySpeed);

/// <summary>Test-time speed perturbation: recognise each clip played at several speeds and keep the transcript that
/// most of the speeds agree on.</summary>
/// <remarks>
/// Training saw every recording sped up or slowed down by up to 30 %, so the model knows voices higher, lower, faster
/// and slower than its training speakers'. An unheard voice is heard a little differently at each speed, and the
/// mistakes differ from speed to speed more than the right answers do, so a majority vote over the transcripts
/// removes some of them: an ensemble of one model over several views of the input, at the price of one recognition
/// per speed. The default speeds and the vote were chosen on the four development speakers' leave-one-out models
/// (docs/experiments/05-speech-recognition.md, "Adaptation and the speed vote").
/// Introduced in 05-speech-recognition.
/// </remarks>
public static class SpeedVoting
{
    /// <summary>Nine speeds from 0.8 to 1.2 in steps of 0.05.</summary>
    public static IReadOnlyList<double> DefaultFactors { get; } = [0.8, 0.85, 0.9, 0.95, 1.0, 1.05, 1.1, 1.15, 1.2];

    /// <summary>Throws unless <paramref name="factors"/> is a non-empty list of distinct positive numbers.</summary>
    /// <param name="factors">The speeds.</param>
    /// <param name="argument">The name the error message gives them (a parameter or a command-line option).</param>
    /// <exception cref="ArgumentException">Empty, not positive, or repeated.</exception>
    public static void ValidateFactors(IReadOnlyList<double> factors, string argument)
    {
        ArgumentNullException.ThrowIfNull(factors, argument);
        if (factors.Count == 0)
            throw new ArgumentException($"{argument}: give at least one speed factor (1 = as recorded).", argument);
        foreach (var f in factors)
            if (!(f > 0) || double.IsInfinity(f))
                throw new ArgumentException($"{argument}: speed factor {f} is not a positive number (e.g. 0.9 = 10 % slower).", argument);
        if (factors.Distinct().Count() != factors.Count)
            throw new ArgumentException($"{argument}: speed factors repeat ({string.Join(", ", factors)}); each speed votes once.", argument);
    }

    /// <summary>The transcript given by the most speeds. A tie goes to the transcript heard at the speed closest to 1
    /// (the recording as it is), and between two equally close speeds to the one listed first.</summary>
    /// <param name="hypotheses">One transcript per speed.</param>
    /// <param name="factors">The speed of each transcript.</param>
    /// <exception cref="ArgumentException">Counts differ, or no hypothesis.</exception>
    public static string Vote(IReadOnlyList<string> hypotheses, IReadOnlyList<double> factors)
    {
        ArgumentNullException.ThrowIfNull(hypotheses);
        ArgumentNullException.ThrowIfNull(factors);
        if (hypotheses.Count != factors.Count)
            throw new ArgumentException($"{hypotheses.Count} transcripts but {factors.Count} speeds.", nameof(factors));
        if (hypotheses.Count == 0) throw new ArgumentException("Nothing to vote on.", nameof(hypotheses));
        // Rank each speed by closeness to 1 (then by position); a transcript's rank is that of its best speed. The
        // distance is rounded so that 0.95 and 1.05 count as equally near despite binary fractions.
        var rank = Enumerable.Range(0, factors.Count).OrderBy(k => Math.Round(Math.Abs(factors[k] - 1), 9)).ThenBy(k => k)
            .Select((k, r) => (k, r)).ToDictionary(p => p.k, p => p.r);
        return Enumerable.Range(0, hypotheses.Count)
            .GroupBy(k => hypotheses[k], StringComparer.Ordinal)
            .OrderByDescending(g => g.Count())
            .ThenBy(g => g.Min(k => rank[k]))
            .First().Key;
    }

    /// <summary>Transcribes clips at every speed and votes per clip.</summary>
    /// <param name="recognizer">The recognizer.</param>
    /// <param name="clips">The clips.</param>
    /// <param name="factors">The speeds (<see cref="DefaultFactors"/> when null).</param>
    /// <param name="decoding">How each speed's transcript is decoded.</param>
    /// <param name="oneVoice">The clips are one voice: at each speed, normalise with statistics over all of them
    /// (as <see cref="SpeechRecognizer.SpeakerStatistics"/>); false normalises each clip alone.</param>
    /// <exception cref="ArgumentException">Bad speeds (<see cref="ValidateFactors"/>).</exception>
    public static SpeedVote Transcribe(SpeechRecognizer recognizer, IReadOnlyList<AudioClip> clips,
        IReadOnlyList<double>? factors = null, CtcDecoding decoding = CtcDecoding.Lexicon, bool oneVoice = true)
    {
        ArgumentNullException.ThrowIfNull(recognizer);
        ArgumentNullException.ThrowIfNull(clips);
        factors ??= DefaultFactors;
        ValidateFactors(factors, nameof(factors));
        var bySpeed = new List<IReadOnlyList<string>>(factors.Count);
        foreach (var factor in factors)
        {
            var played = clips.Select(c => c.WithSpeed(factor)).ToList();
            using var stats = oneVoice && played.Count > 0 ? recognizer.SpeakerStatistics(played) : null;
            bySpeed.Add([.. played.Select(c => recognizer.Transcribe(c, decoding, stats))]);
        }
        var voted = Enumerable.Range(0, clips.Count).Select(i => Vote([.. bySpeed.Select(t => t[i])], factors)).ToList();
        return new SpeedVote(voted, [.. factors], bySpeed);
    }
}
