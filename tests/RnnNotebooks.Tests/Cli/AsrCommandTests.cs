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

    static (int Code, string Out, string Err) Run(params string[] args) => CliRun.Invoke(args);

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
        Assert.Contains("'--epoch'", err);
        Assert.Contains("rnn asr train", err);
    }

    [Theory]
    [InlineData("--mels", "0")]
    [InlineData("--subsampling", "3")]
    [InlineData("--ensemble", "0")]
    public void Train_OutOfRange_ExitsTwoNamingTheOption(string option, string value)
    {
        var (code, _, err) = Run("asr", "train", option, value);
        Assert.Equal(2, code);
        Assert.Contains($"{option} {value}", err);
    }

    // The options of experiments that were measured and not adopted are gone; asking for one is a usage error.
    [Theory]
    [InlineData("--speed", "0.4")]
    [InlineData("--tilt", "0.7")]
    [InlineData("--mfcc", "0")]
    [InlineData("--mix-speakers", "0.5")]
    [InlineData("--adversary", "1")]
    [InlineData("--average", "0.998")]
    [InlineData("--average-best", "5")]
    [InlineData("--decay", "0.3")]
    [InlineData("--cycles", "3")]
    [InlineData("--normalize", "speaker")]
    [InlineData("--freq-conv", "40")]
    [InlineData("--mask-mel", null)]
    [InlineData("--save-epochs", null)]
    public void Train_OptionsOfExperimentsNotAdopted_AreUnknown(string option, string? value)
    {
        var (code, _, err) = Run(value is null ? ["asr", "train", option] : ["asr", "train", option, value]);
        Assert.Equal(2, code);
        Assert.Contains($"'{option}'", err);
    }

    [Fact]
    public void Train_HasAtMostFifteenOptions()
    {
        // Counted as `rnn asr train -h` lists them, --resume and --force included; -h itself is not an option of the recipe.
        var train = RnnNotebooks.Cli.AsrCommand.Build().Subcommands.Single(c => c.Name == "train");
        var options = train.Options.Where(o => o is not System.CommandLine.Help.HelpOption).Select(o => o.Name).ToList();
        Assert.Contains("--force", options);
        Assert.Contains("--resume", options);
        Assert.InRange(options.Count, 10, 15);
    }

    /// <summary>`rnn asr eval` on one thread once printed "Could not initialize NNPACK! Reason: Unsupported hardware."
    /// hundreds of times (a small-batch convolution that oneDNN leaves to libtorch, which tried NNPACK first). libtorch
    /// writes it straight to the process's standard error, so the command runs in a child process here.</summary>
    [Fact]
    public async Task Eval_OnOneThread_PrintsNoNnpackWarning()
    {
        var (code, err, data, output) = TrainTiny("nnpack", 1);
        Assert.True(code == 0, err);
        var start = new System.Diagnostics.ProcessStartInfo("dotnet") { RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var a in (string[])[typeof(RnnNotebooks.Cli.Cli).Assembly.Location, "asr", "eval", "--checkpoint", output, "--data", data,
                     "--speaker", "ann", "--strings", "20", "--threads", "1"])
            start.ArgumentList.Add(a);
        using var eval = System.Diagnostics.Process.Start(start)!;
        var stdout = eval.StandardOutput.ReadToEndAsync();
        var stderr = await eval.StandardError.ReadToEndAsync();
        await eval.WaitForExitAsync();
        Assert.True(eval.ExitCode == 0, stderr);
        Assert.Contains("\"cer\"", await stdout);
        Assert.DoesNotContain("NNPACK", stderr);
    }

    [Fact]
    public void Train_ProgressLinesShowTheResidentMemory()
    {
        var (code, err, _, output) = TrainTiny("rss", 1);
        Assert.True(code == 0, err);
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
    }

    [Fact]
    public void Train_Ensemble_EveryModelStartsFromTheSameLiveTensorCount()
    {
        // The count is of tensors not disposed when the next model starts, before any collection: what the garbage
        // collector would free only if it happened to run. TorchSharp 0.107 leaves two tensors alive for every Conv1d
        // and Linear ever built, disposed or not: those of one model are the only growth allowed. Anything else a model
        // left undisposed (its optimizer's moments and scratch buffers, say) raises the next one's starting count.
        // The RSS printed beside it is for people.
        long Floor()
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
            GC.Collect();
            return TorchSharp.torch.Tensor.TotalCount;
        }
        var before = Floor();
        SpeechRecognizer.Create(modelOptions: new AcousticModelOptions(HiddenSize: 8, NumLayers: 1)).Dispose();
        var leftover = Floor() - before;

        var (code, err, _, _) = TrainTiny("floor", 1, "--ensemble", "3");

        Assert.True(code == 0, err);
        var starts = System.Text.RegularExpressions.Regex.Matches(err, @"model (\d) of 3 starts with (\d+) live tensors, rss \d+ MB")
            .Select(m => (Model: int.Parse(m.Groups[1].Value), Live: long.Parse(m.Groups[2].Value))).ToList();
        Assert.Equal([1, 2, 3], starts.Select(s => s.Model));
        for (var k = 1; k < starts.Count; k++)
            Assert.True(starts[k].Live - starts[k - 1].Live <= leftover,
                $"model {k + 1} starts with {starts[k].Live - starts[k - 1].Live} more live tensors than model {k} " +
                $"(one model's unavoidable leftovers: {leftover}): {string.Join(", ", starts)}");
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
        WavFile.Write(good8, Word(300, 8000));
        WavFile.Write(good16, Word(300, 16000));
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

    /// <summary>A stand-in for a spoken word: 0.3 s of a tone between 0.1 s of silence on each side (a steady tone
    /// from end to end is what <see cref="VoiceActivity"/> calls steady, not speech).</summary>
    static AudioClip Word(double hz, int rate)
    {
        var tone = ResamplerTests.Tone(hz, rate, 0.3);
        var samples = new float[tone.Length + rate / 5];
        tone.CopyTo(samples, rate / 10);
        return new AudioClip(samples, rate);
    }

    [Fact]
    public void Transcribe_TreatsEachFileOnItsOwn_NamesABrokenOne_AndLeavesNonSpeechEmpty()
    {
        var model = TinyModel();
        var word = Path.Combine(dir, "word.wav");
        var broken = Path.Combine(dir, "broken.wav");
        var silence = Path.Combine(dir, "silence.wav");
        var noise = Path.Combine(dir, "noise.wav");
        var beep = Path.Combine(dir, "beep.wav");
        var streamed = Path.Combine(dir, "streamed.wav");
        var folder = Directory.CreateDirectory(Path.Combine(dir, "folder.wav")).FullName;
        WavFile.Write(word, Word(300, 8000));
        var bytes = WavFileTests.Build(extraChunks: ("LIST", new byte[10]));
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(40), 0xFFFFFFF0);   // runs past the end
        File.WriteAllBytes(broken, bytes);
        WavFile.Write(silence, new AudioClip(new float[8000], 8000));
        var random = new Random(1);
        WavFile.Write(noise, new AudioClip([.. Enumerable.Range(0, 16000).Select(_ => (float)(0.2 * (random.NextDouble() - 0.5)))], 8000));
        var click = new float[4000];
        ResamplerTests.Tone(1000, 8000, 0.01).CopyTo(click, 2000);
        WavFile.Write(beep, new AudioClip(click, 8000));
        var streamedBytes = WavFile.ToBytes(Word(300, 8000));
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(streamedBytes.AsSpan(40), 0xFFFFFFFF);
        File.WriteAllBytes(streamed, streamedBytes);

        var (code, output, err) = Run("asr", "transcribe", "--checkpoint", model, word, broken, silence, noise, beep, streamed, folder);

        Assert.Equal(1, code);                                            // the broken file and the folder
        var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal([word, silence, noise, beep, streamed], lines.Select(l => l.Split('\t')[0]));
        Assert.Equal(["", "", ""], lines[1..4].Select(l => l.Split('\t')[1]));
        Assert.Contains($"{broken}: the 'LIST' chunk says", err);
        Assert.Contains($"{folder}: a directory", err);
        Assert.Contains($"{silence}: no speech (silent", err);
        Assert.Contains($"{noise}: no speech (steady", err);
        Assert.Contains($"{beep}: no speech (too short", err);
        Assert.DoesNotContain($"{word}: no speech", err);
        Assert.DoesNotContain($"{streamed}:", err);
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
    [InlineData("--adapt 1 --new-recordings", "'--new-recordings'")]
    [InlineData("--combine average", "--combine average: expected likelihood or vote")]
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
        var original = File.ReadAllBytes(Checkpoint.PathOf(model, Checkpoint.ModelFile)!);

        var (code, output, err) = Run("asr", "adapt", "--checkpoint", model, "--out", adapted, "--rounds", "1", "--balance", "1.5", a, b);

        Assert.Equal(0, code);
        Assert.Contains("adaptation round 1", err);
        Assert.Contains("\"files\": 2", output);
        using (var loaded = SpeechRecognizer.Load(adapted))
        {
            Assert.Equal(Path.GetFullPath(model), loaded.Config.Notes!["adapted_from"]);
            Assert.Equal("1", loaded.Config.Notes["adapt_rounds"]);
        }
        Assert.Equal(original, File.ReadAllBytes(Checkpoint.PathOf(model, Checkpoint.ModelFile)!));
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

    /// <summary>The SHA-256 of every file of a checkpoint folder, to show it was left alone.</summary>
    static Dictionary<string, string> Fingerprint(string folder) =>
        Directory.GetFiles(folder).ToDictionary(f => Path.GetFileName(f),
            f => Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(f))));

    [Fact]
    [Trait("Category", "Slow")]
    public void Train_AgainIntoItsFolder_RefusesOtherOptions_ResumesTheSame_AndForceReplaces()
    {
        var (code, err, data, output) = TrainTiny("again", 1);
        Assert.True(code == 0, err);
        var before = Fingerprint(output);
        Assert.NotNull(Checkpoint.PathOf(output, RunFolder.OptionsFile));
        string[] Again(int epochs, params string[] extra) => ["asr", "train", "--data", data, "--epochs", epochs.ToString(), "--strings", "16",
            "--hidden", "8", "--layers", "1", "--seed", "3", .. extra, "--out", output];

        var other = Run(Again(1, "--mels", "30"));
        Assert.True(other.Code == 1, $"exit {other.Code}: {other.Err}");
        foreach (var word in new[] { output, "--out", "--force", "--resume", "a finished speech recognizer", "features" })
            Assert.Contains(word, other.Err);
        Assert.Equal(before, Fingerprint(output));

        var same = Run(Again(2));
        Assert.True(same.Code == 0, same.Err);
        Assert.Contains("resuming", same.Err);
        using (var json = System.Text.Json.JsonDocument.Parse(same.Out))
        {
            Assert.True(json.RootElement.GetProperty("resumed").GetBoolean());
            Assert.Equal(2, json.RootElement.GetProperty("steps").GetInt64());   // one step an epoch: the second epoch ran
        }

        var forced = Run(Again(1, "--mels", "30", "--force"));
        Assert.True(forced.Code == 0, forced.Err);
        Assert.DoesNotContain("resuming", forced.Err);
        using var options = System.Text.Json.JsonDocument.Parse(RnnNotebooks.Tests.Training.CheckpointText.Read(output, RunFolder.OptionsFile));
        Assert.Equal(30, options.RootElement.GetProperty("features").GetProperty("n_mels").GetInt32());
        Assert.Equal(2, Run(Again(1, "--force", "--resume")).Code);
    }

    [Fact]
    public void Train_Ensemble_IntoAFolderOfOtherOptions_RefusesBeforeTrainingAnyModel()
    {
        var data = ToneVoices();
        var output = Path.Combine(dir, "ensemble");
        var second = Path.Combine(output, "model-2");
        Directory.CreateDirectory(second);
        Seeds.Set(1);
        using (var recognizer = SpeechRecognizer.Create(modelOptions: new AcousticModelOptions(ConvChannels: 8, HiddenSize: 8, NumLayers: 1)))
            recognizer.Save(second, null, TrainingState.Start(new TrainerOptions()));
        var before = Fingerprint(second);

        var (code, _, err) = Run("asr", "train", "--data", data, "--epochs", "1", "--strings", "8", "--hidden", "8", "--layers", "1",
            "--ensemble", "2", "--out", output);

        Assert.True(code == 1, $"exit {code}: {err}");
        Assert.Contains(second, err);
        Assert.Contains("--force", err);
        Assert.False(Directory.Exists(Path.Combine(output, "model-1")), "model 1 was trained before model 2's folder was judged");
        Assert.Equal(before, Fingerprint(second));
    }

    [Fact]
    public void Adapt_IntoAFolderHoldingAModel_RefusesUnlessForced()
    {
        var model = TinyModel();
        var other = Path.Combine(dir, "other");
        Seeds.Set(2);
        using (var recognizer = SpeechRecognizer.Create(modelOptions: new AcousticModelOptions(ConvChannels: 8, HiddenSize: 8, NumLayers: 1)))
            recognizer.Save(other, null, TrainingState.Start(new TrainerOptions()));
        var before = Fingerprint(other);
        var wav = Path.Combine(dir, "a.wav");
        WavFile.Write(wav, new AudioClip(ResamplerTests.Tone(300, 8000, 0.5), 8000));

        var (code, _, err) = Run("asr", "adapt", "--checkpoint", model, "--out", other, "--rounds", "1", wav);

        Assert.True(code == 1, $"exit {code}: {err}");
        Assert.Contains("--force", err);
        Assert.Equal(before, Fingerprint(other));
        (code, _, err) = Run("asr", "adapt", "--checkpoint", model, "--out", other, "--rounds", "1", "--force", wav);
        Assert.True(code == 0, err);
        Assert.NotEqual(before, Fingerprint(other));
    }
}
