using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;
using RnnNotebooks.Decoding;
using RnnNotebooks.Metrics;
using RnnNotebooks.Models;
using RnnNotebooks.Notebook;
using RnnNotebooks.Text;
using RnnNotebooks.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace RnnNotebooks.Cli;

/// <summary><c>rnn lm train | eval | sample</c>: lesson 03's language models at longer budgets.</summary>
static class LmCommand
{
    public const string Usage =
        "rnn lm train --data tinyshakespeare|ptb|PATH [--level char|word] [--hidden N] [--layers N] [--cell lstm|gru|rnn] " +
        "[--dropout P] [--tie | --no-tie] [--batch N] [--steps N] [--lr X] [--schedule plateau|cosine|hold-cosine] [--decay-fraction F] [--minutes M] [--epochs N] [--seed N] [--out DIR]\n" +
        "       rnn lm eval --checkpoint DIR --text FILE\n" +
        "       rnn lm sample --checkpoint DIR [--prompt TEXT] [--temperature T] [--length N] [--top-k K] [--seed N]";

    const string SettingsFile = "train.json";
    const string MetricsFile = "metrics.json";

    public static int Run(string[] argv)
    {
        if (argv.Length == 0) throw new UsageException("say what to do: train, eval or sample.");
        return argv[0] switch
        {
            "train" => Train(argv[1..]),
            "eval" => Eval(argv[1..]),
            "sample" => Sample(argv[1..]),
            var other => throw new UsageException($"unknown lm command '{other}': use train, eval or sample."),
        };
    }

    /// <summary>What a run was started with; saved beside the checkpoint so a resumed run continues alike.</summary>
    sealed record TrainSettings(string Data, string Level, int Batch, int Steps, double LearningRate, int Epochs, double? Minutes, int Seed);

    static int Train(string[] argv)
    {
        var args = new CliArgs(argv, new HashSet<string> { "tie", "no-tie" }, new HashSet<string>
        {
            "data", "level", "hidden", "layers", "cell", "dropout", "batch", "steps", "lr", "schedule", "decay-fraction", "minutes", "epochs", "seed", "out",
        });
        var data = args.Required("data");
        var levelText = args.Option("level") ?? (data == "ptb" ? "word" : "char");
        var level = levelText switch
        {
            "char" => TokenLevel.Char,
            "word" => TokenLevel.Word,
            _ => throw new UsageException($"--level {levelText}: expected char or word."),
        };
        var isChar = level == TokenLevel.Char;
        var hidden = Positive(args, "hidden", isChar ? 512 : 256);
        var layers = Positive(args, "layers", 2);
        var cellText = args.Option("cell") ?? "lstm";
        var cell = cellText switch
        {
            "lstm" => RecurrentCell.Lstm,
            "gru" => RecurrentCell.Gru,
            "rnn" => RecurrentCell.Rnn,
            _ => throw new UsageException($"--cell {cellText}: expected lstm, gru or rnn."),
        };
        var dropout = args.Double("dropout", isChar ? 0.1 : 0.4);
        if (dropout is < 0 or >= 1) throw new UsageException($"--dropout {dropout}: expected a probability in [0, 1).");
        var (tieFlag, noTieFlag) = (args.Flag("tie"), args.Flag("no-tie"));
        if (tieFlag && noTieFlag) throw new UsageException("--tie and --no-tie contradict each other.");
        var tie = tieFlag || (!isChar && !noTieFlag);
        var batch = Positive(args, "batch", isChar ? 32 : 20);
        var steps = Positive(args, "steps", isChar ? 100 : 35);
        var lr = args.Double("lr", isChar ? 2e-3 : 1e-3);
        if (lr <= 0) throw new UsageException($"--lr {lr}: expected a positive learning rate.");
        // plateau: halve the rate after a pass whose validation loss is worse than the best so far.
        // cosine: decay it smoothly to zero over this invocation's budget (--minutes, else --epochs).
        // hold-cosine: keep it for most of the budget, then decay it to zero over the last --decay-fraction of it.
        var (scheduleText, decayFraction) = args.Schedule("plateau", "cosine", "hold-cosine");
        var scheduled = scheduleText != "plateau";                                     // the rate follows a curve, not the plateau rule
        var minutesText = args.Option("minutes");
        double? minutes = minutesText is null ? null
            : double.TryParse(minutesText, System.Globalization.CultureInfo.InvariantCulture, out var m) && m > 0 ? m
            : throw new UsageException($"--minutes {minutesText}: expected a positive number.");
        var epochs = Positive(args, "epochs", minutes is null ? (isChar ? 10 : 20) : 1000);
        var seed = args.Int("seed", 42);
        var output = args.Option("out") ?? Path.Combine("runs", $"lm-{Path.GetFileNameWithoutExtension(data)}-{levelText}");
        args.EnsureAllUsed();

        var corpus = data switch
        {
            "tinyshakespeare" => TextCorpus.TinyShakespeare(),
            "ptb" => TextCorpus.PennTreebank(),
            _ => TextCorpus.FromFile(data),
        };
        Seeds.Set(seed);
        var resuming = File.Exists(Path.Combine(output, Checkpoint.ManifestFile));
        LanguageModel model;
        Tokenizer tokenizer;
        optim.Optimizer optimizer;
        TrainingState? state = null;
        RecurrentState? resumedCarried = null;
        if (resuming)
        {
            var loaded = LanguageModelCheckpoint.Load(output, mdl => new FastAdam(mdl.parameters(), lr));
            (model, tokenizer, state, optimizer) = (loaded.Model, loaded.Tokenizer, loaded.State, loaded.Optimizer!);
            resumedCarried = loaded.CarriedState;
            if (tokenizer.Level != level)
                throw new InvalidDataException($"{output}: holds a {tokenizer.Unit}-level model, but --level {levelText} was asked for. Use another --out.");
            if (ReadSettings(output) is { } saved)
            {
                (batch, steps) = (saved.Batch, saved.Steps);
                foreach (var g in optimizer.ParamGroups) g.LearningRate = saved.LearningRate;
            }
            Console.Error.WriteLine($"resuming {output}: epoch {loaded.State.Epoch}, step {loaded.State.Step}; model options and vocabulary come from the checkpoint.");
        }
        else
        {
            // Character level: the vocabulary is the character set of the whole text, so the validation text
            // never meets an unknown character. Word level: the training words only (the rest become <unk>).
            tokenizer = isChar
                ? Tokenizer.ForChars(CharVocabulary.FromText(corpus.Train + corpus.Validation + (corpus.Test ?? "")))
                : Tokenizer.ForWords(WordVocabulary.FromText(corpus.Train, maxSize: 10_002));
            model = new LanguageModel(new LanguageModelOptions(tokenizer.Size, hidden, layers, cell, Dropout: dropout, TieWeights: tie));
            optimizer = new FastAdam(model.parameters(), lr);
        }
        using var disposeModel = model;
        using var disposeOptimizer = optimizer;
        var threads = Threads.Apply(Threads.ForWorkload(model.Options.TrainingFlops(batch, steps)));

        var trainIds = tokenizer.Encode(corpus.Train);
        var validIds = tokenizer.Encode(corpus.Validation);
        using var streams = new TokenStreams(trainIds, batch, steps);
        using var lossFn = new CarriedStateLoss(model);
        if (resumedCarried is not null) lossFn.Restore(resumedCarried);
        var o = model.Options;
        Console.Error.WriteLine(
            $"{corpus.Name}, {tokenizer.Unit} level: {trainIds.Length:N0} training and {validIds.Length:N0} validation tokens, vocabulary {tokenizer.Size} " +
            $"({corpus.Split}). Model: {o.NumLayers}×{o.HiddenSize} {o.Cell}, dropout {o.Dropout}, tied {o.TieWeights}; " +
            $"batch {batch} × {steps} steps, Adam lr {optimizer.ParamGroups.First().LearningRate:g3}, {threads} thread(s).");
        WriteSettings(output, new TrainSettings(data, levelText, batch, steps, optimizer.ParamGroups.First().LearningRate, epochs, minutes, seed));

        var display = new LiveProgress($"lm {corpus.Name} {tokenizer.Unit}", TimeSpan.FromSeconds(10));
        var budget = minutes is { } mins ? TimeSpan.FromMinutes(mins) : (TimeSpan?)null;
        var clock = Stopwatch.StartNew();
        var baseRate = optimizer.ParamGroups.First().LearningRate;
        var firstStep = state?.Step ?? 0;
        var lastStep = Math.Max(firstStep + 1, (long)streams.Count * epochs);
        Func<long, double> progressAt = step => budget is { } b ? clock.Elapsed / b : (step - firstStep) / (double)(lastStep - firstStep);
        Action<long>? schedule = scheduleText switch
        {
            "cosine" => step => LearningRates.Set(optimizer, LearningRates.Cosine(baseRate, progressAt(step))),
            "hold-cosine" => step => LearningRates.Set(optimizer, LearningRates.HoldThenCosine(baseRate, progressAt(step), decayFraction)),
            _ => null,
        };
        using var cancel = new CancellationTokenSource();
        ConsoleCancelEventHandler onCancel = (_, e) => { e.Cancel = true; cancel.Cancel(); Console.Error.WriteLine("stopping after this batch; saving the checkpoint…"); };
        Console.CancelKeyPress += onCancel;
        var best = state?.History.Epochs.Select(e => e.Metrics.GetValueOrDefault("val_loss", double.NaN)).Where(double.IsFinite).DefaultIfEmpty(double.PositiveInfinity).Min()
            ?? double.PositiveInfinity;
        try
        {
            // One epoch per Fit call, so a checkpoint is saved after every epoch and the learning rate can be
            // halved when the validation loss stops improving.
            while ((state?.Epoch ?? 0) < epochs && !cancel.IsCancellationRequested)
            {
                var left = budget - clock.Elapsed;
                if (left is { } l && l <= TimeSpan.Zero) break;
                var epochTarget = (state?.Epoch ?? 0) + 1;
                state = Trainer.Fit(model, optimizer, _ => streams.Batches(), lossFn.Compute,
                    new TrainerOptions(Epochs: epochTarget, ClipGradNorm: 1.0, TimeBudget: left, LogEvery: 20, BeforeStep: schedule),
                    tokens: b => b.Tokens,
                    validate: () => Validation(model, validIds),
                    progress: p => display.Report(minutes is null ? p with { Epochs = epochs, TotalSteps = (long)streams.Count * epochs } : p),
                    resume: state,
                    cancellationToken: cancel.Token);
                LanguageModelCheckpoint.Save(output, model, tokenizer, optimizer, state, lossFn.State);
                if (state.History.Epochs.Count > 0 && state.History.Epochs[^1].Epoch == state.Epoch && state.BatchInEpoch == 0)
                {
                    var summary = state.History.Epochs[^1];
                    var val = summary.Metrics["val_loss"];
                    display.Complete();
                    Console.Error.WriteLine(
                        $"epoch {summary.Epoch}: train {summary.TrainLoss:F4}, validation {val:F4} nats/{tokenizer.Unit} " +
                        $"(perplexity {Math.Exp(val):F2}), {summary.TokensPerSecond:F0} tokens/s; checkpoint saved to {output}");
                    if (val > best && !scheduled)
                        foreach (var g in optimizer.ParamGroups) g.LearningRate *= 0.5;
                    best = Math.Min(best, val);
                    // A scheduled run saves its base rate: running the command again starts a new decay from it.
                    WriteSettings(output, new TrainSettings(data, levelText, batch, steps, scheduled ? baseRate : optimizer.ParamGroups.First().LearningRate,
                        epochs, minutes, seed));
                }
                if (state.History.StopReason is not StopReason.Completed) break;
            }
        }
        finally
        {
            Console.CancelKeyPress -= onCancel;
        }
        if (state is null) throw new InvalidOperationException("No training happened: --epochs and --minutes leave no room.");
        if (state.History.StopReason is StopReason.NonFiniteLoss)
            Console.Error.WriteLine(state.History.StopMessage);

        var validScore = Perplexities.Evaluate(model, validIds);
        var testScore = corpus.Test is { } test ? Perplexities.Evaluate(model, tokenizer.Encode(test)) : null;
        var metrics = new JsonObject
        {
            ["data"] = corpus.Name,
            ["split"] = corpus.Split,
            ["level"] = tokenizer.Unit,
            ["model"] = JsonSerializer.SerializeToNode(model.Options, Json.Options),
            ["batch"] = batch,
            ["steps"] = steps,
            ["epochs_completed"] = state.Epoch,
            ["optimizer_steps"] = state.Step,
            ["training_seconds"] = Math.Round(state.ElapsedSeconds, 1),
            ["tokens_per_second"] = state.History.Epochs.LastOrDefault()?.TokensPerSecond is { } tps ? Math.Round(tps) : null,
            ["threads"] = threads,
            ["schedule"] = scheduleText,
            ["stop_reason"] = state.History.StopReason.ToString(),
            ["validation"] = JsonSerializer.SerializeToNode(validScore, Json.Options),
            ["test"] = testScore is null ? null : JsonSerializer.SerializeToNode(testScore, Json.Options),
            ["val_loss_by_epoch"] = new JsonArray([.. state.History.Series("val_loss").Select(v => (JsonNode?)JsonValue.Create(Math.Round(v, 5)))]),
        };
        AtomicFile.WriteAllText(Path.Combine(output, MetricsFile), metrics.ToJsonString(Json.Options));
        Console.WriteLine(metrics.ToJsonString(Json.Options));
        Console.Error.WriteLine($"{state.History.StopMessage} Checkpoint and {MetricsFile} in {output}; run it again to continue training.");
        return 0;
    }

    static Dictionary<string, double> Validation(LanguageModel model, int[] validIds)
    {
        var score = Perplexities.Evaluate(model, validIds);
        return new() { ["val_loss"] = score.NatsPerToken, ["val_ppl"] = score.Perplexity };
    }

    static int Eval(string[] argv)
    {
        var args = new CliArgs(argv, new HashSet<string>(), new HashSet<string> { "checkpoint", "text" });
        var dir = args.Required("checkpoint");
        var textPath = args.Required("text");
        args.EnsureAllUsed();
        if (!File.Exists(textPath) && !Directory.Exists(textPath))
            throw new FileNotFoundException($"{textPath}: no such file. Give the text to score with --text FILE.", textPath);
        var text = TextFile.ReadUtf8(textPath);
        if (string.IsNullOrWhiteSpace(text))
            throw new InvalidDataException($"{textPath}: the file is empty; there is nothing to score. Give a text with at least two tokens.");

        var loaded = LanguageModelCheckpoint.Load(dir);
        using var model = loaded.Model;
        int[] ids;
        try
        {
            ids = loaded.Tokenizer.Encode(text);
        }
        catch (ArgumentException e)
        {
            throw new InvalidDataException($"{textPath}: {OutOfVocabulary(e)} Remove or replace such characters, or score the text with a model trained on them.", e);
        }
        if (ids.Length < 2)
            throw new InvalidDataException($"{textPath}: {ids.Length} token; scoring needs at least two (the first is given, the rest are predicted).");
        Threads.Apply();
        var score = Perplexities.Evaluate(model, ids);
        Console.WriteLine(score.ToJson());
        return 0;
    }

    static int Sample(string[] argv)
    {
        var args = new CliArgs(argv, new HashSet<string>(), new HashSet<string> { "checkpoint", "prompt", "temperature", "length", "top-k", "seed" });
        var dir = args.Required("checkpoint");
        var prompt = args.Option("prompt") ?? "";
        var temperature = args.Double("temperature", 0.8);
        var length = args.Int("length", 500);
        var topKText = args.Option("top-k");
        int? topK = topKText is null ? null
            : int.TryParse(topKText, out var k) && k > 0 ? k : throw new UsageException($"--top-k {topKText}: expected a positive integer.");
        var seed = args.Int("seed", 42);
        args.EnsureAllUsed();
        if (temperature < 0) throw new UsageException($"--temperature {temperature}: expected 0 (greedy) or more.");
        if (length < 0) throw new UsageException($"--length {length}: expected 0 or more.");

        var loaded = LanguageModelCheckpoint.Load(dir);
        using var model = loaded.Model;
        var tokenizer = loaded.Tokenizer;
        int[] promptIds;
        try
        {
            promptIds = tokenizer.EncodePrompt(prompt);
        }
        catch (ArgumentException e)
        {
            throw new InvalidDataException($"--prompt: {OutOfVocabulary(e)} Use only characters of the training text.", e);
        }
        Threads.Apply(1);
        var clock = Stopwatch.StartNew();
        var ids = TextGeneration.Generate(model, promptIds, length, new SamplingOptions(temperature, topK), new Random(seed));
        var ms = clock.Elapsed.TotalMilliseconds;
        var separator = tokenizer.Level == TokenLevel.Word && prompt.Length > 0 && !prompt.EndsWith('\n') ? " " : "";
        Console.WriteLine(prompt + separator + tokenizer.Decode(ids));
        Console.Error.WriteLine($"{length} {tokenizer.Unit}s in {ms:F0} ms ({(length > 0 ? ms / length : 0):F3} ms/{tokenizer.Unit}, prompt included), 1 thread");
        return 0;
    }

    /// <summary>The first sentence of the vocabulary's message (which character, where), with the model's point of view.</summary>
    static string OutOfVocabulary(ArgumentException e)
    {
        var message = e.Message.Split(" (Parameter")[0];
        var end = message.IndexOf(" characters.", StringComparison.Ordinal);
        return end > 0 ? message[..end] + " characters the model was trained with." : message;
    }

    static int Positive(CliArgs args, string name, int fallback)
    {
        var value = args.Int(name, fallback);
        return value > 0 ? value : throw new UsageException($"--{name} {value}: expected a positive integer.");
    }

    static TrainSettings? ReadSettings(string dir)
    {
        var path = Path.Combine(dir, SettingsFile);
        if (!File.Exists(path)) return null;
        try
        {
            return JsonSerializer.Deserialize<TrainSettings>(File.ReadAllText(path), Json.Options);
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path}: unreadable ({e.Message}). Delete it to resume with the command-line settings.", e);
        }
    }

    static void WriteSettings(string dir, TrainSettings settings) =>
        AtomicFile.WriteAllText(Path.Combine(dir, SettingsFile), JsonSerializer.Serialize(settings, Json.Options));
}
