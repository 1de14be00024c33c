using RnnNotebooks.Audio;
using RnnNotebooks.Speech;
using RnnNotebooks.Tests.Audio;
using RnnNotebooks.Tests.Models;
using RnnNotebooks.Training;

namespace RnnNotebooks.Tests.Cli;

/// <summary><c>rnn asr</c>: usage mistakes exit 2, bad input exits 1 with a message naming the file.</summary>
[Collection("ProcessState")]
public sealed class AsrCommandTests : IDisposable
{
    readonly string dir = Directory.CreateTempSubdirectory("asr-cli").FullName;

    public AsrCommandTests() => SingleThreadedTorch.Ensure();

    public void Dispose() => Directory.Delete(dir, recursive: true);

    static (int Code, string Out, string Err) Run(params string[] args)
    {
        var (stdout, stderr) = (Console.Out, Console.Error);
        var (o, e) = (new StringWriter(), new StringWriter());
        Console.SetOut(o);
        Console.SetError(e);
        try { return (RnnNotebooks.Cli.Cli.Run(args), o.ToString(), e.ToString()); }
        finally
        {
            Console.SetOut(stdout);
            Console.SetError(stderr);
        }
    }

    string TinyModel()
    {
        Seeds.Set(1);
        var path = Path.Combine(dir, "model");
        using var recognizer = SpeechRecognizer.Create(modelOptions: new AcousticModelOptions(ConvChannels: 8, HiddenSize: 8, NumLayers: 1));
        recognizer.Save(path, null, TrainingState.Start(new TrainerOptions()));
        return path;
    }

    /// <summary>Two made-up voices, ann and bo: each digit a tone (pitch by digit, shifted by voice), recordings 0-13
    /// of each; returns the directory.</summary>
    string ToneVoices()
    {
        var data = Path.Combine(dir, "tones");
        Directory.CreateDirectory(data);
        foreach (var (speaker, shift) in new[] { ("ann", 1.0), ("bo", 1.2) })
            for (var digit = 0; digit < 10; digit++)
                for (var i = 0; i < 14; i++)
                    WavFile.Write(Path.Combine(data, $"{digit}_{speaker}_{i}.wav"),
                        new AudioClip(ResamplerTests.Tone((300 + 150 * digit) * shift, 8000, 0.2), 8000));
        return data;
    }

    /// <summary>`rnn asr train` on <see cref="ToneVoices"/> with a tiny model (hidden 8, one layer, 16 strings an epoch,
    /// seed 3) and the given extra options, into <c>dir/name</c>.</summary>
    (int Code, string Err, string Data, string Output) TrainTiny(string name, int epochs, params string[] extra)
    {
        var data = ToneVoices();
        var output = Path.Combine(dir, name);
        var (code, _, err) = Run(["asr", "train", "--data", data, "--epochs", epochs.ToString(), "--strings", "16",
            "--hidden", "8", "--layers", "1", "--seed", "3", .. extra, "--out", output]);
        return (code, err, data, output);
    }

    [Fact]
    public void Asr_WithoutSubcommand_ExitsTwo() => Assert.Equal(2, Run("asr").Code);

    [Fact]
    public void Train_MisspelledOption_ExitsTwoWithUsage()
    {
        var (code, _, err) = Run("asr", "train", "--epoch", "3");
        Assert.Equal(2, code);
        Assert.Contains("unknown option --epoch", err);
        Assert.Contains("rnn asr train", err);
    }

    [Theory]
    [InlineData("--speed", "0.5")]
    [InlineData("--tilt", "1")]
    [InlineData("--tilt", "-0.1")]
    [InlineData("--mels", "0")]
    [InlineData("--mfcc", "41")]
    [InlineData("--mfcc", "-1")]
    [InlineData("--average", "1")]
    [InlineData("--average-best", "0")]
    [InlineData("--decay", "1.5")]
    [InlineData("--cycles", "-1")]
    [InlineData("--cycles", "3")]          // without --epochs
    [InlineData("--subsampling", "3")]
    [InlineData("--mix-speakers", "1.5")]
    [InlineData("--mix-speakers", "-0.1")]
    [InlineData("--adversary", "-1")]
    [InlineData("--freq-conv", "12")]
    [InlineData("--freq-conv", "-40")]
    public void Train_AugmentationOutOfRange_ExitsTwoNamingTheOption(string option, string value)
    {
        var (code, _, err) = Run("asr", "train", option, value);
        Assert.Equal(2, code);
        Assert.Contains($"{option} {value}", err);
    }

    [Fact]
    public void Train_MaskMel_NotesTheSetting_AndProgressLinesShowTheResidentMemory()
    {
        var (code, err, _, output) = TrainTiny("maskmel", 1, "--mask-mel");
        Assert.True(code == 0, err);
        Assert.Equal("true", SpeechRecognizer.ReadConfig(output).Notes!["mask_mel"]);
        var progress = err.Split('\n').Where(l => l.TrimStart().StartsWith("epoch ", StringComparison.Ordinal)).ToList();
        Assert.NotEmpty(progress);
        foreach (var line in progress)
        {
            var match = System.Text.RegularExpressions.Regex.Match(line, @" rss (\d+) MB$");
            Assert.True(match.Success, line);
            Assert.InRange(long.Parse(match.Groups[1].Value), 50, 100_000);   // a process with libtorch loaded: tens of MB at least
        }
    }

    [Fact]
    public void Train_FreqConv_SavesAModelWithTheTwoDimensionalFrontEnd_ThatTranscribes()
    {
        var (code, err, data, output) = TrainTiny("freqconv", 1, "--freq-conv", "40");
        Assert.True(code == 0, err);
        Assert.Equal(40, SpeechRecognizer.ReadConfig(output).Model.FrequencyBands);
        using var loaded = SpeechRecognizer.Load(output);
        Assert.Contains("freq1.weight", loaded.Model.state_dict().Keys);

        (code, _, err) = Run("asr", "train", "--data", data, "--freq-conv", "40", "--mfcc", "0", "--out", output);
        Assert.Equal(2, code);
        Assert.Contains("--freq-conv 40", err);
    }

    [Fact]
    public void Train_SpeakerAdversary_ReportsItsAccuracy_NotesTheSetting_AndRefusesMixedVoices()
    {
        var (code, err, data, output) = TrainTiny("adversary", 2, "--adversary", "1");
        Assert.True(code == 0, err);
        Assert.Contains("speaker_acc", err);
        Assert.Equal("1", SpeechRecognizer.ReadConfig(output).Notes!["adversary"]);

        (code, _, err) = Run("asr", "train", "--data", data, "--adversary", "1", "--mix-speakers", "0.5", "--out", output);
        Assert.Equal(2, code);
        Assert.Contains("--mix-speakers", err);
        (code, _, err) = Run("asr", "train", "--data", data, "--normalize", "speaker", "--mix-speakers", "0.5", "--out", output);
        Assert.Equal(2, code);
        Assert.Contains("--normalize speaker", err);
    }

    [Fact]
    [Trait("Category", "Slow")]
    public void Train_Ensemble_TrainsOneModelPerSeed_ScoresThemTogether_AndEvalReadsTheDirectory()
    {
        var data = ToneVoices();
        var output = Path.Combine(dir, "ensemble");

        var (code, stdout, err) = Run("asr", "train", "--data", data, "--exclude-speaker", "bo", "--epochs", "1", "--strings", "8",
            "--hidden", "8", "--layers", "1", "--seed", "3", "--ensemble", "2", "--out", output);
        Assert.True(code == 0, err);
        Assert.Contains("model 1 of 2, seed 3", err);
        Assert.Contains("model 2 of 2, seed 4", err);
        using (var json = System.Text.Json.JsonDocument.Parse(stdout))
        {
            var models = json.RootElement.GetProperty("models");
            Assert.Equal(2, models.GetArrayLength());
            Assert.Equal(Path.GetFullPath(Path.Combine(output, "model-2")), models[1].GetProperty("checkpoint").GetString());
            var cer = json.RootElement.GetProperty("ensemble").GetProperty("held_out").GetProperty("bo").GetProperty("cer").GetDouble();
            Assert.InRange(cer, 0, 1.5);
        }
        foreach (var (k, seed) in new[] { (1, "3"), (2, "4") })
        {
            using var member = SpeechRecognizer.Load(Path.Combine(output, $"model-{k}"));
            Assert.Equal("complete", member.Config.Notes!["status"]);
            Assert.Equal(seed, member.Config.Notes["seed"]);
        }

        (code, stdout, err) = Run("asr", "eval", "--checkpoint", output, "--speaker", "bo", "--data", data, "--decoding", "greedy");
        Assert.True(code == 0, err);
        Assert.Contains("\"models\": 2", stdout);
        (code, _, err) = Run("asr", "eval", "--checkpoint", output, "--speaker", "bo", "--data", data, "--adapt", "1");
        Assert.Equal(1, code);
        Assert.Contains("ensemble", err);
        Assert.Equal(2, Run("asr", "train", "--ensemble", "0").Code);
        Assert.Equal(2, Run("asr", "train", "--epochs", "2", "--cycles", "3").Code);
        Assert.Equal(2, Run("asr", "train", "--epochs", "30", "--cycles", "3", "--decay", "0.3").Code);
    }

    [Fact]
    public void Train_SaveEpochs_KeepsEveryEpoch_AndAverageBestPicksTheLowestValidationCers()
    {
        var data = ToneVoices();
        var output = Path.Combine(dir, "run");
        var (code, _, err) = Run("asr", "train", "--data", data, "--exclude-speaker", "bo", "--epochs", "3", "--strings", "8",
            "--hidden", "8", "--layers", "1", "--save-epochs", "--out", output);
        Assert.True(code == 0, err);
        var epochs = Path.Combine(output, "epochs");
        Assert.Equal(["01", "02", "03"], Directory.GetDirectories(epochs).Select(Path.GetFileName).Order());

        // Give the epochs known validation CERs, then ask for the best two: epochs 1 and 3.
        foreach (var (epoch, cer) in new[] { ("01", "0.2000"), ("02", "0.5000"), ("03", "0.1000") })
        {
            var config = Path.Combine(epochs, epoch, SpeechRecognizer.ConfigFile);
            var node = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(config))!;
            Assert.Equal(int.Parse(epoch).ToString(), node["notes"]!["epoch"]!.GetValue<string>());
            node["notes"]!["val_cer"] = cer;
            File.WriteAllText(config, node.ToJsonString());
        }
        var averaged = Path.Combine(dir, "averaged");
        (code, var stdout, err) = Run("asr", "average", "--checkpoint", epochs, "--best", "2", "--out", averaged);
        Assert.True(code == 0, err);
        using (var json = System.Text.Json.JsonDocument.Parse(stdout))
            Assert.Equal([Path.GetFullPath(Path.Combine(epochs, "01")), Path.GetFullPath(Path.Combine(epochs, "03"))],
                json.RootElement.GetProperty("averaged").EnumerateArray().Select(x => x.GetProperty("checkpoint").GetString()));
        using (var expected = SpeechRecognizer.LoadAverage([Path.Combine(epochs, "01"), Path.Combine(epochs, "03")]))
        using (var saved = SpeechRecognizer.Load(averaged))
        {
            var clip = new AudioClip(ResamplerTests.Tone(600, 8000, 0.5), 8000);
            using var x = expected.LogProbabilities(clip);
            using var y = saved.LogProbabilities(clip);
            Assert.True(x.allclose(y, rtol: 0, atol: 0), "the saved average is the mean of epochs 1 and 3");
            Assert.Equal("bo", saved.Config.Notes!["held_out"]);
        }
        (code, stdout, err) = Run("asr", "eval", "--checkpoint", Path.Combine(epochs, "01"), "--checkpoint", Path.Combine(epochs, "03"),
            "--combine", "average", "--speaker", "bo", "--data", data, "--decoding", "greedy");
        Assert.True(code == 0, err);
        Assert.Contains("\"models\": 1", stdout);

        // Mistakes: --out over a checkpoint, a bad count, checkpoints without validation CERs, another run's sizes.
        Assert.Equal(2, Run("asr", "average", "--checkpoint", epochs, "--out", Path.Combine(epochs, "02")).Code);
        Assert.Equal(2, Run("asr", "average", "--checkpoint", epochs, "--best", "-1", "--out", averaged).Code);
        (code, _, err) = Run("asr", "average", "--checkpoint", TinyModel(), "--best", "1", "--out", Path.Combine(dir, "x"));
        Assert.Equal(2, code);
        Assert.Contains("val_cer", err);
        (code, _, err) = Run("asr", "average", "--checkpoint", epochs, "--checkpoint", Path.Combine(dir, "model"), "--out", Path.Combine(dir, "y"));
        Assert.Equal(1, code);
        Assert.Contains("model sizes", err);
    }

    [Fact]
    public void Eval_MissingCheckpoint_ExitsOne()
    {
        var (code, _, err) = Run("asr", "eval", "--checkpoint", Path.Combine(dir, "none"), "--speaker", "george", "--data", dir);
        Assert.Equal(1, code);
        Assert.Contains("rnn asr", err);
    }

    [Fact]
    public void Transcribe_PrintsFileTabTranscript_AndRejectsOtherInput()
    {
        var model = TinyModel();
        var good8 = Path.Combine(dir, "a.wav");
        var good16 = Path.Combine(dir, "b.wav");
        var rate44 = Path.Combine(dir, "c.wav");
        var stereo = Path.Combine(dir, "d.wav");
        WavFile.Write(good8, new AudioClip(ResamplerTests.Tone(300, 8000, 0.5), 8000));
        WavFile.Write(good16, new AudioClip(ResamplerTests.Tone(300, 16000, 0.5), 16000));
        WavFile.Write(rate44, new AudioClip(ResamplerTests.Tone(300, 44100, 0.1), 44100));
        File.WriteAllBytes(stereo, WavFileTests.Build(channels: 2));

        var (ok, output, _) = Run("asr", "transcribe", "--checkpoint", model, good8, good16);
        Assert.Equal(0, ok);
        var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(2, lines.Length);
        Assert.StartsWith(good8 + "\t", lines[0]);
        Assert.StartsWith(good16 + "\t", lines[1]);

        var (each, output3, _) = Run("asr", "transcribe", "--checkpoint", model, "--each", good8, good16);
        Assert.Equal(0, each);
        Assert.Equal(2, output3.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);

        var (adapt, output4, adaptErr) = Run("asr", "transcribe", "--checkpoint", model, "--adapt", "1", good8, good16);
        Assert.Equal(0, adapt);
        Assert.Equal(2, output4.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
        Assert.Contains("adaptation round 1: learned from 2 of 2 files", adaptErr);
        var (vote, output5, _) = Run("asr", "transcribe", "--checkpoint", model, "--speeds", "0.9,1,1.1", good8, good16);
        Assert.Equal(0, vote);
        Assert.Equal(2, output5.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
        var (adaptVote, output6, _) = Run("asr", "transcribe", "--checkpoint", model, "--adapt", "1", "--vote", good8, good16);
        Assert.Equal(0, adaptVote);
        Assert.Equal(2, output6.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
        var (both, _, bothErr) = Run("asr", "transcribe", "--checkpoint", model, "--adapt", "1", "--each", good8, good16);
        Assert.Equal(2, both);
        Assert.Contains("cannot be combined with --each", bothErr);

        var (bad, output2, err) = Run("asr", "transcribe", "--checkpoint", model, good8, rate44, stereo);
        Assert.Equal(1, bad);
        Assert.StartsWith(good8 + "\t", output2);
        Assert.Contains($"{rate44}: expected 8 or 16 kHz", err);
        Assert.Contains($"{stereo}: expected mono", err);
    }

    [Theory]
    [InlineData("--normalize global", "--normalize global: expected speaker or utterance")]
    [InlineData("--adapt -1", "--adapt -1")]
    [InlineData("--speeds 0.9,x", "'x' is not a number")]
    [InlineData("--speeds 0.9,-1", "--speeds: speed factor -1 is not a positive number")]
    [InlineData("--speeds 1,1", "--speeds: speed factors repeat")]
    [InlineData("--adapt 1 --balance 0.9", "--balance 0.9: expected a cap of at least 1")]
    [InlineData("--adapt 1 --balance x", "--balance")]
    [InlineData("--balance 1.25", "--balance chooses the pseudo-labels of adaptation; give --adapt ROUNDS too")]
    [InlineData("--new-recordings", "--new-recordings checks adaptation on recordings it did not adapt on; give --adapt ROUNDS too")]
    [InlineData("--adapt 1 --new-recordings --vote", "leave out --vote and --speeds")]
    public void Eval_BadOptions_ExitTwoNamingTheMistake(string options, string message)
    {
        var (code, _, err) = Run(["asr", "eval", "--checkpoint", dir, "--speaker", "george", .. options.Split(' ')]);
        Assert.Equal(2, code);
        Assert.Contains(message, err);
    }

    [Fact]
    public void Adapt_SavesAnAdaptedCopy_KeepsTheOriginal_AndRefusesBadInput()
    {
        var model = TinyModel();
        var a = Path.Combine(dir, "a.wav");
        var b = Path.Combine(dir, "b.wav");
        var bad = Path.Combine(dir, "bad.wav");
        WavFile.Write(a, new AudioClip(ResamplerTests.Tone(300, 8000, 0.5), 8000));
        WavFile.Write(b, new AudioClip(ResamplerTests.Tone(700, 8000, 0.5), 8000));
        File.WriteAllBytes(bad, [1, 2, 3]);
        var adapted = Path.Combine(dir, "adapted");
        var original = File.ReadAllBytes(Path.Combine(model, Checkpoint.ModelFile));

        var (code, output, err) = Run("asr", "adapt", "--checkpoint", model, "--out", adapted, "--rounds", "1", "--balance", "1.5", a, b);

        Assert.Equal(0, code);
        Assert.Contains("adaptation round 1", err);
        Assert.Contains("\"files\": 2", output);
        using (var loaded = SpeechRecognizer.Load(adapted))
        {
            Assert.Equal(Path.GetFullPath(model), loaded.Config.Notes!["adapted_from"]);
            Assert.Equal("1", loaded.Config.Notes["adapt_rounds"]);
        }
        Assert.Equal(original, File.ReadAllBytes(Path.Combine(model, Checkpoint.ModelFile)));
        var (ok, transcripts, _) = Run("asr", "transcribe", "--checkpoint", adapted, a, b);
        Assert.Equal(0, ok);
        Assert.Equal(2, transcripts.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);

        var elsewhere = Path.Combine(dir, "not-written");
        var (badCode, _, badErr) = Run("asr", "adapt", "--checkpoint", model, "--out", elsewhere, a, bad);
        Assert.Equal(1, badCode);
        Assert.Contains("nothing adapted or saved", badErr);
        Assert.False(Directory.Exists(elsewhere));
        Assert.Equal(2, Run("asr", "adapt", "--checkpoint", model, "--out", model, a).Code);
        Assert.Equal(2, Run("asr", "adapt", "--checkpoint", model, "--out", elsewhere, "--rounds", "0", a).Code);
    }
}
