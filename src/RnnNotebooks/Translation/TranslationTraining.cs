using System.Diagnostics;
using RnnNotebooks.Text;
using RnnNotebooks.Training;
using TorchSharp;

namespace RnnNotebooks.Translation;

/// <summary>How <see cref="TranslationTraining.Train"/> trains a translator; saved with its checkpoint.</summary>
/// <param name="Data">fra-eng or multi30k.</param>
/// <param name="Source">Source language (null: the dataset's first, fra or de).</param>
/// <param name="Target">Target language (null: eng for fra, fra for eng; en for de, de for en).</param>
/// <param name="Minutes">Time budget of one session, data preparation included.</param>
/// <param name="Epochs">Passes over the training pairs, counting those of a resumed run.</param>
/// <param name="Seed">The course seed (<see cref="Seeds.Set"/>).</param>
/// <param name="Attention">The decoder's attention.</param>
/// <param name="Hidden">Hidden size.</param>
/// <param name="Embedding">Embedding size.</param>
/// <param name="BatchSize">Pairs per batch.</param>
/// <param name="LearningRate">Adam's learning rate.</param>
/// <param name="Dropout">Dropout probability.</param>
/// <param name="MinFrequency">Fewest occurrences for a word to get its own id.</param>
/// <param name="MaxLength">Longest sentence kept, in tokens (null: 12 for fra-eng, 50 for multi30k).</param>
/// <param name="MaxPairs">If set, only this many fra-eng pairs (a quick run).</param>
/// <param name="Threads">Torch threads: 0 automatic, else 1 to the core count (<see cref="Training.Threads.Requested"/>).</param>
/// <remarks>Introduced in 04-machine-translation.</remarks>
public sealed record TranslationTrainingOptions(
    string Data = "fra-eng", string? Source = null, string? Target = null, double Minutes = 10, int Epochs = 30, int Seed = 0,
    AttentionKind Attention = AttentionKind.Additive, int Hidden = 256, int Embedding = 256, int BatchSize = 64,
    double LearningRate = 0.002, double Dropout = 0.2, int MinFrequency = 2, int? MaxLength = null, int? MaxPairs = null,
    int Threads = 0) : IRecipeOptions<TranslationTrainingOptions>
{
    /// <summary>The same options with the defaults that depend on the dataset filled in.</summary>
    /// <exception cref="ArgumentException">Unknown dataset.</exception>
    public TranslationTrainingOptions Resolved()
    {
        if (Data is null || !TranslationData.Languages.TryGetValue(Data, out var languages))
            throw new ArgumentException($"Data '{Data}': expected fra-eng or multi30k.", nameof(Data));
        var source = Source ?? languages[0];
        var target = Target ?? (Data == "fra-eng" ? (source == "fra" ? "eng" : "fra") : source == "en" ? "de" : "en");
        return this with { Source = source, Target = target, MaxLength = MaxLength ?? (Data == "fra-eng" ? 12 : 50) };
    }

    /// <summary>Throws <see cref="ArgumentException"/> naming the first property out of range (numbers must be finite).</summary>
    public void Validate()
    {
        var o = Resolved();
        var languages = TranslationData.Languages[o.Data];
        if (!languages.Contains(o.Source) || (Data == "fra-eng" && o.Source is not ("fra" or "eng")))
            throw new ArgumentException($"{o.Data} has languages {string.Join(", ", languages)}; got source {o.Source}.", nameof(Source));
        if (!languages.Contains(o.Target) || o.Target == o.Source)
            throw new ArgumentException($"{o.Data} has languages {string.Join(", ", languages)}; got source {o.Source}, target {o.Target}.", nameof(Target));
        Recipe.Positive(Minutes, nameof(Minutes));
        Recipe.Positive(LearningRate, nameof(LearningRate));
        Recipe.Probability(Dropout, nameof(Dropout));
        ArgumentOutOfRangeException.ThrowIfLessThan(Epochs, 1, nameof(Epochs));
        ArgumentOutOfRangeException.ThrowIfLessThan(Hidden, 1, nameof(Hidden));
        ArgumentOutOfRangeException.ThrowIfLessThan(Embedding, 1, nameof(Embedding));
        ArgumentOutOfRangeException.ThrowIfLessThan(BatchSize, 1, nameof(BatchSize));
        ArgumentOutOfRangeException.ThrowIfLessThan(MinFrequency, 1, nameof(MinFrequency));
        ArgumentOutOfRangeException.ThrowIfLessThan(o.MaxLength!.Value, 1, nameof(MaxLength));
        if (MaxPairs is { } p) ArgumentOutOfRangeException.ThrowIfLessThan(p, 1, nameof(MaxPairs));
        if (!Enum.IsDefined(Attention)) throw new ArgumentOutOfRangeException(nameof(Attention), Attention, "Expected additive, dot or none.");
        Recipe.Threads(Threads, nameof(Threads));
    }

    TranslationTrainingOptions IRecipeOptions<TranslationTrainingOptions>.WithoutBudget() =>
        Resolved() with { Minutes = 0, Epochs = 0, Threads = 0 };

    TranslationTrainingOptions IRecipeOptions<TranslationTrainingOptions>.WithBudgetOf(TranslationTrainingOptions asked) =>
        this with { Minutes = asked.Minutes, Epochs = asked.Epochs, Threads = asked.Threads };
}

/// <summary>The result of <see cref="TranslationTraining.Train"/>.</summary>
/// <param name="Translator">The trained translator (holding the best weights); dispose its model when done.</param>
/// <param name="State">Where training stopped.</param>
/// <param name="BestValidBleu">Best validation BLEU seen (this run or the one it resumed), or null.</param>
/// <param name="Resumed">Whether an existing checkpoint was continued.</param>
/// <param name="Seconds">Wall time of this session.</param>
/// <remarks>Introduced in 04-machine-translation.</remarks>
public sealed record TranslationTrainingResult(Translator Translator, TrainingState State, double? BestValidBleu, bool Resumed, double Seconds);

/// <summary>
/// Lesson 04's recipe at longer budgets: a <see cref="Seq2Seq"/> translator trained by <see cref="Trainer.Fit{TBatch}"/>,
/// validated every epoch (loss, and greedy BLEU on 500 validation sentences), keeping and saving the weights with the best
/// BLEU. Running it again into the same folder resumes (see <see cref="RunFolder"/>).
/// </summary>
/// <remarks>Introduced in 04-machine-translation.</remarks>
public static class TranslationTraining
{
    const int ValidationSentences = 500;

    /// <summary>Trains into <paramref name="output"/> until the epochs or the time budget are used up or
    /// <paramref name="cancellationToken"/> fires; the best weights are saved there as they appear.</summary>
    public static TranslationTrainingResult Train(TranslationTrainingOptions options, string output,
        ExistingCheckpoint existing = ExistingCheckpoint.ResumeIfSame, Action<string>? log = null, Action<TrainingProgress>? progress = null,
        CancellationToken cancellationToken = default)
    {
        (var resume, options) = RunFolder.Start(output, options, existing, "translator");

        Training.Threads.Apply(Training.Threads.Requested(options.Threads));
        Seeds.Set(options.Seed);
        var clock = Stopwatch.StartNew();
        Translator translator;
        TranslationSplits? splits = null;
        TrainingState? state = null;
        if (resume)
        {
            translator = Translator.Load(output);
            translator.Model.train();
        }
        else
        {
            var fraEng = options.Data == "fra-eng" ? new FraEngOptions(options.Source!, options.MaxLength!.Value, MaxPairs: options.MaxPairs) : null;
            var config0 = new TranslatorConfig(options.Data, options.Source!, options.Target!, new Seq2SeqOptions(5, 5), options.MaxLength!.Value,
                options.Data == "multi30k", fraEng, options.MinFrequency);
            splits = config0.LoadSplits();
            var sourceVocab = Vocabulary.OfSentences(splits.Train.Select(p => p.Source), options.MinFrequency);
            var targetVocab = Vocabulary.OfSentences(splits.Train.Select(p => p.Target), options.MinFrequency);
            var modelOptions = new Seq2SeqOptions(sourceVocab.Size, targetVocab.Size, options.Embedding, options.Hidden, options.Attention, options.Dropout);
            translator = new Translator(new Seq2Seq(modelOptions), sourceVocab, targetVocab, config0 with { Model = modelOptions });
        }
        var model = translator.Model;
        using var optimizer = new FastAdam(model.parameters(), options.LearningRate);
        if (resume)
        {
            state = Checkpoint.Load(output, model, optimizer);
            log?.Invoke($"resuming {output}: epoch {state.Epoch}, step {state.Step}.");
        }
        splits ??= translator.Config.LoadSplits();
        var train = splits.Train.Select(p => EncodedPair.From(p, translator.Source, translator.Target)).ToList();
        var validation = splits.Validation.Select(p => EncodedPair.From(p, translator.Source, translator.Target)).ToList();
        var validationSample = splits.Validation.Take(ValidationSentences).ToList();
        log?.Invoke(
            $"{options.Data} {options.Source}→{options.Target}: {splits.Train.Count} train / {splits.Validation.Count} validation / {splits.Test.Count} test pairs; " +
            $"vocabularies {translator.Source.Size} / {translator.Target.Size} (min frequency {translator.Config.MinFrequency}); data ready in " +
            $"{clock.Elapsed.TotalSeconds:0.0} s; {Training.Threads.Current} thread(s)");

        IReadOnlyDictionary<string, double> Validate()
        {
            var loss = TranslationAnalysis.MeanLoss(model, validation);
            var bleu = translator.Evaluate(validationSample).Bleu.Score;
            return new Dictionary<string, double> { ["valid_loss"] = loss, ["valid_bleu"] = bleu };
        }

        using var best = new KeepBest(model, new Score("valid_bleu", HigherIsBetter: true),
            scoreNow: () => translator.Evaluate(validationSample).Bleu.Score);
        var save = new SaveCheckpoint(s =>
        {
            translator.Save(output, optimizer, s, RunFolder.OptionsFiles(options));
            log?.Invoke($"epoch {s.Epoch}{(s.BatchInEpoch > 0 ? $" (+{s.BatchInEpoch} batches)" : "")}: validation BLEU {best.BestScore:0.00} (best so far), saved to {output}");
        }, onlyBest: best);
        var left = TimeSpan.FromMinutes(options.Minutes) - clock.Elapsed;
        state = Trainer.Fit(model, optimizer,
            e => TranslationBatch.Batches(train, options.BatchSize, Seeds.CreateRandom(e)),
            b => model.Loss(b),
            new TrainerOptions(Epochs: options.Epochs, ClipGradNorm: 1.0, TimeBudget: left > TimeSpan.Zero ? left : TimeSpan.FromTicks(1), LogEvery: 200),
            tokens: b => b.TargetTokens,
            validate: Validate,
            progress: progress,
            resume: state,
            cancellationToken: cancellationToken,
            hooks: [best, save]);
        model.eval();
        log?.Invoke(state.History.StopMessage);
        return new TranslationTrainingResult(translator, state, best.BestScore, resume, clock.Elapsed.TotalSeconds);
    }
}
