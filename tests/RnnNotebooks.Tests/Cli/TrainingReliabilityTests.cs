using System.Diagnostics;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;
using RnnNotebooks.Captioning;
using RnnNotebooks.Data;
using RnnNotebooks.Tests.Data;
using RnnNotebooks.Tests.Models;
using RnnNotebooks.Tests.Training;
using RnnNotebooks.Text;
using RnnNotebooks.Training;
using RnnNotebooks.Translation;

namespace RnnNotebooks.Tests.Cli;

/// <summary>
/// Hostile-but-fair cases for the training commands (lm, translate, caption): a model already in <c>--out</c> is never
/// replaced unasked, Ctrl-C saves and exits 130, bad numbers and damaged config files give clear errors.
/// </summary>
[Collection("ProcessState")]
public sealed class TrainingReliabilityTests : IDisposable
{
    readonly string dir = Path.Combine(Path.GetTempPath(), $"rnn-reliability-{Guid.NewGuid():N}");

    public TrainingReliabilityTests()
    {
        Directory.CreateDirectory(dir);
        SingleThreadedTorch.Ensure();
    }

    public void Dispose() => Directory.Delete(dir, recursive: true);

    static (int Code, string Out, string Err) Run(params string[] args) => CliRun.Invoke(args);

    string Text()
    {
        var path = Path.Combine(dir, "text.txt");
        File.WriteAllText(path, string.Concat(Enumerable.Repeat("to be or not to be, that is the question.\n", 40)));
        return path;
    }

    static string[] TinyLm(string text, string output, params string[] more) =>
        ["lm", "train", "--data", text, "--hidden", "8", "--layers", "1", "--batch", "4", "--steps", "16", "--out", output, .. more];

    /// <summary>The SHA-256 of every file of a checkpoint folder, to show it was left alone.</summary>
    static Dictionary<string, string> Fingerprint(string folder) =>
        Directory.GetFiles(folder).ToDictionary(f => Path.GetFileName(f), f => Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(f))))!;

    [Theory]
    [InlineData("lm", "--lr", "NaN")]
    [InlineData("lm", "--lr", "Infinity")]
    [InlineData("lm", "--dropout", "NaN")]
    [InlineData("lm", "--minutes", "0,5")]
    [InlineData("lm", "--threads", "1000")]
    [InlineData("lm", "--threads", "-1")]
    [InlineData("lm", "--hidden", "0")]
    [InlineData("translate", "--lr", "NaN")]
    [InlineData("translate", "--dropout", "NaN")]
    [InlineData("translate", "--lr", "Infinity")]
    [InlineData("translate", "--threads", "1000")]
    [InlineData("translate", "--hidden", "0")]
    [InlineData("caption", "--dropout", "NaN")]
    [InlineData("caption", "--lr", "Infinity")]
    [InlineData("caption", "--threads", "1000")]
    [InlineData("caption", "--hidden", "0")]
    public void Train_BadNumber_IsAUsageErrorNamingTheOption(string command, string option, string value)
    {
        string[] args = command switch
        {
            "lm" => ["lm", "train", "--data", Text(), option, value, "--out", Path.Combine(dir, "m")],
            "translate" => ["translate", "train", "--data", "fra-eng", option, value, "--out", Path.Combine(dir, "m")],
            _ => ["caption", "train", option, value, "--out", Path.Combine(dir, "m")],
        };
        var (code, _, error) = Run(args);
        Assert.True(code == 2, $"exit {code}: {error}");
        Assert.Contains(option, error);
        Assert.False(Directory.Exists(Path.Combine(dir, "m")), "nothing may be written for a rejected command");
    }

    [Fact]
    public void Threads_ZeroIsAutomatic_AndMoreThanTheCoresIsRejected()
    {
        Assert.Null(Threads.Requested(0));
        Assert.Equal(1, Threads.Requested(1));
        Assert.Equal(Environment.ProcessorCount, Threads.Requested(Environment.ProcessorCount));
        Assert.Throws<ArgumentOutOfRangeException>(() => Threads.Requested(Environment.ProcessorCount + 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => Threads.Requested(-1));
    }

    string SaveUntrainedTranslator()
    {
        var sentences = new IReadOnlyList<string>[] { ["a", "b", "c"], ["b", "c", "d"] };
        var source = Vocabulary.OfSentences(sentences);
        var target = Vocabulary.OfSentences(sentences);
        var options = new Seq2SeqOptions(source.Size, target.Size, 4, 4);
        var translator = new Translator(new Seq2Seq(options), source, target, new TranslatorConfig("fra-eng", "fra", "eng", options, 12, false));
        var folder = Path.Combine(dir, "translator");
        translator.Save(folder, null, TrainingState.Start(new TrainerOptions()));
        translator.Model.Dispose();
        return folder;
    }

    string SaveUntrainedCaptioner()
    {
        var images = new[] { new CaptionedImage("x.jpg", ["a dog runs"], [["a", "dog", "runs"]]) };
        var captioner = CaptionTraining.Create(images, hidden: 8, embedding: 4, attentionSize: 4, minCount: 1);
        var folder = Path.Combine(dir, "captioner");
        captioner.Save(folder, null, TrainingState.Start(new TrainerOptions()));
        captioner.Model.Dispose();
        return folder;
    }

    static void EditJson(string folder, string name, Action<JsonObject> edit) => CheckpointText.Edit(folder, name, text =>
    {
        var json = JsonNode.Parse(text)!.AsObject();
        edit(json);
        return json.ToJsonString();
    });

    [Fact]
    public void TranslatorJson_WithoutModel_IsAnErrorNamingTheFileAndTheKey()
    {
        var folder = SaveUntrainedTranslator();
        EditJson(folder, "translator.json", j => j.Remove("model"));

        var (code, _, error) = Run("translate", "eval", "--checkpoint", folder);

        Assert.True(code == 1, $"exit {code}: {error}");
        Assert.Contains(Checkpoint.PathOf(folder, "translator.json")!, error);   // the config's file, stored under its hashed name
        Assert.Contains("\"model\" is missing", error);
    }

    [Fact]
    public void CaptionerJson_WithoutModel_OrWithHiddenZero_IsAnErrorNamingTheFileAndTheKey()
    {
        var folder = SaveUntrainedCaptioner();
        const string config = "captioner.json";
        var original = CheckpointText.Read(folder, config);
        EditJson(folder, config, j => j["model"]!["hidden"] = 0);

        var (code, _, error) = Run("caption", "run", "--checkpoint", folder, "x.jpg");
        Assert.True(code == 1, $"exit {code}: {error}");
        Assert.Contains(Checkpoint.PathOf(folder, config)!, error);
        Assert.Contains("\"model.hidden\" = 0", error);

        CheckpointText.Write(folder, config, original);
        EditJson(folder, config, j => j.Remove("model"));
        (code, _, error) = Run("caption", "run", "--checkpoint", folder, "x.jpg");
        Assert.True(code == 1, $"exit {code}: {error}");
        Assert.Contains("\"model\" is missing", error);
    }

    [Fact]
    public void LmTrain_AgainWithOtherOptions_RefusesAndLeavesTheModel_ForceReplacesIt()
    {
        var text = Text();
        var output = Path.Combine(dir, "lm");
        var first = Run(TinyLm(text, output, "--epochs", "1"));
        Assert.True(first.Code == 0, first.Err);
        var before = Fingerprint(output);

        var other = Run(TinyLm(text, output, "--epochs", "1", "--lr", "0.01"));
        Assert.True(other.Code == 1, $"exit {other.Code}: {other.Err}");
        foreach (var word in new[] { output, "--out", "--force", "--resume", "a finished language model", "learning_rate" })
            Assert.Contains(word, other.Err);
        Assert.Equal(before, Fingerprint(output));

        var forced = Run(TinyLm(text, output, "--epochs", "1", "--lr", "0.01", "--force"));
        Assert.True(forced.Code == 0, forced.Err);
        Assert.DoesNotContain("resuming", forced.Err);
        using var options = JsonDocument.Parse(CheckpointText.Read(output, RunFolder.OptionsFile));
        Assert.Equal(0.01, options.RootElement.GetProperty("learning_rate").GetDouble());
    }

    [Fact]
    public void LmTrain_ResumeWithOtherOptions_ContinuesWithTheSavedOnes()
    {
        var text = Text();
        var output = Path.Combine(dir, "lm");
        Assert.Equal(0, Run(TinyLm(text, output, "--epochs", "1")).Code);

        var (code, stdout, error) = Run("lm", "train", "--data", text, "--epochs", "2", "--out", output, "--resume");

        Assert.True(code == 0, error);
        Assert.Contains("resuming", error);
        using var metrics = JsonDocument.Parse(stdout);
        Assert.Equal(8, metrics.RootElement.GetProperty("model").GetProperty("hidden_size").GetInt32());
        Assert.Equal(2, metrics.RootElement.GetProperty("epochs_completed").GetInt32());
    }

    [Fact]
    public void TranslateTrain_Twice_ResumesTheSameOptions_RefusesOthers_AndNeverReplacesTheFinishedModel()
    {
        RequiredData.Dataset("fra-eng");
        var output = Path.Combine(dir, "translate");
        string[] Tiny(string hidden = "8") => ["translate", "train", "--data", "fra-eng", "--max-pairs", "300", "--epochs", "1", "--hidden", hidden,
            "--embedding", "8", "--batch", "32", "--threads", "1", "--out", output];
        var first = Run(Tiny());
        Assert.True(first.Code == 0, first.Err);
        var before = Fingerprint(output);

        var other = Run(Tiny(hidden: "16"));
        Assert.True(other.Code == 1, $"exit {other.Code}: {other.Err}");
        Assert.Contains("--force", other.Err);
        Assert.Equal(before, Fingerprint(output));

        var again = Run(Tiny());
        Assert.True(again.Code == 0, again.Err);
        Assert.Contains("resuming", again.Err);
        using var json = JsonDocument.Parse(again.Out);
        Assert.True(json.RootElement.GetProperty("resumed").GetBoolean());
        Assert.Equal(JsonDocument.Parse(first.Out).RootElement.GetProperty("steps").GetInt64(), json.RootElement.GetProperty("steps").GetInt64());
        Translator.Load(output).Model.Dispose();
    }

    [Fact]
    public void CaptionTrain_IntoAFolderOfAnotherModel_RefusesBeforePreparingFeatures()
    {
        RequiredData.Dataset("flickr8k");
        var folder = SaveUntrainedCaptioner();
        var before = Fingerprint(folder);
        var clock = Stopwatch.StartNew();

        var (code, _, error) = Run("caption", "train", "--max-images", "3", "--hidden", "8", "--out", folder);

        Assert.True(code == 1, $"exit {code}: {error}");
        Assert.Contains("--force", error);
        Assert.Contains("options are unknown", error);
        Assert.Equal(before, Fingerprint(folder));
    }

    [Fact]
    public void CaptionTraining_OneRunOverEveryEpoch_ReportsTheWholePlan()
    {
        // rnn caption train --minutes 15 once reported "epoch 1/1 … epoch 2/2 … epoch 4/4": one trainer call per epoch.
        RnnNotebooks.Training.Seeds.Set(1);
        var (images, features) = Captioning.CaptioningTests.ToyData(4);
        var captioner = Captioning.CaptioningTests.ToyCaptioner(images);
        var seen = new List<(int Epoch, int Epochs)>();

        var result = CaptionTraining.Train(captioner, images, images, features,
            new CaptionTrainingOptions(Epochs: 3, TimeBudget: TimeSpan.FromMinutes(5), BatchSize: 2, DevImages: 2, LogEvery: 1),
            progress: p => seen.Add((p.Epoch, p.Epochs)));

        Assert.Equal(3, result.State.Epoch);
        Assert.All(seen, s => Assert.Equal(3, s.Epochs));
        Assert.Equal([1, 2, 3], seen.Select(s => s.Epoch).Distinct());
        captioner.Model.Dispose();
    }

    /// <summary><c>rnn</c> in its own process, its output collected as it comes.</summary>
    sealed class RnnProcess : IDisposable
    {
        readonly Process process;
        readonly System.Collections.Concurrent.ConcurrentQueue<string> errors = new();
        readonly System.Text.StringBuilder stdout = new();

        public RnnProcess(string[] args)
        {
            var rnn = typeof(RnnNotebooks.Cli.Cli).Assembly.Location;
            Assert.True(File.Exists(Path.ChangeExtension(rnn, ".runtimeconfig.json")), $"no runtimeconfig beside {rnn}");
            // A test host started in the background by a shell without job control has SIGINT ignored, and a child
            // inherits that: the runtime would never see the Ctrl-C. env gives the child the default disposition back.
            var start = new ProcessStartInfo("env") { RedirectStandardError = true, RedirectStandardOutput = true };
            foreach (var a in (string[])["--default-signal=INT", "dotnet", rnn, .. args]) start.ArgumentList.Add(a);
            process = Process.Start(start)!;
            process.ErrorDataReceived += (_, e) => { if (e.Data is { } line) errors.Enqueue(line); };
            process.BeginErrorReadLine();
            process.OutputDataReceived += (_, e) => { if (e.Data is { } line) lock (stdout) stdout.AppendLine(line); };
            process.BeginOutputReadLine();
        }

        public bool HasExited => process.HasExited;

        public string Errors => string.Join("\n", errors);

        public string Output { get { lock (stdout) return stdout.ToString(); } }

        /// <summary>Sends SIGINT, as Ctrl-C in a terminal does.</summary>
        public void CtrlC()
        {
            using var kill = Process.Start("kill", ["-INT", process.Id.ToString()])!;
            kill.WaitForExit();
        }

        /// <summary>Sends <paramref name="signal"/> to the process (without starting one per signal, as <see cref="CtrlC"/>
        /// does); returns libc's <c>kill</c> result.</summary>
        public int Signal(int signal) => kill(process.Id, signal);

        [System.Runtime.InteropServices.DllImport("libc")] static extern int kill(int pid, int signal);

        /// <summary>Waits for the end (at most <paramref name="limit"/>) and returns the exit code (128 + the signal when a
        /// signal ended it).</summary>
        public int Exit(TimeSpan limit)
        {
            Assert.True(process.WaitForExit(limit), $"rnn did not end within {limit}:\n{Errors}");
            process.WaitForExit();
            return process.ExitCode;
        }

        public void Dispose()
        {
            if (!process.HasExited) process.Kill();
            process.Dispose();
        }
    }

    /// <summary>Runs <c>rnn</c> with <paramref name="args"/> in its own process, sends it SIGINT (Ctrl-C) half a second
    /// after <paramref name="output"/> first holds a checkpoint (<paramref name="presses"/> times, 20 ms apart), and checks
    /// that it then ends with 130 and prints nothing on stdout (a result there means a finished run); returns what it
    /// wrote to stderr.</summary>
    static string Interrupt(string output, string[] args, int presses)
    {
        using var rnn = new RnnProcess(args);
        var clock = Stopwatch.StartNew();
        while (!File.Exists(Path.Combine(output, Checkpoint.ManifestFile)) && clock.Elapsed < TimeSpan.FromMinutes(2) && !rnn.HasExited)
            Thread.Sleep(100);
        Assert.False(rnn.HasExited, rnn.Errors);
        Thread.Sleep(500);

        for (var i = 0; i < presses; i++)
        {
            if (i > 0) Thread.Sleep(20);
            rnn.CtrlC();
        }
        var code = rnn.Exit(TimeSpan.FromMinutes(1));
        Assert.True(code == 130, $"exit {code}: {rnn.Errors}");
        Assert.Equal("", rnn.Output);
        return rnn.Errors;
    }

    /// <summary><see cref="Interrupt"/> once: the command stops, saves and says so.</summary>
    static void InterruptOnceSaved(string output, string[] args) =>
        Assert.Contains("Stopped by Ctrl-C", Interrupt(output, args, presses: 1));

    [Fact]
    public void CtrlC_FirstPressCancels_ASecondLetsTheRuntimeEndTheProcess()
    {
        var ctrlC = new RnnNotebooks.Cli.CtrlC();
        try
        {
            Assert.False(ctrlC.Token.IsCancellationRequested);
            Assert.True(ctrlC.Press(), "the first press keeps the process alive, to save");
            Assert.True(ctrlC.Token.IsCancellationRequested);
            Assert.False(ctrlC.Press(), "a second press must let the runtime end the process");
            Assert.False(ctrlC.Press());
        }
        finally
        {
            ctrlC.Dispose();
        }
    }

    [Fact]
    public void LmTrain_SecondCtrlC_QuitsAtOnce_AndTheFolderStillHoldsALoadableModel()
    {
        // The second press may land in the middle of the save the first asked for: whatever it cuts short, the folder
        // must load as the model before that save or the one after it.
        var output = Path.Combine(dir, "lm");
        Interrupt(output, TinyLm(Text(), output, "--epochs", "100000", "--threads", "1"), presses: 2);
        var loaded = RnnNotebooks.Models.LanguageModelCheckpoint.Load(output, m => new FastAdam(m.parameters(), 0.01));
        loaded.Model.Dispose();
        loaded.Optimizer!.Dispose();
        loaded.CarriedState?.Dispose();
    }

    [Fact]
    public void LmTrain_CtrlC_StopsSavesSaysSo_AndExits130()
    {
        var output = Path.Combine(dir, "lm");
        InterruptOnceSaved(output, TinyLm(Text(), output, "--epochs", "100000", "--threads", "1"));
        var state = Checkpoint.ReadState(output);
        Assert.Equal(StopReason.Cancelled, state.History.StopReason);
        var loaded = RnnNotebooks.Models.LanguageModelCheckpoint.Load(output);
        loaded.Model.Dispose();
    }

    [Fact]
    public void TranslateTrain_CtrlC_StopsSavesSaysSo_AndExits130()
    {
        RequiredData.Dataset("fra-eng");
        var output = Path.Combine(dir, "translate");
        var err = Interrupt(output, ["translate", "train", "--data", "fra-eng", "--max-pairs", "300", "--epochs", "100000", "--hidden", "8",
            "--embedding", "8", "--batch", "32", "--threads", "1", "--out", output], presses: 1);
        Assert.Contains("Stopped by Ctrl-C", err);
        Translator.Load(output).Model.Dispose();
    }

    [Fact]
    [Trait("Category", "Slow")]
    public void CaptionTrain_CtrlC_StopsSavesSaysSo_AndExits130()
    {
        RequiredData.Dataset("flickr8k");
        var output = Path.Combine(dir, "caption");
        var err = Interrupt(output, ["caption", "train", "--max-images", "12", "--epochs", "100000", "--hidden", "16", "--embedding", "8",
            "--min-count", "1", "--cache", Path.Combine(dir, "cache"), "--threads", "1", "--out", output], presses: 1);
        Assert.Contains("Stopped by Ctrl-C", err);
        Captioner.Load(output).Model.Dispose();
    }

    [Fact]
    [Trait("Category", "Slow")]
    public void AsrTrain_CtrlC_StopsKeepsTheBestModelSaysSo_AndExits130()
    {
        var data = Path.Combine(dir, "tones");
        Directory.CreateDirectory(data);
        foreach (var (speaker, shift) in new[] { ("ann", 1.0), ("bo", 1.2) })
            for (var digit = 0; digit < 10; digit++)
                for (var i = 0; i < 14; i++)
                    RnnNotebooks.Audio.WavFile.Write(Path.Combine(data, $"{digit}_{speaker}_{i}.wav"),
                        new RnnNotebooks.Audio.AudioClip(RnnNotebooks.Tests.Audio.ResamplerTests.Tone((300 + 150 * digit) * shift, 8000, 0.2), 8000));
        var output = Path.Combine(dir, "asr");
        InterruptOnceSaved(output, ["asr", "train", "--data", data, "--epochs", "100000", "--strings", "16", "--hidden", "8",
            "--layers", "1", "--threads", "1", "--out", output]);
        Assert.NotNull(Checkpoint.PathOf(output, RunFolder.OptionsFile));
        RnnNotebooks.Speech.SpeechRecognizer.Load(output).Dispose();
    }

    [Fact]
    public void LmTrain_SignalsWhileTheLstmTrains_NeverDamageTheHeap_AndCtrlCStillStopsIt()
    {
        // Issue 33: a signal that interrupts libtorch's oneDNN LSTM can damage the heap; Ctrl-C hit it about once in 40.
        // SIGCONT (what `fg` sends) is handled by the runtime and otherwise harmless, so it can be sent thousands of times:
        // before ComputeSignals this run aborted within about 2 s ("corrupted size vs. prev_size" and the like).
        if (!OperatingSystem.IsLinux()) Assert.Skip("signals are a Linux matter here; ComputeSignals does nothing elsewhere");
        var output = Path.Combine(dir, "lm");
        using var rnn = new RnnProcess(["lm", "train", "--data", Text(), "--hidden", "64", "--layers", "1", "--batch", "4",
            "--steps", "16", "--epochs", "100000", "--threads", "1", "--out", output]);
        var clock = Stopwatch.StartNew();
        while (!File.Exists(Path.Combine(output, Checkpoint.ManifestFile)) && clock.Elapsed < TimeSpan.FromMinutes(2) && !rnn.HasExited)
            Thread.Sleep(50);

        var sent = 0;
        clock.Restart();
        while (clock.Elapsed < TimeSpan.FromSeconds(8) && !rnn.HasExited)
        {
            Assert.Equal(0, rnn.Signal(SigCont));
            sent++;
            Thread.Sleep(TimeSpan.FromMilliseconds(0.5));
        }
        Assert.False(rnn.HasExited, $"rnn ended after {sent} SIGCONTs:\n{rnn.Errors}");
        rnn.CtrlC();
        var code = rnn.Exit(TimeSpan.FromMinutes(1));
        Assert.True(code == 130, $"exit {code} after {sent} SIGCONTs:\n{rnn.Errors}");
        Assert.Contains("Stopped by Ctrl-C", rnn.Errors);
        var loaded = RnnNotebooks.Models.LanguageModelCheckpoint.Load(output, m => new FastAdam(m.parameters(), 0.01));
        loaded.Model.Dispose();
        loaded.Optimizer!.Dispose();
        loaded.CarriedState?.Dispose();
    }

    const int SigCont = 18;

    [Fact]
    [Trait("Category", "Slow")]
    public void LmTrain_CtrlCAtRandomMoments_AlwaysExits130_LeavesALoadableCheckpoint_AndNoHeapError()
    {
        // Issue 33 saw glibc's "corrupted size vs. prev_size" once after a Ctrl-C. Each round resumes the folder and is
        // interrupted at a random moment: while starting, loading, training, or saving; once or twice.
        var output = Path.Combine(dir, "lm");
        var args = TinyLm(Text(), output, "--epochs", "100000", "--threads", "1");
        InterruptOnceSaved(output, args);
        var random = new Random(33);
        for (var round = 0; round < 12; round++)
        {
            var wait = TimeSpan.FromMilliseconds(random.Next(200, 4000));
            var presses = round % 4 == 3 ? 2 : 1;
            using var rnn = new RnnProcess(args);
            Thread.Sleep(wait);
            Assert.False(rnn.HasExited, rnn.Errors);
            for (var i = 0; i < presses; i++)
            {
                if (i > 0) Thread.Sleep(random.Next(0, 300));
                rnn.CtrlC();
            }
            var code = rnn.Exit(TimeSpan.FromMinutes(1));
            var said = $"round {round} (Ctrl-C x{presses} after {wait.TotalMilliseconds} ms): exit {code}\n{rnn.Errors}";
            Assert.True(code == 130, said);
            foreach (var word in new[] { "corrupted", "double free", "free(): ", "malloc(): ", "   at " })
                Assert.False(rnn.Errors.Contains(word, StringComparison.Ordinal), said);
            var loaded = RnnNotebooks.Models.LanguageModelCheckpoint.Load(output, m => new FastAdam(m.parameters(), 0.01));
            loaded.Model.Dispose();
            loaded.Optimizer!.Dispose();
            loaded.CarriedState?.Dispose();
        }

        // A last round stopped once training runs: its save also removes what the killed saves left behind.
        using (var last = new RnnProcess(args))
        {
            var clock = Stopwatch.StartNew();
            while (!last.Errors.Contains("resuming") && !last.HasExited && clock.Elapsed < TimeSpan.FromMinutes(1)) Thread.Sleep(50);
            Thread.Sleep(500);
            last.CtrlC();
            Assert.Equal(130, last.Exit(TimeSpan.FromMinutes(1)));
            Assert.Contains("Stopped by Ctrl-C", last.Errors);
        }
        Assert.Empty(Directory.GetFiles(output, "*.tmp"));
    }
}
