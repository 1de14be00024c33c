using RnnNotebooks.Audio;
using RnnNotebooks.Data;

namespace RnnNotebooks.Tests.Audio;

public sealed class VoiceActivityTests(ITestOutputHelper log)
{
    const int Rate = 8000;

    /// <summary>Synthetic clips with nothing said in them, and why each must be refused.</summary>
    public static TheoryData<string, string> NonSpeech => new()
    {
        { "silence", "silent" },
        { "faint hum", "silent" },
        { "white noise", "steady" },
        { "noise with a quieter beep", "steady" },
        { "10 ms beep", "too short" },
    };

    static AudioClip Make(string name)
    {
        var random = new Random(7);
        double Gaussian() => Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
        float[] Samples(double seconds, Func<int, double> sample) =>
            [.. Enumerable.Range(0, (int)(seconds * Rate)).Select(i => (float)sample(i))];
        return new AudioClip(name switch
        {
            "silence" => Samples(10, _ => 0),
            "faint hum" => Samples(10, i => 3e-4 * Math.Sin(2 * Math.PI * 50 * i / Rate)),          // −73 dBFS
            "white noise" => Samples(10, _ => 0.1 * Gaussian()),
            "noise with a quieter beep" => Samples(3, i => 0.1 * Gaussian() + (i is > 8000 and < 9600 ? 0.01 * Math.Sin(2 * Math.PI * 1000 * i / Rate) : 0)),
            "10 ms beep" => Samples(0.5, i => i is >= 2000 and < 2080 ? 0.5 * Math.Sin(2 * Math.PI * 1000 * i / Rate) : 0),
            _ => throw new ArgumentException(name),
        }, Rate);
    }

    [Theory]
    [MemberData(nameof(NonSpeech))]
    public void NonSpeech_IsRefused_WithItsReason(string name, string reason)
    {
        var result = VoiceActivity.Detect(Make(name));
        Assert.False(result.HasSpeech, $"{name}: {result}");
        Assert.Equal(reason, result.Reason);
    }

    [Fact]
    public void AWordInNoise_OrATone_IsHeard()
    {
        // A 0.3 s burst 20 dB above steady noise: what a word in a noisy room looks like to an energy rule.
        var random = new Random(3);
        var samples = Enumerable.Range(0, 2 * Rate).Select(i =>
            (float)(0.01 * (random.NextDouble() - 0.5) + (i is > 6000 and < 8400 ? 0.2 * Math.Sin(2 * Math.PI * 300 * i / Rate) : 0))).ToArray();
        Assert.True(VoiceActivity.Detect(new AudioClip(samples, Rate)).HasSpeech);
        Assert.False(VoiceActivity.Detect(new AudioClip([], Rate)).HasSpeech);
    }

    [Fact]
    public void EveryFsddRecording_IsHeard()
    {
        var location = Datasets.Locate("fsdd");
        if (!location.IsPresent)
        {
            Assert.False(Environment.GetEnvironmentVariable("RNN_REQUIRE_SHARED_DATA") == "1", "fsdd missing");
            log.WriteLine("fsdd not found; the rule was not checked against real recordings.");
            return;
        }
        var recordings = SpokenDigits.List();
        var missed = recordings.Select(r => (r.Path, Result: VoiceActivity.Detect(WavFile.Read(r.Path))))
            .Where(x => !x.Result.HasSpeech).ToList();
        Assert.True(missed.Count == 0, $"{missed.Count} of {recordings.Count} recordings taken for non-speech, e.g. {missed.FirstOrDefault()}");
        Assert.Equal(2500, recordings.Count);
    }
}
