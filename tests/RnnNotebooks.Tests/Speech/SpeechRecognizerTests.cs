using RnnNotebooks.Audio;
using RnnNotebooks.Speech;
using RnnNotebooks.Tests.Audio;
using RnnNotebooks.Tests.Models;
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

        Assert.True(File.Exists(Path.Combine(dir, SpeechRecognizer.ConfigFile)));
        Assert.Equal(features, loaded.Config.Features);
        Assert.Equal(recognizer.Config.Model, loaded.Config.Model);
        Assert.Equal(["alice"], loaded.Config.TrainedOn);
        Assert.Equal("1", loaded.Config.Notes!["seed"]);
        Assert.True(before.allclose(after));
        Assert.Equal(new long[] { loaded.Model.OutputLength(features.FrameCount(3200)), 17 }, after.shape);
    }

    [Fact]
    public void Load_WithoutConfig_SaysHowToTrain()
    {
        var e = Assert.Throws<FileNotFoundException>(() => SpeechRecognizer.Load(dir));
        Assert.Contains("rnn asr train", e.Message);
    }
}
