using System.Text;
using RnnNotebooks.Audio;
using RnnNotebooks.Data;
using RnnNotebooks.Models;
using RnnNotebooks.Speech;
using RnnNotebooks.Tests.Audio;
using RnnNotebooks.Tests.Data;
using RnnNotebooks.Tests.Models;
using RnnNotebooks.Text;
using RnnNotebooks.Training;

namespace RnnNotebooks.Tests.Cli;

/// <summary>Hostile but fair input to <c>rnn</c>: other line ends and encodings, a folder for a file, an output
/// that leads to the input through a link, a data folder that is not there. Each row once failed.</summary>
[Collection("ProcessState")]
public sealed class InputReliabilityTests : IDisposable
{
    readonly string dir = Directory.CreateTempSubdirectory("input-reliability").FullName;

    public InputReliabilityTests() => SingleThreadedTorch.Ensure();

    public void Dispose() => Directory.Delete(dir, recursive: true);

    static (int Code, string Out, string Err) Run(params string[] args) => CliRun.Invoke(args);

    /// <summary>An untrained character model over "to be or not" plus a newline, saved for eval.</summary>
    string CharModel()
    {
        var path = Path.Combine(dir, "lm");
        var vocabulary = Vocabulary.OfCharacters("to be or not\n");
        using var model = new LanguageModel(new LanguageModelOptions(vocabulary.Size, 8, 1));
        LanguageModelCheckpoint.Save(path, model, vocabulary, null, TrainingState.Start(new TrainerOptions()));
        return path;
    }

    string Write(string name, byte[] bytes)
    {
        var path = Path.Combine(dir, name);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    [Fact]
    public void LmEval_WindowsLineEnds_ScoreLikeUnixOnes()
    {
        var model = CharModel();
        var unix = Run("lm", "eval", "--checkpoint", model, "--text", Write("unix.txt", Encoding.UTF8.GetBytes("to be\nor not\n")));
        var windows = Run("lm", "eval", "--checkpoint", model, "--text", Write("windows.txt", Encoding.UTF8.GetBytes("to be\r\nor not\r\n")));

        Assert.True(windows.Code == 0, windows.Err);
        Assert.Equal(unix.Out, windows.Out);
    }

    [Fact]
    public void LmEval_Latin1File_SaysItIsNotUtf8_AndHowToConvert()
    {
        var file = Write("latin1.txt", Encoding.Latin1.GetBytes("to be or not, café\n"));

        var (code, _, err) = Run("lm", "eval", "--checkpoint", CharModel(), "--text", file);

        Assert.Equal(1, code);
        Assert.Contains($"{file}: not UTF-8", err);
        Assert.Contains("byte 0xE9", err);
        Assert.Contains("iconv", err);
        Assert.DoesNotContain("U+FFFD", err);
    }

    [Fact]
    public void LmEvalAndTrain_AFolderForAFile_SayItIsAFolder()
    {
        var folder = Directory.CreateDirectory(Path.Combine(dir, "texts")).FullName;

        var eval = Run("lm", "eval", "--checkpoint", CharModel(), "--text", folder);
        var train = Run("lm", "train", "--data", folder, "--epochs", "1", "--out", Path.Combine(dir, "out"));

        Assert.Equal((1, 1), (eval.Code, train.Code));
        Assert.Contains($"{folder}: is a directory", eval.Err);
        Assert.Contains($"{folder}: is a directory", train.Err);
    }

    [Fact]
    public void AsrAdapt_OutThroughALinkToTheCheckpoint_IsRefused_AndTheModelKept()
    {
        var model = Path.Combine(dir, "model");
        Seeds.Set(1);
        using (var recognizer = SpeechRecognizer.Create(modelOptions: new AcousticModelOptions(ConvChannels: 8, HiddenSize: 8, NumLayers: 1)))
            recognizer.Save(model, null, TrainingState.Start(new TrainerOptions()));
        var link = Path.Combine(dir, "link");
        Directory.CreateSymbolicLink(link, model);
        var wav = Path.Combine(dir, "a.wav");
        WavFile.Write(wav, new AudioClip(ResamplerTests.Tone(300, 8000, 0.5), 8000));
        var before = File.ReadAllBytes(Checkpoint.PathOf(model, Checkpoint.ModelFile)!);

        var (code, _, err) = Run("asr", "adapt", "--checkpoint", model, "--out", link, "--rounds", "1", wav);

        Assert.Equal(2, code);
        Assert.Contains("leads to the --checkpoint folder", err);
        Assert.Equal(before, File.ReadAllBytes(Checkpoint.PathOf(model, Checkpoint.ModelFile)!));
    }

    [Fact]
    public void DataDirVariable_PointingNowhere_IsAnErrorNamingIt()
    {
        var nowhere = Path.Combine(dir, "no-such-folder");
        using var env = new EnvironmentVariableScope(Datasets.DataDirVariable, nowhere);

        var (code, _, err) = Run("data", "verify", "yesno");

        Assert.Equal(1, code);
        Assert.Contains($"{Datasets.DataDirVariable} is set to '{nowhere}', which is not a folder", err);
    }

    [Fact]
    public void DataVerify_MissingDataset_SaysMissingAndWhereItLooked()
    {
        var cwd = Environment.CurrentDirectory;
        using var env = new EnvironmentVariableScope(Datasets.DataDirVariable, null);
        using var cache = new EnvironmentVariableScope("XDG_CACHE_HOME", Path.Combine(dir, "cache"));
        Environment.CurrentDirectory = dir;
        try
        {
            var (code, output, _) = Run("data", "verify", "yesno");

            Assert.Equal(1, code);
            Assert.Contains("yesno: missing: no copy found (looked in", output);
            Assert.Contains(Path.Combine(dir, "cache", "rnn-notebooks", "datasets", "yesno"), output);
            Assert.Contains("rnn data fetch yesno", output);
            Assert.DoesNotContain("files checked", output);
        }
        finally
        {
            Environment.CurrentDirectory = cwd;
        }
    }

    [Fact]
    public void Errors_NameCommandsAndPlainNumberKinds_NotLibraryApis()
    {
        var (code, _, err) = Run("lm", "sample", "--checkpoint", dir, "--length", "ten");
        Assert.Equal(2, code);
        Assert.Contains("--length ten: expected a whole number", err);
        Assert.DoesNotContain("int32", err);

        var advice = RnnNotebooks.Cli.Cli.MessageOf(new DatasetException("fsdd",
            "x.wav: truncated. Retry Datasets.Ensure(\"fsdd\"), then Datasets.Verify(\"fsdd\")."));
        Assert.Equal("x.wav: truncated. Retry `rnn data fetch fsdd`, then `rnn data verify fsdd`.", advice);
    }
}
