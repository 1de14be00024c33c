using RnnNotebooks.Audio;
using RnnNotebooks.Speech;
using RnnNotebooks.Tests.Audio;
using RnnNotebooks.Tests.Models;
using RnnNotebooks.Training;
using TorchSharp;

namespace RnnNotebooks.Tests.Speech;

public sealed class AsrTrainingTests : IDisposable
{
    readonly string dir = Directory.CreateTempSubdirectory("asr-split").FullName;

    public AsrTrainingTests() => SingleThreadedTorch.Ensure();

    public void Dispose() => Directory.Delete(dir, recursive: true);

    // Recordings 0–24 hold a constant +0.25, recordings 25–49 a constant −0.25: a string's sign tells its half.
    List<DigitRecording> SignedRecordings(string speaker, int upTo = 50)
    {
        var list = new List<DigitRecording>();
        for (var i = 0; i < upTo; i++)
        {
            var path = Path.Combine(dir, $"{i % 10}_{speaker}_{i}.wav");
            WavFile.Write(path, new AudioClip(Enumerable.Repeat(i < 25 ? 0.25f : -0.25f, 800).ToArray(), 8000));
            list.Add(new DigitRecording(i % 10, speaker, i, path));
        }
        return list;
    }

    [Fact]
    public void Score_CountsCharacterAndWordErrorsOfGivenHypotheses()
    {
        var strings = new[] { new DigitString(new AudioClip([0f], 8000), [1, 2], "a"), new DigitString(new AudioClip([0f], 8000), [3], "a") };

        var e = AsrTraining.Score(strings, ["one too", "three"]);

        Assert.Equal(1.0 / 12, e.Cer, 9);   // one substitution ('w' → 'o') in 7 + 5 reference characters
        Assert.Equal(1.0 / 3, e.Wer, 9);
        Assert.Throws<ArgumentException>(() => AsrTraining.Score(strings, ["one two"]));
    }

    [Fact]
    public void SpeakerSplitStrings_AdaptOnRecordingsBelow25_ScoreTheOthers_NeverShared()
    {
        var recordings = SignedRecordings("alice");
        var (adaptOn, score) = AsrTraining.SpeakerSplitStrings(recordings, "alice");

        Assert.Equal(25, adaptOn.Sum(s => s.Digits.Count));   // 25 recordings a side, each once
        Assert.Equal(25, score.Sum(s => s.Digits.Count));
        Assert.Equal(3, AsrTraining.SpeakerSplitStrings(recordings, "alice", count: 3).Score.Count);
        Assert.All(adaptOn, s => Assert.True(s.Audio.Samples.Max() > 0.2f && s.Audio.Samples.Min() >= 0f));
        Assert.All(score, s => Assert.True(s.Audio.Samples.Min() < -0.2f && s.Audio.Samples.Max() <= 0f));
        Assert.Equal(adaptOn.Select(s => s.Transcript), AsrTraining.SpeakerSplitStrings(recordings, "alice").AdaptOn.Select(s => s.Transcript));

        Assert.Contains("Speakers: alice", Assert.Throws<ArgumentException>(() => AsrTraining.SpeakerSplitStrings(recordings, "bob")).Message);
        var onlyEarly = SignedRecordings("carol", upTo: 20);
        Assert.Contains("below and from 25", Assert.Throws<ArgumentException>(() => AsrTraining.SpeakerSplitStrings(onlyEarly, "carol")).Message);
    }

    [Fact]
    public void EvaluateAdaptationOnNewRecordings_ScoresBeforeAndAfter_AndPutsTheWeightsBack()
    {
        Seeds.Set(21);
        using var recognizer = SpeechRecognizer.Create(new FeatureOptions(Mfcc: 13), new AcousticModelOptions(ConvChannels: 8, HiddenSize: 8));
        recognizer.BeamWidth = 2;
        DigitString Say(double hz, int digit) => new(new AudioClip(ResamplerTests.Tone(hz, 8000, 0.4), 8000), [digit], "voice");
        var adaptOn = new[] { Say(300, 1), Say(500, 2), Say(800, 3), Say(1200, 4) };
        var score = new[] { Say(400, 5), Say(900, 6) };
        var options = new SpeakerAdaptationOptions(Rounds: 1, Epochs: 5, LearningRate: 1e-2, Keep: 1, BatchSize: 2);
        Dictionary<string, torch.Tensor> before;
        using (torch.no_grad()) before = recognizer.Model.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.clone());

        var (unadapted, adapted) = AsrTraining.EvaluateAdaptationOnNewRecordings(recognizer, adaptOn, score, options, examples: 2);

        foreach (var (name, w) in recognizer.Model.state_dict()) Assert.True(w.allclose(before[name], rtol: 0, atol: 0), name);
        using var stats = recognizer.SpeakerStatistics(adaptOn.Select(s => s.Audio));   // the adaptation strings' statistics only
        Assert.Equal(score.Select(s => (s.Transcript, recognizer.Transcribe(s.Audio, CtcDecoding.Lexicon, stats))), unadapted.Examples);
        SpeakerAdaptation.Adapt(recognizer, [.. adaptOn.Select(s => s.Audio)], stats, options);
        Assert.Equal(score.Select(s => (s.Transcript, recognizer.Transcribe(s.Audio, CtcDecoding.Lexicon, stats))), adapted.Examples);
        Assert.Equal(adaptOn.Sum(s => s.Audio.Seconds) + score.Sum(s => s.Audio.Seconds), adapted.AudioSeconds, 6);

        var twoVoices = adaptOn.Append(Say(600, 7) with { Speaker = "other" }).ToList();
        Assert.Contains("one voice at a time", Assert.Throws<ArgumentException>(() =>
            AsrTraining.EvaluateAdaptationOnNewRecordings(recognizer, twoVoices, score, options)).Message);
    }

    [Fact]
    public void Splits_PutEveryIndexInExactlyOnePart_TestFiveValidationFiveTrainingForty()
    {
        var parts = Enumerable.Range(0, 50).Select(i => new DigitRecording(3, "alice", i, $"3_alice_{i}.wav"))
            .Select(r => (r.IsOfficialTest ? 1 : 0) + (AsrTraining.IsValidation(r) ? 2 : 0) + (AsrTraining.IsTraining(r) ? 4 : 0))
            .ToList();

        Assert.All(parts, p => Assert.Contains(p, new[] { 1, 2, 4 }));
        Assert.Equal(5, parts.Count(p => p == 1));
        Assert.Equal(5, parts.Count(p => p == 2));
        Assert.Equal(40, parts.Count(p => p == 4));
    }
}
