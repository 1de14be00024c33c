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

    [Theory]
    [InlineData(0.6)]
    [InlineData(-0.4)]
    public void ApplyTilt_ShapesTheSpectrumLikeTheFilterAndKeepsTheLoudness(double a)
    {
        // Equal-amplitude tones at 250 Hz and 3,750 Hz (8 kHz): after y[n] = x[n] − a·x[n−1] their amplitudes are in
        // the ratio |H(ω₂)| / |H(ω₁)|, where |H(ω)|² = 1 − 2a·cos ω + a².
        const int rate = 8000, n = 8000;
        double w1 = 2 * Math.PI * 250 / rate, w2 = 2 * Math.PI * 3750 / rate;
        var x = Enumerable.Range(0, n).Select(i => (float)(Math.Sin(w1 * i) + Math.Sin(w2 * i))).ToArray();
        var rmsBefore = Math.Sqrt(x.Average(v => (double)v * v));

        DigitStringBuilder.ApplyTilt(x, a);

        double Amplitude(double w)                                       // one DFT bin (whole periods: no leakage)
        {
            double re = 0, im = 0;
            for (var i = 0; i < n; i++) { re += x[i] * Math.Cos(w * i); im += x[i] * Math.Sin(w * i); }
            return 2 * Math.Sqrt(re * re + im * im) / n;
        }
        static double Gain(double w, double a) => Math.Sqrt(1 - 2 * a * Math.Cos(w) + a * a);
        Assert.Equal(Gain(w2, a) / Gain(w1, a), Amplitude(w2) / Amplitude(w1), 3);
        Assert.Equal(rmsBefore, Math.Sqrt(x.Average(v => (double)v * v)), 4);
    }

    [Fact]
    public void Build_WithTilt_DrawsOneNumberPerStringAndChangesOnlyTheSound()
    {
        // The tilt draws its coefficient after everything else of a string, so the same seed gives the same
        // digits and layout with or without it; Tilt = 0 draws nothing, so existing seeds keep their strings.
        var recordings = Fixture("alice", "bob");
        var plain = new DigitStringBuilder(recordings, new DigitStringOptions());
        var tilted = new DigitStringBuilder(recordings, new DigitStringOptions(Tilt: 0.7));
        Random r1 = new(3), r2 = new(3);
        var a = plain.Build(r1);
        var b = tilted.Build(r2);
        Assert.Equal(a.Digits, b.Digits);
        Assert.Equal(a.Audio.Samples.Length, b.Audio.Samples.Length);
        Assert.NotEqual(a.Audio.Samples, b.Audio.Samples);
        r1.Next();                                                        // the one number the tilt drew
        Assert.Equal(r1.Next(), r2.Next());
    }
}
