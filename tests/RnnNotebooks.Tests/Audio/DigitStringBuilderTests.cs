using RnnNotebooks.Audio;
using RnnNotebooks.Tests.Data;

namespace RnnNotebooks.Tests.Audio;

public sealed class DigitStringBuilderTests : IDisposable
{
    readonly string dir = Directory.CreateTempSubdirectory("fsdd-fixture").FullName;

    public void Dispose() => Directory.Delete(dir, recursive: true);

    /// <summary>An FSDD-shaped folder: recordings/{digit}_{speaker}_{index}.wav, each a tone whose length
    /// identifies it (1000 + 100·digit + index samples).</summary>
    IReadOnlyList<DigitRecording> Fixture(params string[] speakers)
    {
        var folder = Path.Combine(dir, "recordings");
        foreach (var speaker in speakers)
            for (var digit = 0; digit < 10; digit++)
                for (var index = 0; index < 3; index++)
                    WavFile.Write(Path.Combine(folder, $"{digit}_{speaker}_{index}.wav"),
                        new AudioClip(ResamplerTests.Tone(200 + 50 * digit, 8000, (1000 + 100 * digit + index) / 8000.0), 8000));
        File.WriteAllText(Path.Combine(folder, "README.txt"), "not a recording");
        return SpokenDigits.List(dir);
    }

    [Fact]
    public void List_ParsesFileNames_AndMarksTheOfficialTestSplit()
    {
        var all = Fixture("alice", "bob");
        Assert.Equal(60, all.Count);
        Assert.Equal("alice", all[0].Speaker);
        Assert.Equal((0, 0), (all[0].Digit, all[0].Index));
        Assert.All(all, r => Assert.True(r.IsOfficialTest));
        Assert.Equal("seven", all.First(r => r.Digit == 7).Word);
    }

    [Fact]
    public void BuildEachOnce_SpeaksEveryRecordingOnce_InStringsOfOneVoice()
    {
        var builder = new DigitStringBuilder(Fixture("alice", "bob"));
        var strings = builder.BuildEachOnce(seed: 3);

        foreach (var voice in new[] { "alice", "bob" })
        {
            var digits = strings.Where(s => s.Speaker == voice).SelectMany(s => s.Digits).ToList();
            Assert.Equal(30, digits.Count);                                   // 30 recordings, each once
            Assert.All(Enumerable.Range(0, 10), d => Assert.Equal(3, digits.Count(x => x == d)));
        }
        Assert.All(strings, s => Assert.InRange(s.Digits.Count, 1, 7));
        // Every sample of each recording is there once: the strings' length is the recordings' plus the silences.
        var recorded = Enumerable.Range(0, 10).Sum(d => 3 * (1000 + 100 * d) + 3);
        Assert.InRange(strings.Sum(s => s.Audio.Samples.Length), recorded, recorded + strings.Count * (2 * 0.15 + 6 * 0.3) * 8000 + strings.Count * 8);
        Assert.Equal(strings.Select(s => s.Transcript), builder.BuildEachOnce(seed: 3).Select(s => s.Transcript));
        Assert.NotEqual(strings.Select(s => s.Transcript), builder.BuildEachOnce(seed: 4).Select(s => s.Transcript));
        Assert.Equal(4, builder.BuildEachOnce(seed: 3, maxStrings: 4).Count);
    }

    [Fact]
    public void SameSeed_SameStrings()
    {
        var builder = new DigitStringBuilder(Fixture("alice", "bob"), DigitStringOptions.Augmented);
        var a = builder.BuildMany(5, seed: 11);
        var b = builder.BuildMany(5, seed: 11);
        var c = builder.BuildMany(5, seed: 12);

        for (var i = 0; i < 5; i++)
        {
            Assert.Equal(a[i].Transcript, b[i].Transcript);
            Assert.Equal(a[i].Audio.Samples, b[i].Audio.Samples);
        }
        Assert.NotEqual(a.Select(s => s.Transcript), c.Select(s => s.Transcript));
    }

    [Fact]
    public void String_IsOneSpeakersRecordingsWithGaps()
    {
        var options = new DigitStringOptions(MinDigits: 2, MaxDigits: 4, MinGapSeconds: 0.05, MaxGapSeconds: 0.1, MaxEdgeSeconds: 0.1);
        var builder = new DigitStringBuilder(Fixture("alice", "bob"), options);
        var random = new Random(5);
        for (var i = 0; i < 20; i++)
        {
            var s = builder.Build(random);
            Assert.InRange(s.Digits.Count, 2, 4);
            Assert.Contains(s.Speaker, builder.Speakers);
            Assert.Equal(string.Join(' ', s.Digits.Select(d => SpokenDigits.Words[d])), s.Transcript);
            var speech = s.Digits.Sum(d => 1000 + 100 * d);                         // index adds 0–2 samples each
            var gaps = s.Audio.Samples.Length - speech;
            Assert.InRange(gaps, (s.Digits.Count - 1) * 400, (s.Digits.Count - 1) * 800 + 2 * 800 + 2 * s.Digits.Count);
        }
    }

    [Fact]
    public void List_Fsdd_HasFiveSpeakersAndTheOfficialSplit()
    {
        var location = RequiredData.Dataset("fsdd");
        var all = SpokenDigits.List(location.Directory);
        Assert.Equal(2500, all.Count);
        Assert.Equal(["george", "jackson", "nicolas", "theo", "yweweler"], all.Select(r => r.Speaker).Distinct());
        Assert.Equal(250, all.Count(r => r.IsOfficialTest));
    }

    [Fact]
    public void SpokenDigitTranscript_JoinsWords()
    {
        Assert.Equal("seven three nine", SpokenDigits.Transcript([7, 3, 9]));
    }
}
