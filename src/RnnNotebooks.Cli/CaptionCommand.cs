using System.CommandLine;
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
    public static Command Build() =>
        new("caption", "Extract ResNet-18 features of Flickr8k, train a Show-Attend-and-Tell captioner, evaluate BLEU, caption photos.")
        {
            Features(), Train(), Eval(), RunImages(),
        };

    static Option<string> Data()
    {
        var option = CliOptions.Text("--data", "the photos and captions", "flickr8k");
        return CliOptions.OneOf(option, "flickr8k");
    }

    static Option<string> Cache() => CliOptions.Text("--cache", "the folder of cached image features (default: the user cache)", helpName: "DIR");

    static Option<int> MaxImages(string description) => CliOptions.Int("--max-images", description, int.MaxValue);

    static Option<string[]> Checkpoints() => new("--checkpoint")
    {
        Description = "a trained captioner's run folder; give it several times to decode as an ensemble (averaged word probabilities)",
        Required = true, Arity = ArgumentArity.OneOrMore, HelpName = "DIR",
    };

    /// <summary>The first <paramref name="maxImages"/> photos of each split (a quick run; its features are cached
    /// separately from the full set's).</summary>
    static CaptionSplits Subset(CaptionSplits splits, int maxImages) =>
        maxImages >= splits.Train.Count ? splits : splits.Take(maxImages, Math.Min(splits.Dev.Count, maxImages), Math.Min(splits.Test.Count, maxImages));

    static ImageFeatureSet LoadFeatures(CaptionSplits splits, string? cache) =>
        CaptionFeatures.LoadOrBuild(splits.ImageDirectory, splits.AllImages,
            name: splits.Train.Count == 6000 ? "flickr8k-resnet18" : $"flickr8k-resnet18-first{splits.Train.Count}",
            cacheDirectory: cache, log: Console.Error.WriteLine);

    static Command Features()
    {
        var (data, cache) = (Data(), Cache());
        var command = new Command("features", "Extract and cache the ResNet-18 features of every photo (train does it when needed).") { data, cache };
        command.SetAction(p => Features(CaptionData.LoadFlickr8k(), p.GetValue(cache)));
        return command;
    }

    static int Features(CaptionSplits splits, string? cache)
    {
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

    static Command Train()
    {
        var d = new CaptionTrainingOptions();
        var minutes = CliOptions.Double("--minutes", "time budget of this session, feature extraction included", 30);
        var epochs = CliOptions.Int("--epochs", "passes over the training photos, a resumed run's included", d.Epochs);
        var seed = CliOptions.Int("--seed", "the seed", 0);
        var output = CliOptions.Text("--out", "the run folder", Path.Combine("runs", "caption-flickr8k"), helpName: "DIR");
        var attention = CliOptions.Choice("--attention", "soft attention over the 7x7 regions, or none (the mean feature)", "soft", "none");
        var hidden = CliOptions.Int("--hidden", "LSTM hidden size", 512);
        var embedding = CliOptions.Int("--embedding", "word embedding size", 256);
        var batch = CliOptions.Int("--batch", "captions per step", d.BatchSize);
        var lr = CliOptions.Double("--lr", "Adam's learning rate", d.LearningRate);
        var dropout = CliOptions.Double("--dropout", "dropout before the word scores", 0.5);
        var lambda = CliOptions.Double("--lambda", "weight of the doubly stochastic attention penalty", 1.0);
        var minCount = CliOptions.Int("--min-count", "fewest occurrences for a word to be in the vocabulary", 5);
        var devImages = CliOptions.Int("--dev-images", "dev photos scored (BLEU) after each epoch", 1000);
        var decay = CliOptions.Double("--decay", "the rate's factor after an epoch without a new best dev BLEU (plateau schedule)", d.PlateauDecay);
        var maxImages = MaxImages("train on the first N photos (and as many dev and test photos at most)");
        var threads = CliOptions.Threads();
        var cache = Cache();
        var data = Data();
        var command = new Command("train", "Train a captioner into --out; an existing checkpoint of the same options is continued.")
        {
            data, minutes, epochs, seed, output, attention, hidden, embedding, batch, lr, dropout, lambda, minCount, devImages, decay,
            maxImages, threads, cache,
        };
        var existing = CliOptions.Existing(command);
        var optionOf = new Dictionary<string, Option>
        {
            ["Epochs"] = epochs, ["TimeBudget"] = minutes, ["BatchSize"] = batch, ["LearningRate"] = lr, ["DevImages"] = devImages,
            ["PlateauDecay"] = decay, ["Hidden"] = hidden, ["Embedding"] = embedding,
            ["Dropout"] = dropout, ["DoublyStochastic"] = lambda, ["MinCount"] = minCount, ["MaxImages"] = maxImages, ["Threads"] = threads,
        };
        command.SetAction(p =>
        {
            var outputDir = p.GetValue(output)!;
            var options = new CaptionTrainingOptions(p.GetValue(epochs), TimeSpan.FromMinutes(p.GetValue(minutes)), p.GetValue(batch), p.GetValue(lr),
                DevImages: p.GetValue(devImages), LogEvery: 100, OutputDirectory: outputDir, PlateauDecay: p.GetValue(decay));
            var (attend, hiddenSize, embeddingSize, drop, penalty) =
                (p.GetValue(attention) == "soft", p.GetValue(hidden), p.GetValue(embedding), p.GetValue(dropout), p.GetValue(lambda));
            Cli.Check(options.Validate, optionOf);
            Cli.Check(() => new CaptionModelOptions(4, attend, embeddingSize, hiddenSize, Dropout: drop, DoublyStochastic: penalty).Validate(), optionOf);
            Cli.Check(() => Recipe.Positive(p.GetValue(minCount), "MinCount"), optionOf);
            Cli.Check(() => Recipe.Positive(p.GetValue(maxImages), "MaxImages"), optionOf);
            Cli.Check(() => Recipe.Threads(p.GetValue(threads), "Threads"), optionOf);
            var threadCount = Training.Threads.Requested(p.GetValue(threads));
            return Train(options, existing.Get(p), outputDir, p.GetValue(seed), attend, hiddenSize, embeddingSize,
                drop, penalty, p.GetValue(minCount), p.GetValue(maxImages), threadCount, p.GetValue(cache));
        });
        return command;
    }

    static int Train(CaptionTrainingOptions options, ExistingCheckpoint existing, string output, int seed, bool attention,
        int hidden, int embedding, double dropout, double lambda, int minCount, int maxImages, int? threads, string? cache)
    {
        var splits = CaptionData.LoadFlickr8k();
        Threads.Apply(threads);
        Seeds.Set(seed);
        var clock = Stopwatch.StartNew();
        splits = Subset(splits, maxImages);
        var captioner = existing == ExistingCheckpoint.Resume && RunFolder.HasCheckpoint(output)
            ? Captioner.Load(output)
            : CaptionTraining.Create(splits.Train, attention, hidden, embedding, dropout: dropout, doublyStochastic: lambda, minCount: minCount);
        using var model = captioner.Model;
        CaptionTraining.ShouldResume(captioner, options, existing);     // refuses before the features are prepared
        var features = LoadFeatures(splits, cache);
        Console.Error.WriteLine($"flickr8k: {splits.Train.Count} train / {splits.Dev.Count} dev / {splits.Test.Count} test photos; vocabulary " +
            $"{captioner.Vocabulary.Size} words (min count {minCount}); features ready in {clock.Elapsed.TotalSeconds:0.0} s; {Threads.Current} thread(s)");
        using var ctrlC = new CtrlC();
        var result = CaptionTraining.Train(captioner, splits.Train, splits.Dev, features,
            options with { TimeBudget = options.TimeBudget - clock.Elapsed is { } left && left > TimeSpan.Zero ? left : TimeSpan.FromTicks(1) },
            progress: p => Console.Error.WriteLine(p), log: Console.Error.WriteLine, existing, ctrlC.Token);
        if (CtrlC.Stopped(result.State, output) is { } stopped) return stopped;
        Console.WriteLine(JsonSerializer.Serialize(new Dictionary<string, object>
        {
            ["checkpoint"] = Path.GetFullPath(output),
            ["steps"] = result.State.Step,
            ["epochs"] = result.State.Epoch,
            ["stop_reason"] = result.State.History.StopReason.ToString(),
            ["best_dev_bleu_4"] = Math.Round(result.BestDevBleu4, 2),
            ["seconds"] = Math.Round(clock.Elapsed.TotalSeconds, 1),
        }, Json.Options));
        return 0;
    }

    /// <summary>The captioner of each checkpoint directory; several make an ensemble.</summary>
    static Captioner LoadCaptioners(IReadOnlyList<string> dirs)
    {
        var captioners = dirs.Select(Captioner.Load).ToList();
        return dirs.Count == 1 ? captioners[0] : Captioner.Ensemble(captioners, dirs);
    }

    static Command Eval()
    {
        var checkpoints = Checkpoints();
        var split = CliOptions.Choice("--split", "the split to caption and score", "test", "dev", "train");
        var beam = CliOptions.Beam();
        var lengthAlpha = CliOptions.Double("--length-alpha", "length normalisation of the beam's scores (0: none)", 0);
        var output = CliOptions.Text("--out", "where the captions file goes (default: the first checkpoint's folder)", helpName: "DIR");
        var maxImages = MaxImages("score only the first N photos of the split");
        var cache = Cache();
        var command = new Command("eval", "BLEU-1..4 of a captioner (or an ensemble) on a split, as JSON; writes the captions.")
        {
            checkpoints, split, beam, lengthAlpha, output, maxImages, cache,
        };
        command.SetAction(p =>
        {
            if (!(p.GetValue(lengthAlpha) >= 0)) throw new UsageException($"--length-alpha {p.GetValue(lengthAlpha)}: expected 0 or more (0: no length normalisation).");
            if (p.GetValue(maxImages) < 1) throw new UsageException($"--max-images {p.GetValue(maxImages)}: expected 1 or more.");
            var dirs = p.GetValue(checkpoints)!;
            return Eval(dirs, p.GetValue(split)!, p.GetValue(beam), p.GetValue(lengthAlpha), p.GetValue(output) ?? dirs[0], p.GetValue(maxImages),
                p.GetValue(cache));
        });
        return command;
    }

    static int Eval(IReadOnlyList<string> dirs, string splitName, int beam, double lengthAlpha, string output, int maxImages, string? cache)
    {
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

    static Command RunImages()
    {
        var checkpoints = Checkpoints();
        var beam = CliOptions.Beam();
        var images = new Argument<string[]>("IMAGE") { Description = "the photos to caption (JPEG or PNG)", Arity = ArgumentArity.OneOrMore };
        var command = new Command("run", "Caption photos, one tab-separated line each.") { checkpoints, beam, images };
        command.SetAction(p => RunImages(p.GetValue(checkpoints)!, p.GetValue(beam), p.GetValue(images)!));
        return command;
    }

    static int RunImages(IReadOnlyList<string> dirs, int beam, IReadOnlyList<string> images)
    {
        Threads.Apply();
        var captioner = LoadCaptioners(dirs);
        using var encoder = new ResNet18Encoder();
        using var oneDnn = TorchKernels.WithoutOneDnn();
        foreach (var image in images)
        {
            var encoded = encoder.Encode(image);
            using var scope = torch.NewDisposeScope();
            var features = torch.tensor(encoded.RegionsFirst(), [1, ResNet18Encoder.Regions, ResNet18Encoder.Channels]);
            Console.WriteLine($"{image}\t{string.Join(' ', captioner.Caption(features, beam)[0].Words)}");
        }
        return 0;
    }
}
