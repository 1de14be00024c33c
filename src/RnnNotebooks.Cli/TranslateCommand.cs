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
        "  rnn translate eval --checkpoint DIR [--split test] [--beam 5] [--out DIR]\n" +
        "  rnn translate run --checkpoint DIR [--beam 5]   (translates stdin, one sentence per line)";

    static readonly HashSet<string> NoFlags = [];

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
            "train" => Train(new CliArgs(argv[1..], NoFlags, Options)),
            "eval" => Eval(new CliArgs(argv[1..], NoFlags, Options)),
            "run" => RunStdin(new CliArgs(argv[1..], NoFlags, Options)),
            _ => throw new UsageException($"unknown translate command '{argv[0]}'; expected train, eval or run."),
        };
    }

    static int Train(CliArgs args)
    {
        var data = args.Required("data");
        if (!TranslationData.Languages.TryGetValue(data, out var languages))
            throw new UsageException($"--data {data}: expected fra-eng or multi30k.");
        var src = args.Option("src") ?? languages[0];
        var tgt = args.Option("tgt") ?? (data == "fra-eng" ? (src == "fra" ? "eng" : "fra") : src == "en" ? "de" : "en");
        if (!languages.Contains(src) || !languages.Contains(tgt) || src == tgt || (data == "fra-eng" && !(src is "fra" or "eng")))
            throw new UsageException($"--data {data} has languages {string.Join(", ", languages)}; got --src {src} --tgt {tgt}.");
        var minutes = args.Double("minutes", 10);
        var epochs = args.Int("epochs", 30);
        var seed = args.Int("seed", 0);
        var output = args.Option("out") ?? Path.Combine("runs", $"translate-{data}-{src}-{tgt}");
        var attention = (args.Option("attention") ?? "additive") switch
        {
            "additive" or "bahdanau" => AttentionKind.Additive,
            "dot" or "luong" => AttentionKind.Dot,
            "none" => AttentionKind.None,
            var other => throw new UsageException($"--attention {other}: expected additive, dot or none."),
        };
        var hidden = args.Int("hidden", 256);
        var embedding = args.Int("embedding", 256);
        var batchSize = args.Int("batch", 64);
        var lr = args.Double("lr", 0.002);
        var dropout = args.Double("dropout", 0.2);
        var minFreq = args.Int("min-freq", 2);
        var maxLength = args.Int("max-length", data == "fra-eng" ? 12 : 50);
        var maxPairsText = args.Option("max-pairs");
        int? maxPairs = maxPairsText is null ? null : int.TryParse(maxPairsText, out var mp) && mp > 0 ? mp
            : throw new UsageException($"--max-pairs {maxPairsText}: expected a positive number.");
        // Default: the library's policy (one thread on a 2-core machine, where two threads measured ~20× slower
        // for these models under load); RNN_THREADS or --threads overrides it.
        var threads = args.Threads();
        args.EnsureAllUsed();
        if (minutes <= 0 || epochs <= 0 || hidden <= 0 || embedding <= 0 || batchSize <= 0 || lr <= 0 || minFreq <= 0 || maxLength <= 0)
            throw new UsageException("--minutes, --epochs, --hidden, --embedding, --batch, --lr, --min-freq and --max-length must be positive.");
        if (dropout is < 0 or >= 1) throw new UsageException($"--dropout {dropout}: expected a value in [0, 1).");

        Threads.Apply(threads);
        Seeds.Set(seed);
        var clock = Stopwatch.StartNew();
        var fraEng = data == "fra-eng" ? new FraEngOptions(src, maxLength, MaxPairs: maxPairs) : null;
        var config0 = new TranslatorConfig(data, src, tgt, new Seq2SeqOptions(5, 5), maxLength, data == "multi30k", fraEng, minFreq);
        var splits = config0.LoadSplits();
        var sourceVocab = Vocabulary.Build(splits.Train.Select(p => p.Source), minFreq);
        var targetVocab = Vocabulary.Build(splits.Train.Select(p => p.Target), minFreq);
        var train = splits.Train.Select(p => EncodedPair.From(p, sourceVocab, targetVocab)).ToList();
        var validation = splits.Validation.Select(p => EncodedPair.From(p, sourceVocab, targetVocab)).ToList();
        Console.Error.WriteLine(
            $"{data} {src}→{tgt}: {splits.Train.Count} train / {splits.Validation.Count} validation / {splits.Test.Count} test pairs; " +
            $"vocabularies {sourceVocab.Count} / {targetVocab.Count} (min frequency {minFreq}); data ready in {clock.Elapsed.TotalSeconds:0.0} s; " +
            $"{Threads.Current} thread(s)");

        var modelOptions = new Seq2SeqOptions(sourceVocab.Count, targetVocab.Count, embedding, hidden, attention, dropout);
        var config = config0 with { Model = modelOptions };
        using var model = new Seq2Seq(modelOptions);
        using var optimizer = new FastAdam(model.parameters(), lr);
        var translator = new Translator(model, sourceVocab, targetVocab, config);
        var validationSample = splits.Validation.Take(500).ToList();

        IReadOnlyDictionary<string, double> Validate()
        {
            var loss = TranslationAnalysis.MeanLoss(model, validation);
            var bleu = translator.Evaluate(validationSample).Bleu.Score;
            model.eval();
            return new Dictionary<string, double>
            {
                ["valid_loss"] = loss,
                ["valid_bleu"] = bleu,
            };
        }

        var budget = TimeSpan.FromMinutes(minutes);
        TrainingState? state = null;
        var best = double.NegativeInfinity;
        for (var epoch = 0; epoch < epochs; epoch++)
        {
            var left = budget - clock.Elapsed;
            if (left <= TimeSpan.Zero) break;
            state = Trainer.Fit(model, optimizer,
                e => TranslationBatch.Batches(train, batchSize, Seeds.CreateRandom(e)),
                b => model.Loss(b),
                new TrainerOptions(Epochs: epoch + 1, ClipGradNorm: 1.0, TimeBudget: left, LogEvery: 200),
                tokens: b => b.TargetTokens,
                validate: Validate,
                progress: p => Console.Error.WriteLine(p),
                resume: state);
            var metrics = state.History.Epochs.Count > 0 && state.Epoch == epoch + 1 ? state.History.Epochs[^1].Metrics : null;
            if (metrics is not null && metrics.TryGetValue("valid_bleu", out var bleu) && bleu > best)
            {
                best = bleu;
                translator.Save(output, optimizer, state);
                Console.Error.WriteLine($"epoch {epoch + 1}: validation BLEU {bleu:0.00} (best so far), saved to {output}");
            }
            if (state.History.StopReason != StopReason.Completed) break;
        }
        if (state is not null && state.History.StopReason != StopReason.Completed)
        {
            // Stopped inside an epoch (time budget): the weights may still be the best so far.
            double bleu;
            using (torch.no_grad()) bleu = translator.Evaluate(validationSample).Bleu.Score;
            Console.Error.WriteLine($"{state.History.StopMessage} Validation BLEU now {bleu:0.00}.");
            if (bleu > best)
            {
                best = bleu;
                translator.Save(output, optimizer, state);
                Console.Error.WriteLine($"saved to {output}");
            }
        }
        if (state is not null && double.IsNegativeInfinity(best)) translator.Save(output, optimizer, state);
        Console.WriteLine(JsonSerializer.Serialize(new Dictionary<string, object>
        {
            ["checkpoint"] = Path.GetFullPath(output),
            ["steps"] = state?.Step ?? 0,
            ["epochs"] = state?.Epoch ?? 0,
            ["best_valid_bleu"] = double.IsNegativeInfinity(best) ? 0 : Math.Round(best, 2),
            ["seconds"] = Math.Round(clock.Elapsed.TotalSeconds, 1),
        }, Json.Options));
        return 0;
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
