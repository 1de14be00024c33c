using RnnNotebooks.Audio;
using RnnNotebooks.Speech;
using RnnNotebooks.Tests.Audio;
using RnnNotebooks.Tests.Models;
using RnnNotebooks.Tests.Training;
using RnnNotebooks.Training;
using TorchSharp;

namespace RnnNotebooks.Tests.Speech;

public sealed class SpeechRecognizerTests : IDisposable
{
    readonly string dir = Directory.CreateTempSubdirectory("asr-tests").FullName;

    public SpeechRecognizerTests() => SingleThreadedTorch.Ensure();

    public void Dispose() => Directory.Delete(dir, recursive: true);

    [Fact]
    public void SaveThenLoad_GivesTheSameOutputs_AndKeepsTheSettings()
    {
        Seeds.Set(1);
        var features = new FeatureOptions(NMels: 24, Mfcc: 13);
        using var recognizer = SpeechRecognizer.Create(features, new AcousticModelOptions(ConvChannels: 16, HiddenSize: 16, Subsampling: 4), ["alice"]);
        var clip = new AudioClip(ResamplerTests.Tone(440, 16000, 0.4), 16000);
        using var before = recognizer.LogProbabilities(clip);

        recognizer.Save(dir, null, TrainingState.Start(new TrainerOptions()), new Dictionary<string, string> { ["seed"] = "1" });
        using var loaded = SpeechRecognizer.Load(dir);
        using var after = loaded.LogProbabilities(clip);

        Assert.NotNull(Checkpoint.PathOf(dir, SpeechRecognizer.ConfigFile));
        Assert.Equal(features, loaded.Config.Features);
        Assert.Equal(recognizer.Config.Model, loaded.Config.Model);
        Assert.Equal(["alice"], loaded.Config.TrainedOn);
        Assert.Equal("1", loaded.Config.Notes!["seed"]);
        Assert.True(before.allclose(after));
        Assert.Equal(new long[] { loaded.Model.OutputLength(features.FrameCount(3200)), 17 }, after.shape);
    }

    [Fact]
    public void SpeakerStatistics_OfOneClip_GiveThePerUtteranceFeatures()
    {
        Seeds.Set(2);
        using var recognizer = SpeechRecognizer.Create(new FeatureOptions(Mfcc: 13), new AcousticModelOptions(ConvChannels: 8, HiddenSize: 8));
        var clip = new AudioClip(ResamplerTests.Tone(700, 8000, 0.5), 8000);
        using var stats = recognizer.SpeakerStatistics([clip]);
        using var own = recognizer.Features(clip);
        using var bySpeaker = recognizer.Features(clip, stats);
        Assert.True(own.allclose(bySpeaker, rtol: 1e-3, atol: 1e-3));
    }

    [Fact]
    public void Evaluate_PerUtterance_HearsEachStringAlone_AndPerSpeaker_PoolsEachVoice()
    {
        Seeds.Set(4);
        using var recognizer = SpeechRecognizer.Create(new FeatureOptions(Mfcc: 13), new AcousticModelOptions(ConvChannels: 8, HiddenSize: 8));
        DigitString Say(string who, double hz, int digit) => new(new AudioClip(ResamplerTests.Tone(hz, 8000, 0.4), 8000), [digit], who);
        var strings = new[] { Say("a", 300, 1), Say("a", 900, 2), Say("b", 2500, 3) };

        var alone = AsrTraining.Evaluate(recognizer, strings, CtcDecoding.Greedy, examples: 3, perSpeaker: false);
        var pooled = AsrTraining.Evaluate(recognizer, strings, CtcDecoding.Greedy, examples: 3);

        Assert.Equal(strings.Select(s => (s.Transcript, recognizer.Transcribe(s.Audio, CtcDecoding.Greedy))), alone.Examples);
        using var a = recognizer.SpeakerStatistics(strings.Take(2).Select(s => s.Audio));
        Assert.Equal(recognizer.Transcribe(strings[0].Audio, CtcDecoding.Greedy, a), pooled.Examples[0].Hypothesis);
        Assert.Equal(recognizer.Transcribe(strings[1].Audio, CtcDecoding.Greedy, a), pooled.Examples[1].Hypothesis);
        Assert.Equal(recognizer.Transcribe(strings[2].Audio, CtcDecoding.Greedy), pooled.Examples[2].Hypothesis);   // alone in its voice
    }

    [Fact]
    public void Load_OlderConfigs_IgnoreRemovedExperimentsWhenOff_AndNameThemWhenOn()
    {
        Seeds.Set(2);
        using (var recognizer = SpeechRecognizer.Create(modelOptions: new AcousticModelOptions(ConvChannels: 8, HiddenSize: 8, NumLayers: 1)))
            recognizer.Save(dir, null, TrainingState.Start(new TrainerOptions()));
        var saved = CheckpointText.Read(dir, SpeechRecognizer.ConfigFile);
        void Write(bool speakerNormalization, int frequencyBands)
        {
            var node = System.Text.Json.Nodes.JsonNode.Parse(saved)!;
            node["speaker_normalization"] = speakerNormalization;
            node["model"]!["frequency_bands"] = frequencyBands;
            node["model"]!["frequency_channels"] = 8;
            CheckpointText.Write(dir, SpeechRecognizer.ConfigFile, node.ToJsonString());
        }

        Write(speakerNormalization: false, frequencyBands: 0);            // what every older checkpoint wrote
        using (var loaded = SpeechRecognizer.Load(dir)) Assert.Equal(8, loaded.Model.Options.HiddenSize);

        Write(speakerNormalization: true, frequencyBands: 0);
        var e = Assert.Throws<InvalidDataException>(() => SpeechRecognizer.Load(dir));
        Assert.Contains(Checkpoint.PathOf(dir, SpeechRecognizer.ConfigFile)!, e.Message);
        Assert.Contains("per-speaker statistics", e.Message);
        Assert.Contains("0487d90", e.Message);

        Write(speakerNormalization: false, frequencyBands: 40);
        e = Assert.Throws<InvalidDataException>(() => SpeechRecognizer.ReadConfig(dir));
        Assert.Contains("frequency_bands 40", e.Message);
    }

    [Fact]
    public void Load_WithoutConfig_SaysHowToTrain()
    {
        var e = Assert.Throws<FileNotFoundException>(() => SpeechRecognizer.Load(dir));
        Assert.Contains("rnn asr train", e.Message);
    }
}
