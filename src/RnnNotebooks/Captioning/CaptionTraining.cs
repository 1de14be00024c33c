using System.Diagnostics;
using RnnNotebooks.Text;
using RnnNotebooks.Training;
using RnnNotebooks.Vision;
using TorchSharp;
using static TorchSharp.torch;

namespace RnnNotebooks.Captioning;

/// <summary>How <see cref="CaptionTraining.Train"/> trains.</summary>
/// <param name="Epochs">Passes over the 30,000 training captions.</param>
/// <param name="TimeBudget">Stops after the current batch when exceeded (null: no limit).</param>
/// <param name="BatchSize">Captions per batch.</param>
/// <param name="LearningRate">Adam's learning rate.</param>
/// <param name="ClipGradNorm">Gradient-norm clipping.</param>
/// <param name="DevImages">Dev photos scored (greedy BLEU-4) at each epoch end to pick the best weights.</param>
/// <param name="LogEvery">Progress every this many steps.</param>
/// <param name="OutputDirectory">If set, the best weights so far are saved here (atomic checkpoint).</param>
/// <param name="PlateauDecay">The learning rate is multiplied by this after an epoch whose dev BLEU-4 is no better
/// than the best so far (1: constant rate).</param>
/// <remarks>Introduced in 06-image-captioning.</remarks>
public sealed record CaptionTrainingOptions(int Epochs = 10, TimeSpan? TimeBudget = null, int BatchSize = 64, double LearningRate = 1e-3,
    double ClipGradNorm = 5.0, int DevImages = 250, int LogEvery = 50, string? OutputDirectory = null, double PlateauDecay = 0.5)
{
    /// <summary>Throws <see cref="ArgumentException"/> naming the first property out of range (numbers must be finite).</summary>
    public void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(Epochs, 1, nameof(Epochs));
        if (TimeBudget is { } b && b <= TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(TimeBudget), b, "Expected a positive time budget.");
        ArgumentOutOfRangeException.ThrowIfLessThan(BatchSize, 1, nameof(BatchSize));
        Recipe.Positive(LearningRate, nameof(LearningRate));
        Recipe.Positive(ClipGradNorm, nameof(ClipGradNorm));
        ArgumentOutOfRangeException.ThrowIfNegative(DevImages, nameof(DevImages));
        ArgumentOutOfRangeException.ThrowIfNegative(LogEvery, nameof(LogEvery));
        if (!(PlateauDecay is > 0 and <= 1))
            throw new ArgumentOutOfRangeException(nameof(PlateauDecay), PlateauDecay, "Expected a factor in (0, 1]; 1 keeps the learning rate constant.");
    }
}

/// <summary>What a caption checkpoint was trained with, saved as one of its files (<see cref="RunFolder.OptionsFile"/>): the model,
/// the training options and the seed.</summary>
/// <remarks>Introduced in 06-image-captioning.</remarks>
public sealed record CaptionRun(CaptionerConfig Captioner, CaptionTrainingOptions Training, int? Seed)
{
    internal CaptionRun WithoutBudget() => this with { Training = Training with { Epochs = 0, TimeBudget = null, OutputDirectory = null } };
}

/// <summary>The result of <see cref="CaptionTraining.Train"/>.</summary>
/// <param name="State">Where training stopped, with its history (losses, dev BLEU per epoch).</param>
/// <param name="BestDevBleu4">Best greedy dev BLEU-4 seen at an epoch end (the weights the model holds at the end).</param>
/// <param name="Seconds">Wall time.</param>
/// <remarks>Introduced in 06-image-captioning.</remarks>
public sealed record CaptionTrainingResult(TrainingState State, double BestDevBleu4, double Seconds);

/// <summary>Teacher-forced training of a <see cref="Captioner"/> through the library <see cref="Trainer"/>,
/// keeping the weights with the best dev BLEU-4.</summary>
/// <remarks>Introduced in 06-image-captioning.</remarks>
public static class CaptionTraining
{
    /// <summary>
    /// Trains <paramref name="captioner"/> on <paramref name="train"/> (every caption of every photo per epoch, shuffled
    /// with the course seed), scoring greedy BLEU-4 on the first <see cref="CaptionTrainingOptions.DevImages"/> of
    /// <paramref name="dev"/> after each epoch. At the end the model holds the best-scoring weights.
    /// </summary>
    /// <remarks>With <see cref="CaptionTrainingOptions.OutputDirectory"/> set, <paramref name="existing"/> says what to do with
    /// a checkpoint already there (<see cref="RunFolder"/>); when it resumes, the checkpoint's weights and optimizer state are
    /// loaded into <paramref name="captioner"/>, which must have the saved shape (<see cref="Captioner.Load"/> gives one).
    /// <paramref name="cancellationToken"/> stops training after the current batch; the best weights so far are kept and saved.</remarks>
    public static CaptionTrainingResult Train(Captioner captioner, IReadOnlyList<CaptionedImage> train, IReadOnlyList<CaptionedImage> dev,
        ImageFeatureSet features, CaptionTrainingOptions options, Action<TrainingProgress>? progress = null, Action<string>? log = null,
        ExistingCheckpoint existing = ExistingCheckpoint.ResumeIfSame, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(captioner);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        var clock = Stopwatch.StartNew();
        var model = captioner.Model;
        using var optimizer = new FastAdam(model.parameters(), options.LearningRate);
        var devSample = dev.Take(options.DevImages).ToList();
        TrainingState? state = null;
        if (options.OutputDirectory is { } output && ShouldResume(captioner, options, existing))
        {
            state = Checkpoint.Load(output, model, optimizer);
            log?.Invoke($"resuming {output}: epoch {state.Epoch}, step {state.Step}.");
        }

        IReadOnlyDictionary<string, double> Validate()
        {
            var bleu = captioner.Evaluate(devSample, features).Bleu;
            return new Dictionary<string, double> { ["dev_bleu_1"] = bleu.Cumulative[0], ["dev_bleu_4"] = bleu.Cumulative[3] };
        }

        var devBleu4 = new Score("dev_bleu_4", HigherIsBetter: true);
        using var best = new KeepBest(model, devBleu4,
            scoreNow: devSample.Count > 0 ? () => captioner.Evaluate(devSample, features).Bleu.Cumulative[3] : null);
        List<IEpochHook> hooks = [best];
        if (options.PlateauDecay < 1) hooks.Add(new ReduceOnPlateau(optimizer, devBleu4, options.PlateauDecay, log));
        if (options.OutputDirectory is { } dir)
            hooks.Add(new SaveCheckpoint(s =>
            {
                captioner.Save(dir, optimizer, s, RunFolder.OptionsFiles(Run(captioner, options)));
                log?.Invoke($"dev BLEU-4 {best.BestScore:0.00} (best so far), saved to {dir}");
            }, onlyBest: best));
        var left = options.TimeBudget is { } budget ? budget - clock.Elapsed : (TimeSpan?)null;
        state = Trainer.Fit(model, optimizer,
            e => CaptionBatch.Epoch(train, captioner.Vocabulary, features, options.BatchSize, Seeds.CreateRandom(e)),
            b => model.Loss(b),
            new TrainerOptions(Epochs: options.Epochs, ClipGradNorm: options.ClipGradNorm, TimeBudget: left is { } l && l <= TimeSpan.Zero ? TimeSpan.FromTicks(1) : left,
                LogEvery: options.LogEvery),
            tokens: b => b.Tokens,
            validate: devSample.Count > 0 ? Validate : null,
            progress: progress,
            resume: state,
            cancellationToken: cancellationToken,
            hooks: hooks);
        model.eval();
        if (state.History.StopReason != StopReason.Completed) log?.Invoke(state.History.StopMessage);
        return new CaptionTrainingResult(state, best.BestScore ?? 0, clock.Elapsed.TotalSeconds);
    }

    /// <summary>
    /// <see cref="RunFolder.ShouldResume"/> for <see cref="Train"/> into <see cref="CaptionTrainingOptions.OutputDirectory"/>:
    /// whether it will resume the checkpoint there; throws when it would refuse. Cheap, so a caller can check before it
    /// prepares image features.
    /// </summary>
    public static bool ShouldResume(Captioner captioner, CaptionTrainingOptions options, ExistingCheckpoint existing)
    {
        ArgumentNullException.ThrowIfNull(captioner);
        ArgumentNullException.ThrowIfNull(options);
        return options.OutputDirectory is { } output &&
            RunFolder.ShouldResume(output, Run(captioner, options), r => r.WithoutBudget(), existing, "captioner");
    }

    /// <summary>The file <see cref="SavePrepared"/> writes beside the checkpoint: the result's figures the checkpoint does not hold.</summary>
    public const string ResultFile = "training-result.json";

    internal sealed record ResultFigures(double BestDevBleu4, double Seconds);

    /// <summary>
    /// Saves a trained captioner and its training result into <paramref name="dir"/>: the checkpoint (weights, config,
    /// vocabulary, training state with its history) and <see cref="ResultFile"/>. The <c>save</c> of a lesson's
    /// <see cref="Notebook.Pretrained.OrTrain{T}"/>; <see cref="LoadPrepared"/> reads it back.
    /// </summary>
    public static void SavePrepared(Captioner captioner, CaptionTrainingResult result, string dir)
    {
        ArgumentNullException.ThrowIfNull(captioner);
        ArgumentNullException.ThrowIfNull(result);
        captioner.Save(dir, null, result.State);
        AtomicFile.WriteAllText(Path.Combine(dir, ResultFile),
            System.Text.Json.JsonSerializer.Serialize(new ResultFigures(result.BestDevBleu4, result.Seconds), Json.Options));
    }

    /// <summary>Reads what <see cref="SavePrepared"/> wrote: the captioner (in eval mode) and its training result.</summary>
    /// <exception cref="FileNotFoundException">A file is missing.</exception>
    /// <exception cref="InvalidDataException">A file is malformed or does not fit the others.</exception>
    public static (Captioner Captioner, CaptionTrainingResult Result) LoadPrepared(string dir)
    {
        var captioner = Captioner.Load(dir);
        var state = Checkpoint.Load(dir, captioner.Model);
        captioner.Model.eval();
        var figures = Json.ReadFile<ResultFigures>(Path.Combine(dir, ResultFile), "captioner training result", _ => { });
        return (captioner, new CaptionTrainingResult(state, figures.BestDevBleu4, figures.Seconds));
    }

    static CaptionRun Run(Captioner captioner, CaptionTrainingOptions options) =>
        new(captioner.Config, options with { OutputDirectory = null }, Seeds.Current);

    /// <summary>A fresh captioner: the vocabulary of <paramref name="train"/>'s captions (words seen
    /// <paramref name="minCount"/>+ times) and an untrained model.</summary>
    public static Captioner Create(IReadOnlyList<CaptionedImage> train, bool attention = true, int hidden = 512, int embedding = 256,
        int attentionSize = 256, double dropout = 0.5, double doublyStochastic = 1.0, int minCount = 5, int maxLength = 20)
    {
        var vocabulary = CaptionData.BuildVocabulary(train, minCount);
        var options = new CaptionModelOptions(vocabulary.Size, attention, embedding, hidden, attentionSize, ResNet18Encoder.Channels,
            dropout, doublyStochastic);
        return new Captioner(new CaptionModel(options), vocabulary, new CaptionerConfig(options, minCount, maxLength));
    }
}
