using System.Text.Json;
using RnnNotebooks.Metrics;
using RnnNotebooks.Text;
using RnnNotebooks.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace RnnNotebooks.Translation;

/// <summary>What a saved translator needs besides its weights: data, languages, model shape, decoding settings.</summary>
/// <param name="Dataset">fra-eng or multi30k.</param>
/// <param name="SourceLanguage">Source language code.</param>
/// <param name="TargetLanguage">Target language code.</param>
/// <param name="Model">The model's shape.</param>
/// <param name="MaxLength">Longest training sentence, in tokens (fra-eng) or the training filter (multi30k).</param>
/// <param name="Pretokenized">Whether input text is already tokenised (multi30k's tok files).</param>
/// <param name="FraEng">How fra-eng was filtered and split (null for multi30k), so evaluation rebuilds the same test set.</param>
/// <param name="MinFrequency">Fewest occurrences for a word to get its own id.</param>
/// <remarks>Introduced in 04-machine-translation.</remarks>
public sealed record TranslatorConfig(string Dataset, string SourceLanguage, string TargetLanguage, Seq2SeqOptions Model,
    int MaxLength, bool Pretokenized, FraEngOptions? FraEng = null, int MinFrequency = 2)
{
    /// <summary>The splits this translator was trained and is evaluated on.</summary>
    public TranslationSplits LoadSplits() => Dataset switch
    {
        "fra-eng" => TranslationData.FraEng(FraEng ?? new FraEngOptions(SourceLanguage, MaxLength)),
        "multi30k" => TranslationData.Multi30k(SourceLanguage, TargetLanguage, MaxLength),
        _ => throw new InvalidDataException($"Unknown dataset '{Dataset}' in {Translator.ConfigFile}; expected fra-eng or multi30k."),
    };
}

/// <summary>One evaluated sentence: the source, the model's output and the references (tokens joined by spaces).</summary>
/// <remarks>Introduced in 04-machine-translation.</remarks>
public sealed record TranslationSample(string Source, string Hypothesis, IReadOnlyList<string> References);

/// <summary>Corpus BLEU on a split, with every sentence.</summary>
/// <remarks>Introduced in 04-machine-translation.</remarks>
public sealed record TranslationEvaluation(BleuScore Bleu, IReadOnlyList<TranslationSample> Samples);

/// <summary>
/// A trained <see cref="Seq2Seq"/> with its vocabularies and config: translates text, evaluates BLEU, and saves
/// to / loads from a checkpoint directory (<c>translator.json</c>, <c>source-vocab.json</c> and
/// <c>target-vocab.json</c> are files of the <see cref="Checkpoint"/>, saved with the weights in one atomic step).
/// </summary>
/// <remarks>Introduced in 04-machine-translation.</remarks>
public sealed class Translator(Seq2Seq model, Vocabulary source, Vocabulary target, TranslatorConfig config)
{
    /// <summary>File name of the config.</summary>
    public const string ConfigFile = "translator.json";
    /// <summary>File name of the source vocabulary.</summary>
    public const string SourceVocabFile = "source-vocab.json";
    /// <summary>File name of the target vocabulary.</summary>
    public const string TargetVocabFile = "target-vocab.json";

    /// <summary>The model.</summary>
    public Seq2Seq Model { get; } = model;
    /// <summary>Source vocabulary.</summary>
    public Vocabulary Source { get; } = source;
    /// <summary>Target vocabulary.</summary>
    public Vocabulary Target { get; } = target;
    /// <summary>The config saved beside the weights.</summary>
    public TranslatorConfig Config { get; } = config;

    /// <summary>Tokens of a raw input line: normalised and split like the training text (Multi30k's Moses
    /// tokenisation also splits punctuation off words and lowercases).</summary>
    public IReadOnlyList<string> TokenizeSource(string text) => SentenceTokenizer.Tokenize(text);

    /// <summary>Translates tokenised sentences in batches of <paramref name="batchSize"/>: greedily
    /// (<paramref name="beamSize"/> 1) or by beam search, every beam of every sentence in one decoder step.</summary>
    public IReadOnlyList<IReadOnlyList<string>> Translate(IReadOnlyList<IReadOnlyList<string>> sentences, int beamSize = 1,
        int? maxLength = null, int batchSize = 64, double lengthAlpha = 0.6)
    {
        ArgumentNullException.ThrowIfNull(sentences);
        ArgumentOutOfRangeException.ThrowIfLessThan(beamSize, 1);
        var results = new List<IReadOnlyList<string>>();
        var wasTraining = Model.training;
        Model.eval();
        try
        {
            for (var start = 0; start < sentences.Count; start += batchSize)
            {
                using var scope = NewDisposeScope();
                var chunk = sentences.Skip(start).Take(batchSize).Select(s => new EncodedPair(Source.EncodeTokens(s), [])).ToList();
                var limit = maxLength ?? Math.Max(10, 2 * chunk.Max(p => p.Source.Length) + 10);
                if (beamSize == 1)
                {
                    var batch = TranslationBatch.Collate(chunk);
                    var (ids, _) = Model.Greedy(batch.Source, batch.SourceLengths, limit);
                    results.AddRange(ids.Select(i => Target.DecodeTokens(i)));
                }
                else
                {
                    var batch = TranslationBatch.Collate(chunk);
                    var best = Model.BeamBatch(batch.Source, batch.SourceLengths, beamSize, limit, lengthAlpha);
                    results.AddRange(best.Select(b => b.Count == 0 ? [] : Target.DecodeTokens(b[0].Tokens)));
                }
            }
        }
        finally
        {
            Model.train(wasTraining);
        }
        return results;
    }

    /// <summary>Translates one line of text and joins the words back into text.</summary>
    public string Translate(string text, int beamSize = 1) =>
        SentenceTokenizer.Detokenize(Translate([TokenizeSource(text)], beamSize)[0]);

    /// <summary>
    /// Corpus BLEU (whitespace tokens, as both sides are tokenised) on <paramref name="pairs"/>. With
    /// <paramref name="groupReferences"/>, pairs that share a source sentence are translated once and all their
    /// targets serve as references (Tatoeba has several translations for many sentences).
    /// </summary>
    public TranslationEvaluation Evaluate(IReadOnlyList<SentencePair> pairs, int beamSize = 1, bool groupReferences = true)
    {
        ArgumentNullException.ThrowIfNull(pairs);
        var items = groupReferences
            ? TranslationData.GroupReferences(pairs)
            : [.. pairs.Select(p => (p.Source, (IReadOnlyList<IReadOnlyList<string>>)[p.Target]))];
        var hypotheses = Translate([.. items.Select(i => i.Source)], beamSize);
        var bleu = Bleu.CorpusTokens(hypotheses, [.. items.Select(i => i.References)]);
        var samples = items.Select((item, k) => new TranslationSample(string.Join(' ', item.Source), string.Join(' ', hypotheses[k]),
            [.. item.References.Select(r => string.Join(' ', r))])).ToList();
        return new TranslationEvaluation(bleu, samples);
    }

    /// <summary>Saves the weights, optimizer and state, the config and the vocabularies to <paramref name="dir"/> as one
    /// <see cref="Checkpoint"/>, in one atomic step; <paramref name="extraFiles"/> are saved with them.</summary>
    public void Save(string dir, optim.Optimizer? optimizer, TrainingState state,
        IReadOnlyDictionary<string, Action<BinaryWriter>>? extraFiles = null) =>
        Checkpoint.Save(dir, Model, optimizer, state, Checkpoint.Files(extraFiles,
            (SourceVocabFile, Source.ToJson()), (TargetVocabFile, Target.ToJson()),
            (ConfigFile, JsonSerializer.Serialize(Config, Json.Options))));

    /// <summary>Loads a translator saved by <see cref="Save"/>.</summary>
    /// <exception cref="FileNotFoundException">A file is missing.</exception>
    /// <exception cref="InvalidDataException">A file is malformed or does not fit the others.</exception>
    public static Translator Load(string dir)
    {
        var configPath = Checkpoint.Locate(dir, ConfigFile) ?? Path.Combine(dir, ConfigFile);
        if (!File.Exists(configPath))
            throw new FileNotFoundException(
                $"{configPath} not found: {dir} is not a translator checkpoint (train one with 'rnn translate train --out {dir}').", configPath);
        var config = Json.ReadFile<TranslatorConfig>(configPath, "translator config", c =>
        {
            if (c.Dataset is null) throw new ArgumentNullException(nameof(c.Dataset));
            if (c.SourceLanguage is null) throw new ArgumentNullException(nameof(c.SourceLanguage));
            if (c.TargetLanguage is null) throw new ArgumentNullException(nameof(c.TargetLanguage));
            Json.Within(nameof(c.Model), c.Model, () => c.Model.Validate());
        });
        var source = Vocabulary.Load(Checkpoint.Locate(dir, SourceVocabFile) ?? Path.Combine(dir, SourceVocabFile));
        var target = Vocabulary.Load(Checkpoint.Locate(dir, TargetVocabFile) ?? Path.Combine(dir, TargetVocabFile));
        if (source.Size != config.Model.SourceVocab || target.Size != config.Model.TargetVocab)
            throw new InvalidDataException(
                $"{dir}: the vocabularies have {source.Size} and {target.Size} tokens but {ConfigFile} says " +
                $"{config.Model.SourceVocab} and {config.Model.TargetVocab}; the files come from different runs.");
        var model = new Seq2Seq(config.Model);
        Checkpoint.Load(dir, model);
        model.eval();
        return new Translator(model, source, target, config);
    }
}
