using System.Diagnostics;
using System.Text.Json;
using RnnNotebooks.Training;
using RnnNotebooks.Translation;
using TorchSharp;

namespace RnnNotebooks.Cli;

/// <summary><c>rnn translate</c>: train a translator, evaluate BLEU on a split, or translate stdin.</summary>
static class TranslateCommand
{
    public const string Usage =
        "rnn translate train --data fra-eng|multi30k [--src L --tgt L] [--minutes M] [--epochs N] [--seed S] [--out DIR]\n" +
        "                    [--attention additive|dot|none] [--hidden 256] [--embedding 256] [--batch 64] [--lr 0.002]\n" +
        "                    [--dropout 0.2] [--min-freq 2] [--max-length N] [--max-pairs N] [--threads N (0: auto)]\n" +
        "                    [--force | --resume]   (an existing --out: start over, replacing it | continue it with its own options)\n" +
        "  rnn translate eval --checkpoint DIR [--split test] [--beam 5] [--out DIR]\n" +
        "  rnn translate run --checkpoint DIR [--beam 5]   (translates stdin, one sentence per line)";

    static readonly HashSet<string> NoFlags = [];
    static readonly HashSet<string> TrainFlags = ["force", "resume"];

    // Every option of the three subcommands; each subcommand's EnsureAllUsed rejects the ones it does not read.
    static readonly HashSet<string> Options =
    [
        "attention", "batch", "beam", "checkpoint", "data", "dropout", "embedding", "epochs", "hidden", "lr",
        "max-length", "max-pairs", "min-freq", "minutes", "out", "seed", "split", "src", "tgt", "threads",
    ];

    public static int Run(string[] argv)
    {
        if (argv.Length == 0) throw new UsageException("say what to do: train, eval or run.");
        return argv[0] switch
        {
            "train" => Train(new CliArgs(argv[1..], TrainFlags, Options)),
            "eval" => Eval(new CliArgs(argv[1..], NoFlags, Options)),
            "run" => RunStdin(new CliArgs(argv[1..], NoFlags, Options)),
            _ => throw new UsageException($"unknown translate command '{argv[0]}'; expected train, eval or run."),
        };
    }

    static readonly Dictionary<string, string> OptionOf = new()
    {
        ["Data"] = "data", ["Source"] = "src", ["Target"] = "tgt", ["Minutes"] = "minutes", ["Epochs"] = "epochs", ["Hidden"] = "hidden",
        ["Embedding"] = "embedding", ["BatchSize"] = "batch", ["LearningRate"] = "lr", ["Dropout"] = "dropout", ["MinFrequency"] = "min-freq",
        ["MaxLength"] = "max-length", ["MaxPairs"] = "max-pairs", ["Threads"] = "threads",
    };

    static int Train(CliArgs args)
    {
        var defaults = new TranslationTrainingOptions();
        var options = new TranslationTrainingOptions(
            Data: args.Required("data"),
            Source: args.Option("src"),
            Target: args.Option("tgt"),
            Minutes: args.Double("minutes", defaults.Minutes),
            Epochs: args.Int("epochs", defaults.Epochs),
            Seed: args.Int("seed", defaults.Seed),
            Attention: (args.Option("attention") ?? "additive") switch
            {
                "additive" or "bahdanau" => AttentionKind.Additive,
                "dot" or "luong" => AttentionKind.Dot,
                "none" => AttentionKind.None,
                var other => throw new UsageException($"--attention {other}: expected additive, dot or none."),
            },
            Hidden: args.Int("hidden", defaults.Hidden),
            Embedding: args.Int("embedding", defaults.Embedding),
            BatchSize: args.Int("batch", defaults.BatchSize),
            LearningRate: args.Double("lr", defaults.LearningRate),
            Dropout: args.Double("dropout", defaults.Dropout),
            MinFrequency: args.Int("min-freq", defaults.MinFrequency),
            MaxLength: args.Option("max-length") is null ? null : args.Int("max-length", 0),
            MaxPairs: args.Option("max-pairs") is null ? null : args.Int("max-pairs", 0),
            Threads: args.Int("threads", 0));
        var existing = args.Existing();
        var outOption = args.Option("out");
        args.EnsureAllUsed();
        CliArgs.Check(options.Validate, OptionOf);
        var output = outOption ?? Path.Combine("runs", $"translate-{options.Data}-{options.Resolved().Source}-{options.Resolved().Target}");

        using var ctrlC = new CtrlC();
        var result = TranslationTraining.Train(options, output, existing, Console.Error.WriteLine, p => Console.Error.WriteLine(p), ctrlC.Token);
        using var model = result.Translator.Model;
        Console.WriteLine(JsonSerializer.Serialize(new Dictionary<string, object>
        {
            ["checkpoint"] = Path.GetFullPath(output),
            ["resumed"] = result.Resumed,
            ["steps"] = result.State.Step,
            ["epochs"] = result.State.Epoch,
            ["stop_reason"] = result.State.History.StopReason.ToString(),
            ["best_valid_bleu"] = Math.Round(result.BestValidBleu ?? 0, 2),
            ["seconds"] = Math.Round(result.Seconds, 1),
        }, Json.Options));
        return Stopped(result.State, output);
    }

    /// <summary>The exit code of a finished training command: <see cref="CtrlC.ExitCode"/> after Ctrl-C, having said so.</summary>
    internal static int Stopped(TrainingState state, string output)
    {
        if (state.History.StopReason != StopReason.Cancelled) return 0;
        Console.Error.WriteLine($"Stopped by Ctrl-C at step {state.Step}; the checkpoint in {output} is saved. Run the same command to continue.");
        return CtrlC.ExitCode;
    }

    static int Eval(CliArgs args)
    {
        var dir = args.Required("checkpoint");
        var splitName = args.Option("split") ?? "test";
        var beam = args.Beam();
        var output = args.Option("out") ?? dir;
        args.EnsureAllUsed();
        if (splitName is not ("train" or "validation" or "val" or "valid" or "test"))
            throw new UsageException($"--split {splitName}: expected train, validation or test.");

        Threads.Apply();
        var clock = Stopwatch.StartNew();
        var translator = Translator.Load(dir);
        var pairs = translator.Config.LoadSplits().Get(splitName);
        if (pairs.Count == 0) throw new InvalidDataException($"The {splitName} split of {translator.Config.Dataset} is empty.");
        var result = translator.Evaluate(pairs, beam);     // the decoders switch oneDNN off themselves

        var prefix = Path.Combine(output, $"eval-{splitName}");
        AtomicFile.WriteAllText(prefix + ".hyp", string.Concat(result.Samples.Select(s => s.Hypothesis + "\n")));
        var maxRefs = result.Samples.Max(s => s.References.Count);
        var refFiles = new List<string>();
        for (var k = 0; k < maxRefs; k++)
        {
            var path = $"{prefix}.ref{k}";
            AtomicFile.WriteAllText(path, string.Concat(result.Samples.Select(s => (k < s.References.Count ? s.References[k] : "") + "\n")));
            refFiles.Add(path);
        }
        AtomicFile.WriteAllText(prefix + ".src", string.Concat(result.Samples.Select(s => s.Source + "\n")));

        var summary = new Dictionary<string, object>(result.Bleu.ToSummary())
        {
            ["split"] = splitName,
            ["beam"] = beam,
            ["dataset"] = translator.Config.Dataset,
            ["direction"] = $"{translator.Config.SourceLanguage}-{translator.Config.TargetLanguage}",
            ["references"] = maxRefs,
            ["tokenize"] = "none",
            ["hypotheses_file"] = Path.GetFullPath(prefix + ".hyp"),
            ["reference_files"] = refFiles.Select(Path.GetFullPath).ToList(),
            ["seconds"] = Math.Round(clock.Elapsed.TotalSeconds, 1),
        };
        Console.WriteLine(JsonSerializer.Serialize(summary, Json.Options));
        return 0;
    }

    static int RunStdin(CliArgs args)
    {
        var dir = args.Required("checkpoint");
        var beam = args.Beam();
        args.EnsureAllUsed();
        Threads.Apply();
        var translator = Translator.Load(dir);
        string? line;
        while ((line = Console.In.ReadLine()) is not null)
            Console.WriteLine(line.Trim().Length == 0 ? "" : translator.Translate(line, beam));
        return 0;
    }
}
