using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using RnnNotebooks.Audio;
using RnnNotebooks.Platform;
using RnnNotebooks.Speech;
using RnnNotebooks.Training;

namespace RnnNotebooks.Cli;

/// <summary><c>rnn asr train</c>: the lesson 05 recipe, one model or an ensemble of seeds.</summary>
static class AsrTrainCommand
{
    public static Command Build()
    {
        var data = AsrCommand.Data();
        var exclude = new Option<string[]>("--exclude-speaker")
        {
            Description = "leave a voice out of training, to score it as an unheard voice (repeatable)", HelpName = "NAME",
            Arity = ArgumentArity.OneOrMore,
        };
        var minutes = CliOptions.Double("--minutes", "time budget of each model", 10);
        var epochs = CliOptions.Int("--epochs", "most passes of each model", 1000);
        var strings = CliOptions.Int("--strings", "digit strings per epoch", 800);
        var seed = CliOptions.Int("--seed", "the seed (of the first model of an ensemble)", 0);
        var threads = CliOptions.Threads();
        var output = CliOptions.Text("--out", "the run folder", Path.Combine("artifacts", "asr"), helpName: "DIR");
        var ensemble = CliOptions.Int("--ensemble", "train N models, seeds S … S+N-1, each with --minutes and --epochs, into DIR/model-1 …; scored together", 1);
        var hidden = CliOptions.Int("--hidden", "hidden size", 128);
        var layers = CliOptions.Int("--layers", "recurrent layers", 2);
        var subsampling = CliOptions.Int("--subsampling", "input frames per output frame: 1, 2 (the recipe) or 4", new AcousticModelOptions().Subsampling);
        var mels = CliOptions.Int("--mels", "mel filters (13 MFCCs are taken from them)", new FeatureOptions().NMels);
        var command = new Command("train", "Train the speech recognizer on FSDD digit strings and score it on the official test split; " +
            "a model in --out trained with the same options is continued.")
        {
            data, exclude, minutes, epochs, strings, seed, threads, output, ensemble, hidden, layers, subsampling, mels,
        };
        var existing = CliOptions.Existing(command);
        command.SetAction(p => Train(p.GetValue(data), p.GetValue(exclude) ?? [], p.GetValue(minutes), p.GetValue(epochs), p.GetValue(ensemble),
            p.GetValue(strings), p.GetValue(seed), p.GetValue(output)!, p.GetValue(hidden), p.GetValue(layers), p.GetValue(subsampling),
            p.GetValue(mels), AsrCommand.Threads(p.GetValue(threads), threads), existing.Get(p)));
        return command;
    }

    static int Train(string? data, string[] excludedSpeakers, double minutes, int epochs, int ensemble, int strings, int seed, string outDir,
        int hidden, int layers, int subsampling, int mels, int? threads, ExistingCheckpoint existing)
    {
        if (ensemble < 1) throw new UsageException($"--ensemble {ensemble}: expected a number of models, 1 or more (e.g. 3).");
        // 2 by default. 4 costs about a third as much per update and matched 2 on the four development speakers, but
        // scored the unheard george worse with three seeds of three (docs/experiments/05-speech-recognition.md, "Training: subsampling, speed, epochs").
        if (subsampling is not (1 or 2 or 4))
            throw new UsageException($"--subsampling {subsampling}: expected 1, 2 or 4 (input frames per output frame).");
        if (!(minutes > 0) || epochs < 1 || strings < 1 || hidden < 1 || layers < 1)
            throw new UsageException("--minutes, --epochs, --strings, --hidden and --layers must be positive.");
        if (mels < 1) throw new UsageException($"--mels {mels}: expected a number of mel filters, e.g. 40.");
        // The notebook's features and augmentation: 13 MFCCs (on unheard speakers they beat the 40 log-mel features,
        // since the truncated cepstrum drops the training voices' pitch) and speed perturbation by up to ±30 %.
        var mfcc = Math.Min(13, mels);
        const double speed = 0.3;
        Threads.Apply(threads);
        var recordings = AsrCommand.Recordings(data);
        var excluded = excludedSpeakers.ToHashSet(StringComparer.Ordinal);

        var speakers = recordings.Select(r => r.Speaker).Distinct().Order(StringComparer.Ordinal).ToList();
        var unknown = excluded.Where(s => !speakers.Contains(s)).ToList();
        if (unknown.Count > 0)
            throw new ArgumentException($"--exclude-speaker {string.Join(", ", unknown)}: no such speaker. Speakers: {string.Join(", ", speakers)}.");
        var trainSpeakers = speakers.Where(s => !excluded.Contains(s)).ToList();
        if (trainSpeakers.Count == 0) throw new ArgumentException("Every speaker is excluded; nothing to train on.");

        AsrTrainingOptions Options(int seed) => new(StringsPerEpoch: strings, Epochs: epochs, Seed: seed,
            TimeBudget: TimeSpan.FromMinutes(minutes),
            // Frequency masks cover the same share of the features (up to 6 of 40) whatever their number.
            SpecAugment: new SpecAugmentOptions() with
            {
                MaxFrequencyWidth = Math.Max(1, (int)Math.Round(6.0 * mfcc / 40)),
            },
            Features: new FeatureOptions(NMels: mels, Mfcc: mfcc),
            Strings: DigitStringOptions.Augmented with { SpeedPerturbation = speed },
            Model: new AcousticModelOptions(HiddenSize: hidden, NumLayers: layers, Subsampling: subsampling),
            Speakers: trainSpeakers);
        // An ensemble: the same recipe with seeds S, S+1, …, each in its own directory, then scored together.
        var dirs = ensemble == 1 ? [outDir] : Enumerable.Range(1, ensemble).Select(k => Path.Combine(outDir, $"model-{k}")).ToList();
        // Every model's folder is judged before any trains, so a refusal leaves all of them as they were.
        for (var k = 0; k < ensemble; k++) AsrTraining.Open(dirs[k], Options(seed + k), existing);

        using var ctrlC = new CtrlC();
        var members = new List<object>();
        TrainingState? last = null;
        for (var k = 0; k < ensemble; k++)
        {
            if (ensemble > 1)
            {
                // Each model starts from the memory the first started from: everything of the one before is disposed
                // (TrainOne), collected and its heap pages handed back, so the ensemble's peak is one model's.
                var live = MemoryFloor();
                Console.Error.WriteLine($"asr train: model {k + 1} of {ensemble} starts with {live} live tensors, " +
                    $"rss {NativeHeap.ResidentBytes() / 1e6:F0} MB");
            }
            if (TrainOne(seed + k, dirs[k], ensemble == 1 ? "" : $"model {k + 1} of {ensemble}, ") is { } member) members.Add(member);
            else return CtrlC.Stopped(last!, dirs[k]) ?? CtrlC.ExitCode;   // Ctrl-C: the best model so far is saved
        }
        if (ensemble == 1) Console.WriteLine(JsonSerializer.Serialize(members[0], Json.Options));
        else
        {
            using var all = SpeechRecognizer.LoadEnsemble(dirs);
            var official = AsrTraining.Evaluate(all, AsrTraining.OfficialTestStrings(recordings, trainSpeakers));
            var heldOut = excluded.Order(StringComparer.Ordinal)
                .ToDictionary(s => s, s => AsrTraining.Evaluate(all, AsrTraining.SpeakerTestStrings(recordings, s)));
            Console.WriteLine(JsonSerializer.Serialize(new
            {
                Checkpoint = Path.GetFullPath(outDir),
                Models = members,
                Ensemble = new { OfficialTest = AsrCommand.Summary(official), HeldOut = heldOut.ToDictionary(kv => kv.Key, kv => AsrCommand.Summary(kv.Value)) },
            }, Json.Options));
        }
        return 0;

        object? TrainOne(int seed, string outDir, string which)
        {
            var options = Options(seed);
            Console.Error.WriteLine($"asr train: {which}seed {seed}, speakers {string.Join(", ", trainSpeakers)}; held out: " +
                $"{(excluded.Count > 0 ? string.Join(", ", excluded) : "none")}; budget {minutes} min; {Threads.Current} thread(s)");
            var clock = Stopwatch.StartNew();
            // Every new best is saved at once (a note that the run is unfinished), so a run that dies later, or is
            // stopped with Ctrl-C, still leaves a model that `rnn asr eval` and `transcribe` can use, and resumes.
            Dictionary<string, string> Notes(string status) => new()
            {
                ["status"] = status,
                ["seed"] = seed.ToString(CultureInfo.InvariantCulture),
                ["held_out"] = string.Join(",", excluded.Order(StringComparer.Ordinal)),
                ["hidden"] = hidden.ToString(CultureInfo.InvariantCulture),
                ["layers"] = layers.ToString(CultureInfo.InvariantCulture),
                ["subsampling"] = subsampling.ToString(CultureInfo.InvariantCulture),
                ["lr"] = options.LearningRate.ToString(CultureInfo.InvariantCulture),
                ["speed"] = speed.ToString(CultureInfo.InvariantCulture),
                ["dropout"] = options.Model!.Dropout.ToString(CultureInfo.InvariantCulture),
                ["mels"] = mels.ToString(CultureInfo.InvariantCulture),
                ["mfcc"] = mfcc.ToString(CultureInfo.InvariantCulture),
            };
            var result = AsrTraining.Train(recordings, trainSpeakers, options, outDir, existing,
                s => Notes($"unfinished: the best weights so far, saved during training after epoch {s.Epoch}"),
                m => Console.Error.WriteLine($"  {m}"),
                p => Console.Error.WriteLine($"  epoch {p.Epoch} step {p.Step} loss {p.Loss:F3}" +
                    (p.Metrics.TryGetValue("val_cer", out var v) ? $" val_cer {v:P1}" : "") +
                    $" {p.Elapsed:mm\\:ss} rss {NativeHeap.ResidentBytes() / 1e6:F0} MB"),
                ctrlC.Token);
            var state = last = result.State;
            if (state.History.StopReason == StopReason.Cancelled)
            {
                result.Recognizer.Dispose();
                result.Optimizer.Dispose();
                return null;
            }
            var trainSeconds = clock.Elapsed.TotalSeconds;
            var bestEpoch = state.History.Epochs
                .Select((e, i) => (Epoch: i + 1, ValCer: e.Metrics.TryGetValue("val_cer", out var v) ? v : double.NaN))
                .Where(x => !double.IsNaN(x.ValCer)).OrderBy(x => x.ValCer).ThenBy(x => x.Epoch)
                .Select(x => ((int Epoch, double ValCer)?)x).FirstOrDefault();
            using var recognizer = result.Recognizer;
            using (result.Optimizer)
            {
                var official = AsrTraining.Evaluate(recognizer, AsrTraining.OfficialTestStrings(recordings, trainSpeakers));
                var heldOut = excluded.Order(StringComparer.Ordinal)
                    .ToDictionary(s => s, s => AsrTraining.Evaluate(recognizer, AsrTraining.SpeakerTestStrings(recordings, s)));
                var notes = Notes("complete");
                notes["train_seconds"] = trainSeconds.ToString("F0", CultureInfo.InvariantCulture);
                notes["steps"] = state.Step.ToString(CultureInfo.InvariantCulture);
                notes["official_test_cer"] = official.Cer.ToString("F4", CultureInfo.InvariantCulture);
                if (bestEpoch is { } kept)
                {
                    notes["kept_epoch"] = kept.Epoch.ToString(CultureInfo.InvariantCulture);
                    notes["val_cer"] = kept.ValCer.ToString("F4", CultureInfo.InvariantCulture);
                }
                foreach (var (speaker, e) in heldOut) notes[$"cer_{speaker}"] = e.Cer.ToString("F4", CultureInfo.InvariantCulture);
                // The folder holds the model evaluated here (the run's best); only its notes are brought up to date.
                recognizer.SaveNotes(outDir, notes);
                return new
                {
                    Checkpoint = Path.GetFullPath(outDir),
                    Resumed = result.Resumed,
                    TrainSeconds = Math.Round(trainSeconds),
                    Steps = state.Step,
                    Epochs = state.Epoch,
                    Stop = state.History.StopMessage,
                    KeptEpoch = bestEpoch?.Epoch,
                    ValCer = bestEpoch is { } b ? Math.Round(b.ValCer, 4) : (double?)null,
                    OfficialTest = AsrCommand.Summary(official),
                    HeldOut = heldOut.ToDictionary(kv => kv.Key, kv => AsrCommand.Summary(kv.Value)),
                };
            }
        }
    }

    /// <summary>The number of tensors not disposed (what a model left behind: the garbage collector would free its
    /// memory only when it happens to run, as it cannot see native memory); then collects whatever is unreachable
    /// anyway and hands the C heap's free pages back.</summary>
    static long MemoryFloor()
    {
        var live = TorchSharp.torch.Tensor.TotalCount;
        GC.Collect();
        GC.WaitForPendingFinalizers();
        NativeHeap.Trim();
        return live;
    }

}
