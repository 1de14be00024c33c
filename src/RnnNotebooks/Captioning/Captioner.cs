using System.Text.Json;
using RnnNotebooks.Metrics;
using RnnNotebooks.Text;
using RnnNotebooks.Training;
using RnnNotebooks.Vision;
using TorchSharp;
using static TorchSharp.torch;

namespace RnnNotebooks.Captioning;

/// <summary>What is saved beside a caption model's weights.</summary>
/// <param name="Model">The model's sizes.</param>
/// <param name="MinCount">Minimum word count of the vocabulary.</param>
/// <param name="MaxLength">Most words generated per caption.</param>
/// <remarks>Introduced in 06-image-captioning.</remarks>
public sealed record CaptionerConfig(CaptionModelOptions Model, int MinCount = 5, int MaxLength = 20);

/// <summary>One generated caption with the human ones.</summary>
/// <param name="Image">Image name.</param>
/// <param name="Caption">Generated caption (words joined by spaces).</param>
/// <param name="References">The five human captions, tokenised and joined.</param>
/// <remarks>Introduced in 06-image-captioning.</remarks>
public sealed record CaptionSample(string Image, string Caption, IReadOnlyList<string> References);

/// <summary>BLEU-1..4 of a split against all references, and every generated caption.</summary>
/// <remarks>Introduced in 06-image-captioning.</remarks>
public sealed record CaptionEvaluation(BleuScore Bleu, IReadOnlyList<CaptionSample> Samples, int BeamSize)
{
    /// <summary>The figures the CLI prints: bleu_1..bleu_4, images, beam.</summary>
    public IReadOnlyDictionary<string, object> ToSummary() => new Dictionary<string, object>
    {
        ["bleu_1"] = Math.Round(Bleu.Cumulative[0], 2),
        ["bleu_2"] = Math.Round(Bleu.Cumulative[1], 2),
        ["bleu_3"] = Math.Round(Bleu.Cumulative[2], 2),
        ["bleu_4"] = Math.Round(Bleu.Cumulative[3], 2),
        ["images"] = Samples.Count,
        ["beam"] = BeamSize,
        ["brevity_penalty"] = Math.Round(Bleu.BrevityPenalty, 4),
    };
}

/// <summary>A caption model with its vocabulary: decode, evaluate, save and load.</summary>
/// <remarks>Introduced in 06-image-captioning.</remarks>
public sealed class Captioner(CaptionModel model, Vocabulary vocabulary, CaptionerConfig config)
{
    /// <summary>Config file in a checkpoint directory.</summary>
    public const string ConfigFile = "captioner.json";
    /// <summary>Vocabulary file in a checkpoint directory.</summary>
    public const string VocabularyFile = "vocab.json";

    /// <summary>The decoder.</summary>
    public CaptionModel Model { get; } = model;
    /// <summary>The caption vocabulary.</summary>
    public Vocabulary Vocabulary { get; } = vocabulary;
    /// <summary>Saved beside the weights.</summary>
    public CaptionerConfig Config { get; } = config;

    IReadOnlyList<CaptionModel> members = [model];

    /// <summary>The models that decode together: <see cref="Model"/> alone, or every model of an <see cref="Ensemble"/>.</summary>
    public IReadOnlyList<CaptionModel> Members => members;

    /// <summary>
    /// Captioners trained separately, decoding as one (see <see cref="CaptionModel.BeamEnsemble"/>): each caption is
    /// searched over the mean of their word probabilities. The first one's vocabulary, length limit and attention
    /// (for the overlays) are used. They must have the same vocabulary, word for word.
    /// </summary>
    /// <exception cref="ArgumentException">None given, or the vocabularies differ.</exception>
    public static Captioner Ensemble(IReadOnlyList<Captioner> captioners, IReadOnlyList<string>? names = null)
    {
        ArgumentNullException.ThrowIfNull(captioners);
        if (captioners.Count == 0) throw new ArgumentException("An ensemble needs at least one captioner.", nameof(captioners));
        var first = captioners[0];
        for (var i = 1; i < captioners.Count; i++)
            if (!captioners[i].Vocabulary.Tokens.SequenceEqual(first.Vocabulary.Tokens))
                throw new ArgumentException(
                    $"{names?[i] ?? $"captioner {i}"} has a different vocabulary ({captioners[i].Vocabulary.Size} words) from " +
                    $"{names?[0] ?? "the first"} ({first.Vocabulary.Size}); ensemble only models trained on the same captions with the same --min-count.",
                    nameof(captioners));
        return new Captioner(first.Model, first.Vocabulary, first.Config) { members = [.. captioners.Select(c => c.Model)] };
    }

    /// <summary>Captions for images whose features are <paramref name="features"/> <c>[n, 49, 512]</c>: greedy in
    /// one batch (<paramref name="beamSize"/> 1, one model) or beam search one image at a time (an ensemble always
    /// searches; beam 1 is its greedy decoding). Returns words and, per word,
    /// the attention over the 49 regions (empty without attention). <paramref name="lengthAlpha"/> is beam search's
    /// length normalisation (<see cref="Decoding.BeamSearchOptions"/>; 0 ranks by total log-probability, which
    /// favours short captions).</summary>
    public IReadOnlyList<(IReadOnlyList<string> Words, float[][] Alphas)> Caption(Tensor features, int beamSize = 1, double lengthAlpha = 0.0)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(beamSize, 1);
        using var scope = NewDisposeScope();
        // Decoding multiplies a few vectors per step; on a 2-core machine the threads' synchronisation costs more
        // than it saves (beam search measured 3.4× faster on one thread), so it runs on one and restores the count.
        var threads = get_num_threads();
        if (threads != 1) set_num_threads(1);
        try
        {
            if (beamSize == 1 && members.Count == 1)
                return [.. Model.Greedy(features, Config.MaxLength).Select(r => (Vocabulary.DecodeTokens(r.Tokens), r.Alphas))];
            var results = new List<(IReadOnlyList<string>, float[][])>();
            for (var i = 0; i < features.shape[0]; i++)
            {
                var one = features.narrow(0, i, 1);
                var best = CaptionModel.BeamEnsemble(members, one, beamSize, Config.MaxLength, lengthAlpha);
                var tokens = best.Count == 0 ? [] : best[0].Tokens;
                results.Add((Vocabulary.DecodeTokens(tokens), Model.AttentionFor(one, tokens)));
            }
            return results;
        }
        finally
        {
            if (threads != 1) set_num_threads(threads);
        }
    }

    /// <summary>Corpus BLEU-1..4 on <paramref name="images"/> against all their human captions (lower-cased
    /// words, as the model produces).</summary>
    public CaptionEvaluation Evaluate(IReadOnlyList<CaptionedImage> images, ImageFeatureSet features, int beamSize = 1, int batchSize = 100,
        double lengthAlpha = 0.0)
    {
        ArgumentNullException.ThrowIfNull(images);
        var hypotheses = new List<IReadOnlyList<string>>();
        for (var s = 0; s < images.Count; s += batchSize)
        {
            using var scope = NewDisposeScope();
            var chunk = images.Skip(s).Take(batchSize).Select(i => i.Image).ToList();
            hypotheses.AddRange(Caption(features.Batch(chunk), beamSize, lengthAlpha).Select(r => r.Words));
        }
        var bleu = Bleu.CorpusTokens(hypotheses, [.. images.Select(i => i.Tokens)]);
        var samples = images.Select((img, k) => new CaptionSample(img.Image, string.Join(' ', hypotheses[k]),
            [.. img.Tokens.Select(t => string.Join(' ', t))])).ToList();
        return new CaptionEvaluation(bleu, samples, beamSize);
    }

    /// <summary>Saves weights, optimizer and training state, config and vocabulary as one <see cref="Checkpoint"/>, in one
    /// atomic step; <paramref name="extraFiles"/> are saved with them.</summary>
    public void Save(string dir, optim.Optimizer? optimizer, TrainingState state,
        IReadOnlyDictionary<string, Action<BinaryWriter>>? extraFiles = null) =>
        Checkpoint.Save(dir, Model, optimizer, state, Checkpoint.Files(extraFiles,
            (VocabularyFile, Vocabulary.ToJson()), (ConfigFile, JsonSerializer.Serialize(Config, Json.Options))));

    /// <summary>Loads a captioner saved by <see cref="Save"/>.</summary>
    /// <exception cref="FileNotFoundException">A file is missing.</exception>
    /// <exception cref="InvalidDataException">A file is malformed or does not fit the others.</exception>
    public static Captioner Load(string dir)
    {
        var configPath = Checkpoint.Locate(dir, ConfigFile) ?? Path.Combine(dir, ConfigFile);
        if (!File.Exists(configPath))
            throw new FileNotFoundException(
                $"{configPath} not found: {dir} is not a captioner checkpoint (train one with 'rnn caption train --out {dir}').", configPath);
        var config = Json.ReadFile<CaptionerConfig>(configPath, "captioner config", c => Json.Within(nameof(c.Model), c.Model, () => c.Model.Validate()));
        var vocabulary = Vocabulary.Load(Checkpoint.Locate(dir, VocabularyFile) ?? Path.Combine(dir, VocabularyFile));
        if (vocabulary.Size != config.Model.Vocab)
            throw new InvalidDataException(
                $"{dir}: the vocabulary has {vocabulary.Size} words but {ConfigFile} says {config.Model.Vocab}; the files come from different runs.");
        var model = new CaptionModel(config.Model);
        Checkpoint.Load(dir, model);
        model.eval();
        return new Captioner(model, vocabulary, config);
    }
}

/// <summary>Encoder features for Flickr8k photos: extracted once, then read from the cache.</summary>
/// <remarks>Introduced in 06-image-captioning.</remarks>
public static class CaptionFeatures
{
    /// <summary>
    /// The spatial ResNet-18 features of <paramref name="images"/> (in <paramref name="imageDirectory"/>), from the
    /// cache file <c>{cacheDirectory}/{name}.features</c>, extracting them first if it is missing, stale or damaged.
    /// Without <paramref name="cacheDirectory"/>, an up-to-date copy in an offline pack (<c>$RNN_PACK/features/</c>)
    /// is read when the default cache has none.
    /// </summary>
    public static ImageFeatureSet LoadOrBuild(string imageDirectory, IReadOnlyList<string> images, string name = "flickr8k-resnet18",
        string? cacheDirectory = null, Action<string>? log = null)
    {
        var path = Path.Combine(cacheDirectory ?? FeatureCache.DefaultDirectory, name + ".features");
        using var encoder = new ResNet18Encoder();
        // An offline pack (RNN_PACK) may carry the features, which a lab machine would otherwise extract itself;
        // it is read only, so a stale copy there is passed over and the clone's own cache is (re)built as usual.
        if (cacheDirectory is null && Data.OfflinePack.FeatureFile(name + ".features") is { } packed
            && FeatureCache.Check(path, encoder.Fingerprint, images).Status != FeatureCacheStatus.Valid
            && FeatureCache.Check(packed, encoder.Fingerprint, images).Status == FeatureCacheStatus.Valid)
        {
            log?.Invoke($"{packed}: features of {images.Count} images from the offline pack.");
            return FeatureCache.Load(packed, encoder.Fingerprint, images);
        }
        return FeatureCache.LoadOrBuild(path, encoder.Fingerprint, images,
            image => encoder.Encode(Path.Combine(imageDirectory, image)).RegionsFirst(), log: log);
    }
}
