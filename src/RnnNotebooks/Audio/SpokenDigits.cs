using System.Globalization;
using System.Text.RegularExpressions;
using RnnNotebooks.Data;

namespace RnnNotebooks.Audio;

/// <summary>One isolated FSDD recording, <c>recordings/{digit}_{speaker}_{index}.wav</c>.</summary>
/// <param name="Digit">The spoken digit, 0–9.</param>
/// <param name="Speaker">The speaker's name (george, jackson, …).</param>
/// <param name="Index">Repetition 0–49; 0–4 form the official test split.</param>
/// <param name="Path">Full path of the WAV file.</param>
/// <remarks>Introduced in 05-speech-recognition.</remarks>
public sealed record DigitRecording(int Digit, string Speaker, int Index, string Path)
{
    /// <summary>Indices 0–4 of each speaker and digit are the dataset's official test split.</summary>
    public bool IsOfficialTest => Index < 5;

    /// <summary>The spoken word ("seven").</summary>
    public string Word => SpokenDigits.Words[Digit];
}

/// <summary>The Free Spoken Digit Dataset: listing its recordings and the words they say.</summary>
/// <remarks>Introduced in 05-speech-recognition.</remarks>
public static partial class SpokenDigits
{
    /// <summary>The word for each digit, index = digit.</summary>
    public static IReadOnlyList<string> Words { get; } =
        ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"];

    /// <summary>The letters of the ten words, alphabetically: "efghinorstuvwxz" (a speech model's output letters,
    /// see <see cref="Text.Vocabulary.ForCtc"/>).</summary>
    public static string Letters { get; } = new([.. Words.SelectMany(w => w).Distinct().Order()]);

    /// <summary>The transcript of a digit sequence: words separated by single spaces ("seven three nine").</summary>
    public static string Transcript(IEnumerable<int> digits) => string.Join(' ', digits.Select(d => Words[d]));

    [GeneratedRegex(@"^(\d)_([A-Za-z]+)_(\d+)\.wav$")]
    private static partial Regex FileName();

    /// <summary>Every recording of the fsdd dataset (found with <see cref="Datasets.Locate(string, DatasetOptions?)"/>),
    /// ordered by speaker, digit and index.</summary>
    /// <exception cref="DirectoryNotFoundException">fsdd is not present; the message says how to get it.</exception>
    public static IReadOnlyList<DigitRecording> List()
    {
        var location = Datasets.Locate("fsdd");
        if (!location.IsPresent)
            throw new DirectoryNotFoundException(
                $"The fsdd dataset was not found (searched {string.Join(", ", location.Searched)}). " +
                "Download it with `rnn data fetch fsdd`, or set RNN_DATA_DIR.");
        return List(location.Directory);
    }

    /// <summary>Every recording under <paramref name="datasetDirectory"/><c>/recordings</c> (or the folder itself).</summary>
    public static IReadOnlyList<DigitRecording> List(string datasetDirectory)
    {
        var folder = Path.Combine(datasetDirectory, "recordings");
        if (!Directory.Exists(folder)) folder = datasetDirectory;
        if (!Directory.Exists(folder))
            throw new DirectoryNotFoundException($"{datasetDirectory}: no such folder; expected the fsdd dataset with a recordings/ folder.");
        var list = new List<DigitRecording>();
        foreach (var path in Directory.EnumerateFiles(folder, "*.wav"))
        {
            var m = FileName().Match(Path.GetFileName(path));
            if (!m.Success) continue;
            list.Add(new DigitRecording(m.Groups[1].Value[0] - '0', m.Groups[2].Value,
                int.Parse(m.Groups[3].Value, CultureInfo.InvariantCulture), path));
        }
        if (list.Count == 0)
            throw new InvalidDataException($"{folder}: no recordings named like 7_jackson_32.wav; is this the fsdd dataset?");
        return [.. list.OrderBy(r => r.Speaker, StringComparer.Ordinal).ThenBy(r => r.Digit).ThenBy(r => r.Index)];
    }
}

/// <summary>How connected digit strings are put together.</summary>
/// <param name="MinDigits">Fewest recordings per string.</param>
/// <param name="MaxDigits">Most recordings per string.</param>
/// <param name="MinGapSeconds">Shortest silence between two digits.</param>
/// <param name="MaxGapSeconds">Longest silence between two digits.</param>
/// <param name="MaxEdgeSeconds">Silence before the first and after the last digit: 0…this.</param>
/// <param name="NoiseLevel">White noise with a standard deviation of 0…this × the string's RMS (0 = none).</param>
/// <param name="SpeedPerturbation">Each recording is sped up or slowed down by a factor in 1 ± this (0 = none),
/// by resampling, which shifts pitch too.</param>
/// <param name="GainDb">Each string is scaled by a gain of ±this many decibels (0 = none).</param>
/// <remarks>Introduced in 05-speech-recognition.</remarks>
public sealed record DigitStringOptions(
    int MinDigits = 1,
    int MaxDigits = 7,
    double MinGapSeconds = 0.05,
    double MaxGapSeconds = 0.3,
    double MaxEdgeSeconds = 0.15,
    double NoiseLevel = 0,
    double SpeedPerturbation = 0,
    double GainDb = 0)
{
    /// <summary>Light augmentation for training: noise, ±10 % speed, ±6 dB.</summary>
    public static DigitStringOptions Augmented { get; } = new(NoiseLevel: 0.05, SpeedPerturbation: 0.1, GainDb: 6);
}

/// <summary>One connected digit string: the audio, the digits and the speaker.</summary>
public sealed record DigitString(AudioClip Audio, IReadOnlyList<int> Digits, string Speaker)
{
    /// <summary>The words spoken, separated by single spaces.</summary>
    public string Transcript => SpokenDigits.Transcript(Digits);
}

/// <summary>
/// Builds connected digit strings by concatenating 1–7 isolated recordings of one speaker with random short
/// gaps. Everything random comes from the <see cref="Random"/> passed in, so a seed fixes the strings.
/// </summary>
/// <remarks>Reads each WAV file once and keeps it in memory (FSDD is ~20 MB as floats). Introduced in 05-speech-recognition.</remarks>
public sealed class DigitStringBuilder
{
    readonly Dictionary<string, DigitRecording[]> bySpeaker;
    readonly string[] speakers;
    readonly Dictionary<string, float[]> audio = [];
    readonly int sampleRate;

    /// <summary>Strings are drawn from <paramref name="recordings"/> (e.g. every recording but one speaker's).</summary>
    public DigitStringBuilder(IEnumerable<DigitRecording> recordings, DigitStringOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(recordings);
        Options = options ?? new DigitStringOptions();
        if (Options.MinDigits < 1 || Options.MaxDigits < Options.MinDigits)
            throw new ArgumentException($"Need 1 ≤ MinDigits ≤ MaxDigits, got {Options.MinDigits}..{Options.MaxDigits}.", nameof(options));
        bySpeaker = recordings.GroupBy(r => r.Speaker).ToDictionary(g => g.Key, g => g.ToArray());
        speakers = [.. bySpeaker.Keys.Order(StringComparer.Ordinal)];
        if (speakers.Length == 0) throw new ArgumentException("No recordings to build digit strings from.", nameof(recordings));
        sampleRate = 0;
        foreach (var r in bySpeaker.Values.SelectMany(x => x))
        {
            var clip = WavFile.Read(r.Path);
            if (sampleRate == 0) sampleRate = clip.SampleRate;
            else if (clip.SampleRate != sampleRate)
                throw new InvalidDataException($"{r.Path}: {clip.SampleRate} Hz, but other recordings are {sampleRate} Hz.");
            audio[r.Path] = clip.Samples;
        }
    }

    /// <summary>The settings strings are built with.</summary>
    public DigitStringOptions Options { get; }

    /// <summary>The speakers strings are drawn from.</summary>
    public IReadOnlyList<string> Speakers => speakers;

    /// <summary>Sample rate of the recordings and of the strings.</summary>
    public int SampleRate => sampleRate;

    /// <summary>One string: a random speaker, then 1…MaxDigits of that speaker's recordings.</summary>
    public DigitString Build(Random random)
    {
        ArgumentNullException.ThrowIfNull(random);
        var speaker = speakers[random.Next(speakers.Length)];
        var pool = bySpeaker[speaker];
        var count = random.Next(Options.MinDigits, Options.MaxDigits + 1);
        return Assemble(speaker, () => pool[random.Next(pool.Length)], count, random);
    }

    /// <summary>Strings in which every recording is spoken exactly once: each speaker's recordings in a seeded random
    /// order, cut into strings of MinDigits…MaxDigits (the last of a speaker's may be shorter). For test sets: no
    /// recording is counted twice, and a recogniser that adapts to the audio it transcribes cannot meet the same
    /// recording again in another string.</summary>
    /// <param name="seed">The same seed gives the same strings.</param>
    /// <param name="maxStrings">Stop after this many strings (null: use every recording).</param>
    public IReadOnlyList<DigitString> BuildEachOnce(int seed, int? maxStrings = null)
    {
        if (maxStrings < 1) throw new ArgumentOutOfRangeException(nameof(maxStrings), maxStrings, "maxStrings must be positive.");
        var random = new Random(seed);
        var result = new List<DigitString>();
        foreach (var speaker in speakers)
        {
            var order = bySpeaker[speaker].OrderBy(_ => random.Next()).ToList();
            var at = 0;
            while (at < order.Count && result.Count < (maxStrings ?? int.MaxValue))
            {
                var count = Math.Min(random.Next(Options.MinDigits, Options.MaxDigits + 1), order.Count - at);
                result.Add(Assemble(speaker, () => order[at++], count, random));
            }
        }
        return result;
    }

    DigitString Assemble(string speaker, Func<DigitRecording> next, int count, Random random)
    {
        var parts = new List<float[]>();
        var digits = new List<int>();
        parts.Add(Silence(random.NextDouble() * Options.MaxEdgeSeconds));
        for (var i = 0; i < count; i++)
        {
            var r = next();
            var samples = audio[r.Path];
            if (Options.SpeedPerturbation > 0)
            {
                var factor = 1 + (2 * random.NextDouble() - 1) * Options.SpeedPerturbation;
                samples = Resampler.Resample(samples, sampleRate, sampleRate / factor);
            }
            if (i > 0) parts.Add(Silence(Options.MinGapSeconds + random.NextDouble() * (Options.MaxGapSeconds - Options.MinGapSeconds)));
            parts.Add(samples);
            digits.Add(r.Digit);
        }
        parts.Add(Silence(random.NextDouble() * Options.MaxEdgeSeconds));

        var result = new float[parts.Sum(p => p.Length)];
        var at = 0;
        foreach (var p in parts) { p.CopyTo(result, at); at += p.Length; }

        var gain = Options.GainDb > 0 ? Math.Pow(10, (2 * random.NextDouble() - 1) * Options.GainDb / 20) : 1.0;
        var noise = Options.NoiseLevel > 0 ? random.NextDouble() * Options.NoiseLevel * Rms(result) : 0.0;
        if (gain != 1.0 || noise > 0)
            for (var i = 0; i < result.Length; i++)
                result[i] = (float)((result[i] + noise * Gaussian(random)) * gain);
        return new DigitString(new AudioClip(result, sampleRate), digits, speaker);
    }

    /// <summary><paramref name="count"/> strings from one seeded stream: the same seed gives the same strings.</summary>
    public IReadOnlyList<DigitString> BuildMany(int count, int seed)
    {
        var random = new Random(seed);
        return [.. Enumerable.Range(0, count).Select(_ => Build(random))];
    }

    float[] Silence(double seconds) => new float[(int)Math.Round(seconds * sampleRate)];

    static double Rms(float[] x) => x.Length == 0 ? 0 : Math.Sqrt(x.Sum(v => (double)v * v) / x.Length);

    static double Gaussian(Random random) =>
        Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
}
