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
        "[--dropout P] [--tie | --no-tie] [--batch N] [--steps N] [--lr X] [--schedule plateau|cosine|hold-cosine] [--decay-fraction F] [--minutes M] [--epochs N] [--seed N] [--threads N (0: auto)]\n" +
        "                [--out DIR] [--force | --resume]   (an existing --out: start over, replacing it | continue it with its own options)\n" +
        "       rnn lm eval --checkpoint DIR --text FILE\n" +
        "       rnn lm sample --checkpoint DIR [--prompt TEXT] [--temperature T] [--length N] [--top-k K] [--seed N]";

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

    static readonly Dictionary<string, string> OptionOf = new()
    {
        ["Data"] = "data", ["Level"] = "level", ["Hidden"] = "hidden", ["Layers"] = "layers", ["Cell"] = "cell", ["Dropout"] = "dropout",
        ["BatchSize"] = "batch", ["Steps"] = "steps", ["LearningRate"] = "lr", ["DecayFraction"] = "decay-fraction", ["Minutes"] = "minutes",
        ["Epochs"] = "epochs", ["Threads"] = "threads",
    };

    static int Train(string[] argv)
    {
        var args = new CliArgs(argv, new HashSet<string> { "tie", "no-tie", "force", "resume" }, new HashSet<string>
        {
            "data", "level", "hidden", "layers", "cell", "dropout", "batch", "steps", "lr", "schedule", "decay-fraction", "minutes", "epochs", "seed", "out", "threads",
        });
        var data = args.Required("data");
        var levelText = args.Option("level");
        var (tieFlag, noTieFlag) = (args.Flag("tie"), args.Flag("no-tie"));
        if (tieFlag && noTieFlag) throw new UsageException("--tie and --no-tie contradict each other.");
        var (scheduleText, decayFraction) = args.Schedule("plateau", "cosine", "hold-cosine");
        var options = new LanguageModelTrainingOptions(
            Data: data,
            Level: levelText switch
            {
                null => null,
                "char" => TokenLevel.Char,
                "word" => TokenLevel.Word,
                _ => throw new UsageException($"--level {levelText}: expected char or word."),
            },
            Hidden: Optional(args, "hidden"),
            Layers: args.Int("layers", 2),
            Cell: (args.Option("cell") ?? "lstm") switch
            {
                "lstm" => RecurrentCell.Lstm,
                "gru" => RecurrentCell.Gru,
                "rnn" => RecurrentCell.Rnn,
                var other => throw new UsageException($"--cell {other}: expected lstm, gru or rnn."),
            },
            Dropout: args.Option("dropout") is null ? null : args.Double("dropout", 0),
            TieWeights: tieFlag ? true : noTieFlag ? false : null,
            BatchSize: Optional(args, "batch"),
            Steps: Optional(args, "steps"),
            LearningRate: args.Option("lr") is null ? null : args.Double("lr", 0),
            // plateau: halve the rate after a pass whose validation loss is no better than the best so far.
            // cosine: decay it smoothly to zero over this invocation's budget (--minutes, else --epochs).
            // hold-cosine: keep it for most of the budget, then decay it to zero over the last --decay-fraction of it.
            Schedule: scheduleText switch
            {
                "cosine" => LearningRateSchedule.Cosine,
                "hold-cosine" => LearningRateSchedule.HoldCosine,
                _ => LearningRateSchedule.Plateau,
            },
            DecayFraction: decayFraction,
            Minutes: args.Option("minutes") is null ? null : args.Double("minutes", 0),
            Epochs: Optional(args, "epochs"),
            Seed: args.Int("seed", 42),
            Threads: args.Int("threads", 0));
        var existing = args.Existing();
        var output = args.Option("out") ?? Path.Combine("runs", $"lm-{Path.GetFileNameWithoutExtension(data)}-{(options.Resolved().Level == TokenLevel.Word ? "word" : "char")}");
        args.EnsureAllUsed();
        CliArgs.Check(options.Validate, OptionOf);

        var resolved = options.Resolved();
        var display = new LiveProgress($"lm {data} {(resolved.Level == TokenLevel.Word ? "word" : "char")}", TimeSpan.FromSeconds(10));
        using var ctrlC = new CtrlC();
        var result = LanguageModelTraining.Train(options, output, existing,
            log: line => { display.Complete(); Console.Error.WriteLine(line); },
            progress: display.Report, cancellationToken: ctrlC.Token);
        display.Complete();
        var state = result.State;
        if (state.History.StopReason is StopReason.NonFiniteLoss) Console.Error.WriteLine(state.History.StopMessage);
        if (state.History.StopReason is StopReason.Cancelled) return TranslateCommand.Stopped(state, output);

        var metrics = new JsonObject
        {
            ["data"] = result.Corpus,
            ["split"] = result.Split,
            ["level"] = result.Unit,
            ["model"] = JsonSerializer.SerializeToNode(result.Model, Json.Options),
            ["batch"] = result.Options.BatchSize,
            ["steps"] = result.Options.Steps,
            ["epochs_completed"] = state.Epoch,
            ["optimizer_steps"] = state.Step,
            ["training_seconds"] = Math.Round(state.ElapsedSeconds, 1),
            ["tokens_per_second"] = state.History.Epochs.LastOrDefault()?.TokensPerSecond is { } tps ? Math.Round(tps) : null,
            ["threads"] = result.Threads,
            ["schedule"] = scheduleText,
            ["stop_reason"] = state.History.StopReason.ToString(),
            ["validation"] = JsonSerializer.SerializeToNode(result.Validation, Json.Options),
            ["test"] = result.Test is null ? null : JsonSerializer.SerializeToNode(result.Test, Json.Options),
            ["val_loss_by_epoch"] = new JsonArray([.. state.History.Series("val_loss").Select(v => (JsonNode?)JsonValue.Create(Math.Round(v, 5)))]),
        };
        AtomicFile.WriteAllText(Path.Combine(output, MetricsFile), metrics.ToJsonString(Json.Options));
        Console.WriteLine(metrics.ToJsonString(Json.Options));
        Console.Error.WriteLine($"{state.History.StopMessage} Checkpoint and {MetricsFile} in {output}; run the same command to continue training.");
        return 0;
    }

    static int? Optional(CliArgs args, string name) => args.Option(name) is null ? null : args.Int(name, 0);

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
}
