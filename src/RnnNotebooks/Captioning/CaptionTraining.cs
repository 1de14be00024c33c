using System.Diagnostics;
using RnnNotebooks.Training;
using RnnNotebooks.Translation;
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
/// than the best so far (1: constant rate). Ignored when <paramref name="DecayFraction"/> is set.</param>
/// <param name="DecayFraction">If set, the rate follows <see cref="LearningRates.HoldThenCosine"/> instead: constant for
/// the first 1 − this share of the budget (<paramref name="TimeBudget"/>, else <paramref name="Epochs"/>), then a
/// cosine fall to zero. Dev BLEU-4 then only picks the weights kept, and a noisy dip cannot cut the rate early.</param>
/// <remarks>Introduced in 06-image-captioning.</remarks>
public sealed record CaptionTrainingOptions(int Epochs = 10, TimeSpan? TimeBudget = null, int BatchSize = 64, double LearningRate = 1e-3,
    double ClipGradNorm = 5.0, int DevImages = 250, int LogEvery = 50, string? OutputDirectory = null, double PlateauDecay = 0.5,
    double? DecayFraction = null);

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
    public static CaptionTrainingResult Train(Captioner captioner, IReadOnlyList<CaptionedImage> train, IReadOnlyList<CaptionedImage> dev,
        ImageFeatureSet features, CaptionTrainingOptions options, Action<TrainingProgress>? progress = null, Action<string>? log = null)
    {
        ArgumentNullException.ThrowIfNull(captioner);
        ArgumentNullException.ThrowIfNull(options);
        var clock = Stopwatch.StartNew();
        var model = captioner.Model;
        using var optimizer = new FastAdam(model.parameters(), options.LearningRate);
        var devSample = dev.Take(options.DevImages).ToList();
        var best = double.NegativeInfinity;
        Dictionary<string, Tensor>? bestWeights = null;

        IReadOnlyDictionary<string, double> Validate()
        {
            var bleu = captioner.Evaluate(devSample, features).Bleu;
            model.eval();
            return new Dictionary<string, double> { ["dev_bleu_1"] = bleu.Cumulative[0], ["dev_bleu_4"] = bleu.Cumulative[3] };
        }

        void KeepIfBest(TrainingState state, double bleu)
        {
            if (bleu <= best) return;
            best = bleu;
            bestWeights?.Values.ToList().ForEach(t => t.Dispose());
            bestWeights = model.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.detach().clone());
            if (options.OutputDirectory is { } dir) captioner.Save(dir, optimizer, state);
            log?.Invoke($"dev BLEU-4 {bleu:0.00} (best so far){(options.OutputDirectory is { } d ? $", saved to {d}" : "")}");
        }

        // Hold-then-cosine: progress through the time budget, or through every batch of every epoch.
        var batchesPerEpoch = (long)Math.Ceiling(train.Sum(i => i.Tokens.Count) / (double)options.BatchSize);   // as CaptionBatch.Epoch
        Action<long>? schedule = options.DecayFraction is not { } fraction ? null : step => LearningRates.Set(optimizer,
            LearningRates.HoldThenCosine(options.LearningRate, options.TimeBudget is { } b
                ? clock.Elapsed / b
                : step / (double)Math.Max(1, batchesPerEpoch * options.Epochs), fraction));

        TrainingState? state = null;
        for (var epoch = 0; epoch < options.Epochs; epoch++)
        {
            var left = options.TimeBudget is { } budget ? budget - clock.Elapsed : (TimeSpan?)null;
            if (left <= TimeSpan.Zero) break;
            state = Trainer.Fit(model, optimizer,
                e => CaptionBatch.Epoch(train, captioner.Vocabulary, features, options.BatchSize, Seeds.CreateRandom(e)),
                b => model.Loss(b),
                new TrainerOptions(Epochs: epoch + 1, ClipGradNorm: options.ClipGradNorm, TimeBudget: left, LogEvery: options.LogEvery,
                    BeforeStep: schedule),
                tokens: b => b.Tokens,
                validate: devSample.Count > 0 ? Validate : null,
                progress: progress,
                resume: state);
            var done = state.Epoch == epoch + 1 && state.History.Epochs.Count > 0;
            if (done && state.History.Epochs[^1].Metrics.TryGetValue("dev_bleu_4", out var bleu))
            {
                if (bleu <= best && options.PlateauDecay is > 0 and < 1 && schedule is null)
                {
                    foreach (var g in optimizer.ParamGroups) g.LearningRate *= options.PlateauDecay;
                    log?.Invoke($"epoch {state.Epoch}: dev BLEU-4 {bleu:0.00} is no better than {best:0.00}; learning rate now {optimizer.ParamGroups.First().LearningRate:g3}.");
                }
                if (schedule is not null)
                    log?.Invoke($"epoch {state.Epoch}: dev BLEU-4 {bleu:0.00}; learning rate {optimizer.ParamGroups.First().LearningRate:g3} (held, then a cosine to zero).");
                KeepIfBest(state, bleu);
            }
            if (state.History.StopReason != StopReason.Completed) break;
        }
        if (state is not null && state.History.StopReason != StopReason.Completed && devSample.Count > 0)
        {
            // Stopped inside an epoch: the latest weights may beat the last epoch end.
            double bleu;
            using (no_grad()) bleu = captioner.Evaluate(devSample, features).Bleu.Cumulative[3];
            log?.Invoke($"{state.History.StopMessage} Dev BLEU-4 now {bleu:0.00}.");
            KeepIfBest(state, bleu);
        }
        if (bestWeights is not null)
        {
            using (no_grad())
                foreach (var (name, value) in model.state_dict())
                    value.copy_(bestWeights[name]);
            foreach (var t in bestWeights.Values) t.Dispose();
        }
        model.eval();
        state ??= TrainingState.Start(new TrainerOptions(Epochs: options.Epochs));
        if (options.OutputDirectory is { } outDir && double.IsNegativeInfinity(best)) captioner.Save(outDir, optimizer, state);
        return new CaptionTrainingResult(state, double.IsNegativeInfinity(best) ? 0 : best, clock.Elapsed.TotalSeconds);
    }

    /// <summary>A fresh captioner: the vocabulary of <paramref name="train"/>'s captions (words seen
    /// <paramref name="minCount"/>+ times) and an untrained model.</summary>
    public static Captioner Create(IReadOnlyList<CaptionedImage> train, bool attention = true, int hidden = 512, int embedding = 256,
        int attentionSize = 256, double dropout = 0.5, double doublyStochastic = 1.0, int minCount = 5, int maxLength = 20,
        bool deepOutput = false)
    {
        var vocabulary = CaptionData.BuildVocabulary(train, minCount);
        var options = new CaptionModelOptions(vocabulary.Count, attention, embedding, hidden, attentionSize, ResNet18Encoder.Channels,
            dropout, doublyStochastic, deepOutput);
        return new Captioner(new CaptionModel(options), vocabulary, new CaptionerConfig(options, minCount, maxLength));
    }
}
