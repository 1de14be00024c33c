using System.Diagnostics;
using RnnNotebooks.Metrics;
using RnnNotebooks.Text;
using RnnNotebooks.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace RnnNotebooks.Models;

/// <summary>How the learning rate of <see cref="LanguageModelTraining"/> moves.</summary>
/// <remarks>Introduced in 03-language-modeling.</remarks>
public enum LearningRateSchedule
{
    /// <summary>Halved after an epoch whose validation loss is no better than the best before it.</summary>
    Plateau,
    /// <summary>The base rate for most of the budget, then a cosine to zero over its last <c>DecayFraction</c>.</summary>
    HoldCosine,
}

/// <summary>How <see cref="LanguageModelTraining.Train"/> trains a language model; saved with its checkpoint. Null sizes
/// take the level's default (<see cref="Resolved"/>).</summary>
/// <param name="Data">tinyshakespeare, ptb or the path of a text file.</param>
/// <param name="Level">Characters or words (null: words for ptb, else characters).</param>
/// <param name="Hidden">Hidden size (512 char, 256 word).</param>
/// <param name="Layers">Recurrent layers.</param>
/// <param name="Cell">The recurrent cell.</param>
/// <param name="Dropout">Dropout (0.1 char, 0.4 word).</param>
/// <param name="TieWeights">Readout shares the embedding (words by default).</param>
/// <param name="BatchSize">Parallel streams (32 char, 20 word).</param>
/// <param name="Steps">Tokens per truncated-BPTT window (100 char, 35 word).</param>
/// <param name="LearningRate">Adam's (base) learning rate (2e-3 char, 1e-3 word).</param>
/// <param name="Schedule">How the rate moves.</param>
/// <param name="DecayFraction">The decaying share of the budget under <see cref="LearningRateSchedule.HoldCosine"/>.</param>
/// <param name="Minutes">Time budget of one session (null: none).</param>
/// <param name="Epochs">Passes over the text, counting those of a resumed run (null: 10 char, 20 word; 1000 with a time budget).</param>
/// <param name="Seed">The course seed.</param>
/// <param name="Threads">Torch threads: 0 lets the policy pick for the model's size, else 1 to the core count.</param>
/// <remarks>Introduced in 03-language-modeling.</remarks>
public sealed record LanguageModelTrainingOptions(
    string Data = "tinyshakespeare", TokenLevel? Level = null, int? Hidden = null, int Layers = 2, RecurrentCell Cell = RecurrentCell.Lstm,
    double? Dropout = null, bool? TieWeights = null, int? BatchSize = null, int? Steps = null, double? LearningRate = null,
    LearningRateSchedule Schedule = LearningRateSchedule.Plateau, double DecayFraction = 0.3, double? Minutes = null, int? Epochs = null,
    int Seed = 42, int Threads = 0) : IRecipeOptions<LanguageModelTrainingOptions>
{
    /// <summary>The same options with every level-dependent default filled in.</summary>
    public LanguageModelTrainingOptions Resolved()
    {
        var level = Level ?? (Data == "ptb" ? TokenLevel.Word : TokenLevel.Char);
        var isChar = level == TokenLevel.Char;
        return this with
        {
            Level = level,
            Hidden = Hidden ?? (isChar ? 512 : 256),
            Dropout = Dropout ?? (isChar ? 0.1 : 0.4),
            TieWeights = TieWeights ?? !isChar,
            BatchSize = BatchSize ?? (isChar ? 32 : 20),
            Steps = Steps ?? (isChar ? 100 : 35),
            LearningRate = LearningRate ?? (isChar ? 2e-3 : 1e-3),
            Epochs = Epochs ?? (Minutes is null ? (isChar ? 10 : 20) : 1000),
        };
    }

    /// <summary>Throws <see cref="ArgumentException"/> naming the first property out of range (numbers must be finite).</summary>
    public void Validate()
    {
        if (string.IsNullOrWhiteSpace(Data)) throw new ArgumentException("Name the text: tinyshakespeare, ptb or a file.", nameof(Data));
        var o = Resolved();
        if (!Enum.IsDefined(o.Level!.Value)) throw new ArgumentOutOfRangeException(nameof(Level), Level, "Expected char or word.");
        if (!Enum.IsDefined(Cell)) throw new ArgumentOutOfRangeException(nameof(Cell), Cell, "Expected lstm, gru or rnn.");
        if (!Enum.IsDefined(Schedule)) throw new ArgumentOutOfRangeException(nameof(Schedule), Schedule, "Expected plateau or hold-cosine.");
        ArgumentOutOfRangeException.ThrowIfLessThan(o.Hidden!.Value, 1, nameof(Hidden));
        ArgumentOutOfRangeException.ThrowIfLessThan(Layers, 1, nameof(Layers));
        Recipe.Probability(o.Dropout!.Value, nameof(Dropout));
        ArgumentOutOfRangeException.ThrowIfLessThan(o.BatchSize!.Value, 1, nameof(BatchSize));
        ArgumentOutOfRangeException.ThrowIfLessThan(o.Steps!.Value, 1, nameof(Steps));
        Recipe.Positive(o.LearningRate!.Value, nameof(LearningRate));
        if (!(DecayFraction is > 0 and <= 1))
            throw new ArgumentOutOfRangeException(nameof(DecayFraction), DecayFraction, "Expected a fraction of the budget in (0, 1].");
        if (Minutes is { } m) Recipe.Positive(m, nameof(Minutes));
        ArgumentOutOfRangeException.ThrowIfLessThan(o.Epochs!.Value, 1, nameof(Epochs));
        Recipe.Threads(Threads, nameof(Threads));
    }

    LanguageModelTrainingOptions IRecipeOptions<LanguageModelTrainingOptions>.WithoutBudget() =>
        Resolved() with { Minutes = null, Epochs = 0, Threads = 0 };

    LanguageModelTrainingOptions IRecipeOptions<LanguageModelTrainingOptions>.WithBudgetOf(LanguageModelTrainingOptions asked) =>
        this with { Minutes = asked.Minutes, Epochs = asked.Epochs, Threads = asked.Threads };
}

/// <summary>The result of <see cref="LanguageModelTraining.Train"/>.</summary>
/// <param name="State">Where training stopped.</param>
/// <param name="Validation">The validation score at the end (null when cancelled: scoring the whole text takes long).</param>
/// <param name="Test">The test score, when the corpus has a test split and training was not cancelled.</param>
/// <param name="Resumed">Whether an existing checkpoint was continued.</param>
/// <param name="Threads">Torch threads used.</param>
/// <param name="Options">The options in effect (a resumed run's, with this session's budget).</param>
/// <param name="Model">The model's shape.</param>
/// <param name="Corpus">The corpus name.</param>
/// <param name="Split">How the corpus was split.</param>
/// <param name="Unit">char or word.</param>
/// <remarks>Introduced in 03-language-modeling.</remarks>
public sealed record LanguageModelTrainingResult(TrainingState State, LanguageModelScore? Validation, LanguageModelScore? Test,
    bool Resumed, int Threads, LanguageModelTrainingOptions Options, LanguageModelOptions Model, string Corpus, string Split, string Unit);

/// <summary>
/// Lesson 03's recipe at longer budgets: a <see cref="LanguageModel"/> trained with truncated BPTT over carried state,
/// validated every epoch, a checkpoint saved at every epoch end and when training stops (so any stop resumes exactly),
/// the rate halved on a plateau or following a schedule. Running it again into the same folder resumes
/// (see <see cref="RunFolder"/>).
/// </summary>
/// <remarks>Introduced in 03-language-modeling.</remarks>
public static class LanguageModelTraining
{
    /// <summary>Trains into <paramref name="output"/>; see the type's summary.</summary>
    public static LanguageModelTrainingResult Train(LanguageModelTrainingOptions options, string output,
        ExistingCheckpoint existing = ExistingCheckpoint.ResumeIfSame, Action<string>? log = null, Action<TrainingProgress>? progress = null,
        CancellationToken cancellationToken = default)
    {
        (var resume, options) = RunFolder.Start(output, options, existing, "language model");

        var corpus = options.Data switch
        {
            "tinyshakespeare" => TextCorpus.TinyShakespeare(),
            "ptb" => TextCorpus.PennTreebank(),
            _ => TextCorpus.FromFile(options.Data),
        };
        Seeds.Set(options.Seed);
        LanguageModel model;
        Vocabulary vocabulary;
        optim.Optimizer optimizer;
        TrainingState? state = null;
        RecurrentState? carried = null;
        if (resume)
        {
            var loaded = LanguageModelCheckpoint.Load(output, m => new FastAdam(m.parameters(), options.LearningRate!.Value));
            (model, vocabulary, state, optimizer, carried) = (loaded.Model, loaded.Vocabulary, loaded.State, loaded.Optimizer!, loaded.CarriedState);
            log?.Invoke($"resuming {output}: epoch {loaded.State.Epoch}, step {loaded.State.Step}.");
        }
        else
        {
            // Character level: the vocabulary is the character set of the whole text, so the validation text never meets
            // an unknown character. Word level: the training words only (the rest become <unk>).
            vocabulary = options.Level == TokenLevel.Char
                ? Vocabulary.OfCharacters(corpus.Train + corpus.Validation + (corpus.Test ?? ""))
                : Vocabulary.OfWords(corpus.Train, maxSize: 10_002);
            model = new LanguageModel(new LanguageModelOptions(vocabulary.Size, options.Hidden!.Value, options.Layers, options.Cell,
                Dropout: options.Dropout!.Value, TieWeights: options.TieWeights!.Value));
            optimizer = new FastAdam(model.parameters(), options.LearningRate!.Value);
        }
        using var disposeModel = model;
        using var disposeOptimizer = optimizer;
        var (batch, steps) = (options.BatchSize!.Value, options.Steps!.Value);
        var threads = Training.Threads.Apply(Training.Threads.Requested(options.Threads) ?? Training.Threads.ForWorkload(model.Options.TrainingFlops(batch, steps)));

        var trainIds = vocabulary.Encode(corpus.Train);
        var validIds = vocabulary.Encode(corpus.Validation);
        using var streams = new TokenStreams(trainIds, batch, steps);
        using var lossFn = new CarriedStateLoss(model);
        if (carried is not null) lossFn.Restore(carried);
        var o = model.Options;
        log?.Invoke(
            $"{corpus.Name}, {vocabulary.Unit} level: {trainIds.Length:N0} training and {validIds.Length:N0} validation tokens, vocabulary {vocabulary.Size} " +
            $"({corpus.Split}). Model: {o.NumLayers}×{o.HiddenSize} {o.Cell}, dropout {o.Dropout}, tied {o.TieWeights}; " +
            $"batch {batch} × {steps} steps, Adam lr {optimizer.ParamGroups.First().LearningRate:g3}, {threads} thread(s).");

        var budget = options.Minutes is { } mins ? TimeSpan.FromMinutes(mins) : (TimeSpan?)null;
        var clock = Stopwatch.StartNew();
        var baseRate = options.LearningRate!.Value;
        var epochs = options.Epochs!.Value;
        var firstStep = state?.Step ?? 0;
        var lastStep = Math.Max(firstStep + 1, (long)streams.Count * epochs);
        double ProgressAt(long step) => budget is { } b ? clock.Elapsed / b : (step - firstStep) / (double)(lastStep - firstStep);
        Action<long>? schedule = options.Schedule switch
        {
            LearningRateSchedule.HoldCosine => step => LearningRates.Set(optimizer, LearningRates.HoldThenCosine(baseRate, ProgressAt(step), options.DecayFraction)),
            _ => null,
        };
        var valLoss = new Score("val_loss", HigherIsBetter: false);
        List<IEpochHook> hooks = [];
        if (schedule is null) hooks.Add(new ReduceOnPlateau(optimizer, valLoss, 0.5));
        hooks.Add(new SaveCheckpoint(s =>
        {
            LanguageModelCheckpoint.Save(output, model, vocabulary, optimizer, s, lossFn.State, RunFolder.OptionsFiles(options));
            if (s.BatchInEpoch == 0 && s.History.Epochs.Count > 0 && s.History.Epochs[^1] is { } e && valLoss.Of(e) is { } val)
                log?.Invoke($"epoch {e.Epoch}: train {e.TrainLoss:F4}, validation {val:F4} nats/{vocabulary.Unit} (perplexity {Math.Exp(val):F2}), " +
                    $"{e.TokensPerSecond:F0} tokens/s; checkpoint saved to {output}");
        }));
        state = Trainer.Fit(model, optimizer, _ => streams.Batches(), lossFn.Compute,
            new TrainerOptions(Epochs: epochs, ClipGradNorm: 1.0, TimeBudget: budget, LogEvery: 20, BeforeStep: schedule),
            tokens: b => b.Tokens,
            validate: () => Validation(model, validIds),
            progress: progress,
            resume: state,
            cancellationToken: cancellationToken,
            hooks: hooks);
        if (state.History.StopReason is StopReason.Cancelled)
            return new LanguageModelTrainingResult(state, null, null, resume, threads, options, model.Options, corpus.Name, corpus.Split, vocabulary.Unit);
        var validScore = Perplexities.Evaluate(model, validIds);
        var testScore = corpus.Test is { } test ? Perplexities.Evaluate(model, vocabulary.Encode(test)) : null;
        return new LanguageModelTrainingResult(state, validScore, testScore, resume, threads, options, model.Options, corpus.Name, corpus.Split, vocabulary.Unit);
    }

    static Dictionary<string, double> Validation(LanguageModel model, int[] validIds)
    {
        var score = Perplexities.Evaluate(model, validIds);
        return new() { ["val_loss"] = score.NatsPerToken, ["val_ppl"] = score.Perplexity };
    }
}
