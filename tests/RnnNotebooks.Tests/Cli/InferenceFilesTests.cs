using RnnNotebooks.Audio;
using RnnNotebooks.Models;
using RnnNotebooks.Speech;
using RnnNotebooks.Tests.Audio;
using RnnNotebooks.Tests.Models;
using RnnNotebooks.Text;
using RnnNotebooks.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace RnnNotebooks.Tests.Cli;

/// <summary>Inference (<c>lm eval</c>, <c>lm sample</c>, <c>asr transcribe</c>) needs only a checkpoint's model
/// files: a missing optimizer state or a damaged carried state does not stop it.</summary>
[Collection("ProcessState")]
public sealed class InferenceFilesTests : IDisposable
{
    readonly string dir = Directory.CreateTempSubdirectory("inference-files").FullName;

    public InferenceFilesTests() => SingleThreadedTorch.Ensure();

    public void Dispose() => Directory.Delete(dir, recursive: true);

    static (int Code, string Out, string Err) Run(params string[] args) => CliRun.Invoke(args);

    static void Delete(string checkpoint, string name) => File.Delete(Checkpoint.PathOf(checkpoint, name)!);

    static void Damage(string checkpoint, string name)
    {
        var path = Checkpoint.PathOf(checkpoint, name)!;
        File.WriteAllBytes(path, File.ReadAllBytes(path)[..^3]);
    }

    /// <summary>A character model saved in the middle of an epoch, with optimizer state and carried state.</summary>
    string LanguageModelMidEpoch()
    {
        var path = Path.Combine(dir, "lm");
        var vocabulary = Vocabulary.OfCharacters("to be or not");
        using var model = new LanguageModel(new LanguageModelOptions(vocabulary.Size, 8, 1));
        using var adam = optim.Adam(model.parameters(), 0.01);
        var state = TrainingState.Start(new TrainerOptions()) with { BatchInEpoch = 2 };
        using var carried = new RecurrentState(zeros(1, 2, 8), zeros(1, 2, 8));
        LanguageModelCheckpoint.Save(path, model, vocabulary, adam, state, carried);
        return path;
    }

    [Theory]
    [InlineData("missing optimizer")]
    [InlineData("damaged carried state")]
    [InlineData("both")]
    public void LmEvalAndSample_RunWithoutTheFilesOnlyResumeNeeds(string damage)
    {
        var checkpoint = LanguageModelMidEpoch();
        if (damage != "damaged carried state") Delete(checkpoint, Checkpoint.OptimizerFile);
        if (damage != "missing optimizer") Damage(checkpoint, LanguageModelCheckpoint.CarriedStateFile);
        var text = Path.Combine(dir, "eval.txt");
        File.WriteAllText(text, "to be or not to be");

        var eval = Run("lm", "eval", "--checkpoint", checkpoint, "--text", text);
        Assert.True(eval.Code == 0, eval.Err);
        Assert.Contains("perplexity", eval.Out);

        var sample = Run("lm", "sample", "--checkpoint", checkpoint, "--prompt", "to", "--length", "5");
        Assert.True(sample.Code == 0, sample.Err);
        Assert.StartsWith("to", sample.Out);

        var resume = Assert.ThrowsAny<Exception>(() => LanguageModelCheckpoint.Load(checkpoint, m => optim.Adam(m.parameters(), 0.01)));
        Assert.True(resume is FileNotFoundException or InvalidDataException, resume.ToString());
        Assert.Contains(checkpoint, resume.Message);
    }

    [Fact]
    public void AsrTranscribe_RunsWithoutTheOptimizerState()
    {
        var checkpoint = Path.Combine(dir, "asr");
        Seeds.Set(1);
        using (var recognizer = SpeechRecognizer.Create(modelOptions: new AcousticModelOptions(ConvChannels: 8, HiddenSize: 8, NumLayers: 1)))
        using (var adam = optim.Adam(recognizer.Model.parameters(), 0.001))
            recognizer.Save(checkpoint, adam, TrainingState.Start(new TrainerOptions()));
        Delete(checkpoint, Checkpoint.OptimizerFile);
        var wav = Path.Combine(dir, "a.wav");
        WavFile.Write(wav, new AudioClip(ResamplerTests.Tone(300, 8000, 0.5), 8000));

        var (code, output, err) = Run("asr", "transcribe", "--checkpoint", checkpoint, wav);

        Assert.True(code == 0, err);
        Assert.StartsWith(wav + "\t", output);
    }
}
