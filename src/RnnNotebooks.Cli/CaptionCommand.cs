using System.Diagnostics;
using System.Text.Json;
using RnnNotebooks.Captioning;
using RnnNotebooks.Platform;
using RnnNotebooks.Training;
using RnnNotebooks.Vision;
using TorchSharp;

namespace RnnNotebooks.Cli;

/// <summary><c>rnn caption</c>: extract image features, train a caption model, evaluate BLEU, caption photos.</summary>
static class CaptionCommand
{
    public const string Usage =
        "rnn caption features [--data flickr8k] [--cache DIR]\n" +
        "  rnn caption train [--minutes 30] [--epochs 10] [--seed 0] [--out DIR] [--attention soft|none] [--hidden 512]\n" +
        "                    [--output-layer hidden|deep] [--embedding 256] [--batch 64] [--lr 0.001] [--dropout 0.5]\n" +
        "                    [--lambda 1] [--min-count 5] [--dev-images 1000]\n" +
        "                    [--decay 0.5 | --schedule hold-cosine [--decay-fraction 0.3]] [--max-images N] [--threads N (0: auto)] [--cache DIR]\n" +
        "                    [--force | --resume]   (an existing --out: start over, replacing it | continue it with its own options)\n" +
        "  rnn caption eval --checkpoint DIR [--checkpoint DIR2 ...] [--split test] [--beam 5] [--length-alpha 0] [--out DIR]\n" +
        "                   [--max-images N] [--cache DIR]\n" +
        "  rnn caption run --checkpoint DIR [--checkpoint DIR2 ...] [--beam 5] IMAGE.jpg [...]\n" +
        "  (several --checkpoint: the models decode as an ensemble, averaging their word probabilities)";

    static readonly HashSet<string> NoFlags = [];

    static readonly HashSet<string> Options =
    [
        "attention", "batch", "beam", "cache", "checkpoint", "data", "decay", "decay-fraction", "dev-images", "dropout", "embedding", "epochs", "hidden", "lambda", "length-alpha", "lr",
        "max-images", "min-count", "minutes", "out", "output-layer", "schedule", "seed", "split", "threads",
    ];

    public static int Run(string[] argv)
    {
        if (argv.Length == 0) throw new UsageException("say what to do: features, train, eval or run.");
        var args = new CliArgs(argv[1..], argv[0] == "train" ? ["force", "resume"] : NoFlags, Options);
        return argv[0] switch
        {
            "features" => Features(args),
            "train" => Train(args),
            "eval" => Eval(args),
            "run" => RunImages(args),
            _ => throw new UsageException($"unknown caption command '{argv[0]}'; expected features, train, eval or run."),
        };
    }

    static CaptionSplits LoadData(CliArgs args)
    {
        var data = args.Option("data") ?? "flickr8k";
        if (data != "flickr8k") throw new UsageException($"--data {data}: only flickr8k is supported.");
        return CaptionData.LoadFlickr8k();
    }

    /// <summary>The first <paramref name="maxImages"/> photos of each split (a quick run; its features are cached
    /// separately from the full set's).</summary>
    static CaptionSplits Subset(CaptionSplits splits, int maxImages) =>
        maxImages >= splits.Train.Count ? splits : splits.Take(maxImages, Math.Min(splits.Dev.Count, maxImages), Math.Min(splits.Test.Count, maxImages));

    static ImageFeatureSet LoadFeatures(CaptionSplits splits, string? cache) =>
        CaptionFeatures.LoadOrBuild(splits.ImageDirectory, splits.AllImages,
            name: splits.Train.Count == 6000 ? "flickr8k-resnet18" : $"flickr8k-resnet18-first{splits.Train.Count}",
            cacheDirectory: cache, log: Console.Error.WriteLine);

    static int Features(CliArgs args)
    {
        var splits = LoadData(args);
        var cache = args.Option("cache");
        args.EnsureAllUsed();
        var clock = Stopwatch.StartNew();
        var features = LoadFeatures(splits, cache);
        Console.WriteLine(JsonSerializer.Serialize(new Dictionary<string, object>
        {
            ["images"] = features.Images.Count,
            ["shape"] = new[] { features.Regions, features.Channels },
            ["cache"] = Path.GetFullPath(Path.Combine(cache ?? FeatureCache.DefaultDirectory, "flickr8k-resnet18.features")),
            ["seconds"] = Math.Round(clock.Elapsed.TotalSeconds, 1),
        }, Json.Options));
        return 0;
    }

    static readonly Dictionary<string, string> OptionOf = new()
    {
        ["Epochs"] = "epochs", ["TimeBudget"] = "minutes", ["BatchSize"] = "batch", ["LearningRate"] = "lr", ["DevImages"] = "dev-images",
        ["PlateauDecay"] = "decay", ["DecayFraction"] = "decay-fraction", ["Hidden"] = "hidden", ["Embedding"] = "embedding",
        ["Dropout"] = "dropout", ["DoublyStochastic"] = "lambda",
    };

    static int Train(CliArgs args)
    {
        var minutes = args.Double("minutes", 30);
        var seed = args.Int("seed", 0);
        var output = args.Option("out") ?? Path.Combine("runs", "caption-flickr8k");
        var attention = (args.Option("attention") ?? "soft") switch
        {
            "soft" => true,
            "none" => false,
            var other => throw new UsageException($"--attention {other}: expected soft or none."),
        };
        var deepOutput = (args.Option("output-layer") ?? "hidden") switch
        {
            "hidden" => false,
            "deep" => true,
            var other => throw new UsageException($"--output-layer {other}: expected hidden (words scored from the LSTM state) or deep (the paper's deep output layer)."),
        };
        var hidden = args.Int("hidden", 512);
        var embedding = args.Int("embedding", 256);
        var dropout = args.Double("dropout", 0.5);
        var lambda = args.Double("lambda", 1.0);
        var minCount = args.Int("min-count", 5);
        var maxImages = args.Int("max-images", int.MaxValue);
        var (scheduleText, decayFraction) = args.Schedule("plateau", "hold-cosine");
        var threads = args.Threads();
        var cache = args.Option("cache");
        var existing = args.Existing();
        if (minutes <= 0) throw new UsageException($"--minutes {minutes}: expected a positive number.");
        if (minCount <= 0 || maxImages <= 0) throw new UsageException("--min-count and --max-images must be positive.");
        var options = new CaptionTrainingOptions(args.Int("epochs", 10), TimeSpan.FromMinutes(minutes), args.Int("batch", 64), args.Double("lr", 1e-3),
            DevImages: args.Int("dev-images", 1000), LogEvery: 100, OutputDirectory: output, PlateauDecay: args.Double("decay", 0.5),
            DecayFraction: scheduleText == "hold-cosine" ? decayFraction : null);
        CliArgs.Check(options.Validate, OptionOf);
        CliArgs.Check(() => new CaptionModelOptions(4, attention, embedding, hidden, Dropout: dropout, DoublyStochastic: lambda).Validate(), OptionOf);
        var splits = LoadData(args);
        args.EnsureAllUsed();

        Threads.Apply(threads);
        Seeds.Set(seed);
        var clock = Stopwatch.StartNew();
        splits = Subset(splits, maxImages);
        var captioner = existing == ExistingCheckpoint.Resume && RunFolder.HasCheckpoint(output)
            ? Captioner.Load(output)
            : CaptionTraining.Create(splits.Train, attention, hidden, embedding, dropout: dropout, doublyStochastic: lambda, minCount: minCount,
                deepOutput: deepOutput);
        using var model = captioner.Model;
        CaptionTraining.ShouldResume(captioner, options, existing);     // refuses before the features are prepared
        var features = LoadFeatures(splits, cache);
        Console.Error.WriteLine($"flickr8k: {splits.Train.Count} train / {splits.Dev.Count} dev / {splits.Test.Count} test photos; vocabulary " +
            $"{captioner.Vocabulary.Count} words (min count {minCount}); features ready in {clock.Elapsed.TotalSeconds:0.0} s; {Threads.Current} thread(s)");
        using var ctrlC = new CtrlC();
        var result = CaptionTraining.Train(captioner, splits.Train, splits.Dev, features,
            options with { TimeBudget = options.TimeBudget - clock.Elapsed is { } left && left > TimeSpan.Zero ? left : TimeSpan.FromTicks(1) },
            progress: p => Console.Error.WriteLine(p), log: Console.Error.WriteLine, existing, ctrlC.Token);
        Console.WriteLine(JsonSerializer.Serialize(new Dictionary<string, object>
        {
            ["checkpoint"] = Path.GetFullPath(output),
            ["steps"] = result.State.Step,
            ["epochs"] = result.State.Epoch,
            ["stop_reason"] = result.State.History.StopReason.ToString(),
            ["best_dev_bleu_4"] = Math.Round(result.BestDevBleu4, 2),
            ["seconds"] = Math.Round(clock.Elapsed.TotalSeconds, 1),
        }, Json.Options));
        return TranslateCommand.Stopped(result.State, output);
    }

    /// <summary>The --checkpoint directories: at least one; several decode as an ensemble.</summary>
    static IReadOnlyList<string> CheckpointDirs(CliArgs args) =>
        args.Options("checkpoint") is { Count: > 0 } dirs ? dirs : throw new UsageException("--checkpoint is required.");

    /// <summary>The captioner of each checkpoint directory; several make an ensemble.</summary>
    static Captioner LoadCaptioners(IReadOnlyList<string> dirs)
    {
        var captioners = dirs.Select(Captioner.Load).ToList();
        return dirs.Count == 1 ? captioners[0] : Captioner.Ensemble(captioners, dirs);
    }

    static int Eval(CliArgs args)
    {
        var dirs = CheckpointDirs(args);
        var splitName = args.Option("split") ?? "test";
        var beam = args.Beam();
        var lengthAlpha = args.Double("length-alpha", 0.0);
        var output = args.Option("out") ?? dirs[0];
        var cache = args.Option("cache");
        var maxImages = args.Int("max-images", int.MaxValue);
        args.EnsureAllUsed();
        if (!(lengthAlpha >= 0)) throw new UsageException($"--length-alpha {lengthAlpha}: expected 0 or more (0: no length normalisation).");
        if (maxImages < 1) throw new UsageException($"--max-images {maxImages}: expected 1 or more.");
        if (splitName is not ("train" or "dev" or "test")) throw new UsageException($"--split {splitName}: expected train, dev or test.");
        Threads.Apply();
        var clock = Stopwatch.StartNew();
        var captioner = LoadCaptioners(dirs);
        var splits = Subset(CaptionData.LoadFlickr8k(), maxImages);
        var features = LoadFeatures(splits, cache);
        CaptionEvaluation result;
        using (TorchKernels.WithoutOneDnn())
            result = captioner.Evaluate(splits.Get(splitName), features, beam, lengthAlpha: lengthAlpha);
        var path = Path.Combine(output, $"captions-{splitName}-beam{beam}{(lengthAlpha > 0 ? $"-alpha{lengthAlpha:0.##}" : "")}" +
            $"{(dirs.Count > 1 ? $"-ensemble{dirs.Count}" : "")}.tsv");
        AtomicFile.WriteAllText(path, string.Concat(result.Samples.Select(s => $"{s.Image}\t{s.Caption}\n")));
        var summary = new Dictionary<string, object>(result.ToSummary())
        {
            ["split"] = splitName,
            ["length_alpha"] = lengthAlpha,
            ["captions_file"] = Path.GetFullPath(path),
            ["checkpoints"] = dirs.Select(Path.GetFullPath).ToArray(),
            ["seconds"] = Math.Round(clock.Elapsed.TotalSeconds, 1),
        };
        Console.WriteLine(JsonSerializer.Serialize(summary, Json.Options));
        return 0;
    }

    static int RunImages(CliArgs args)
    {
        var dirs = CheckpointDirs(args);
        var beam = args.Beam();
        args.EnsureAllUsed();
        if (args.Positionals.Count == 0) throw new UsageException("name at least one image file.");
        Threads.Apply();
        var captioner = LoadCaptioners(dirs);
        using var encoder = new ResNet18Encoder();
        using var oneDnn = TorchKernels.WithoutOneDnn();
        foreach (var image in args.Positionals)
        {
            var encoded = encoder.Encode(image);
            using var scope = torch.NewDisposeScope();
            var features = torch.tensor(encoded.RegionsFirst(), [1, ResNet18Encoder.Regions, ResNet18Encoder.Channels]);
            Console.WriteLine($"{image}\t{string.Join(' ', captioner.Caption(features, beam)[0].Words)}");
        }
        return 0;
    }
}
