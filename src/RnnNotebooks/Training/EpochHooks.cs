using static TorchSharp.torch;

namespace RnnNotebooks.Training;

/// <summary>What <see cref="Trainer.Fit{TBatch}"/> hands a hook at the end of an epoch, after validation.</summary>
/// <param name="Summary">The epoch just finished, with its validation metrics.</param>
/// <param name="State">The run as of this epoch end: a checkpoint of it resumes at the next epoch.</param>
/// <remarks>Introduced in 00-getting-started.</remarks>
public sealed record EpochEnd(EpochSummary Summary, TrainingState State);

/// <summary>
/// Something a recipe does at every epoch end of <see cref="Trainer.Fit{TBatch}"/> (after validation) and once when
/// training stops for any reason (completed, time budget, cancellation): keep the best weights, reduce the learning
/// rate on a plateau, save a checkpoint. Hooks run in the order given, so a hook that keeps the best weights goes before
/// one that saves only new bests.
/// </summary>
/// <remarks>Hooks run on the training thread, between batches: they may use the model and optimizer freely.
/// Introduced in 00-getting-started.</remarks>
public interface IEpochHook
{
    /// <summary>Called after each epoch's validation.</summary>
    void OnEpochEnd(EpochEnd end);

    /// <summary>Called once when <see cref="Trainer.Fit{TBatch}"/> returns, with the final state (its
    /// <see cref="TrainingHistory.StopReason"/> says why).</summary>
    void OnTrainingEnd(TrainingState state) { }
}

/// <summary>The score a hook watches: one validation metric and which way is better.</summary>
/// <param name="Metric">A key of <see cref="EpochSummary.Metrics"/>, e.g. <c>val_loss</c> or <c>dev_bleu_4</c>.</param>
/// <param name="HigherIsBetter">True for scores such as BLEU, false for losses.</param>
/// <remarks>Introduced in 00-getting-started.</remarks>
public sealed record Score(string Metric, bool HigherIsBetter)
{
    /// <summary>The metric of <paramref name="summary"/>, or null when that epoch did not record it (or it is NaN).</summary>
    public double? Of(EpochSummary summary) =>
        summary.Metrics.TryGetValue(Metric, out var v) && !double.IsNaN(v) ? v : null;

    /// <summary>Whether <paramref name="value"/> beats <paramref name="best"/> (strictly; null is beaten by anything).</summary>
    public bool Beats(double value, double? best) => best is not { } b || (HigherIsBetter ? value > b : value < b);

    /// <summary>The best value among <paramref name="epochs"/>, or null when none recorded it.</summary>
    public double? Best(IEnumerable<EpochSummary> epochs)
    {
        double? best = null;
        foreach (var e in epochs)
            if (Of(e) is { } v && Beats(v, best)) best = v;
        return best;
    }
}

/// <summary>Keeps a copy of the weights from the epoch end with the best <see cref="Score"/> (in memory, through
/// <see cref="BestWeights"/>), and at the end of training puts them back into the model.</summary>
/// <remarks>A resumed run counts the best score of its history, so it keeps new weights only when they beat every
/// earlier epoch. When training stops inside an epoch and <c>scoreNow</c> is given, the weights of that moment are
/// scored too (they may beat the last epoch end). Introduced in 00-getting-started.</remarks>
public sealed class KeepBest(nn.Module model, Score score, Func<double>? scoreNow = null, bool restoreAtEnd = true) : IEpochHook, IDisposable
{
    readonly BestWeights weights = new(model);
    double? best;
    bool seededFromHistory;

    /// <summary>The watched score.</summary>
    public Score Score { get; } = score;

    /// <summary>The best score seen, in this run or the one it resumed (null before the first).</summary>
    public double? BestScore => best;

    /// <summary>Whether the last score offered (an epoch end, or the stop) was a new best.</summary>
    public bool LastWasBest { get; private set; }

    /// <summary>Whether this run produced weights better than every earlier epoch (else the model keeps its last weights).</summary>
    public bool HasWeights => weights.Offers > 0 && !double.IsPositiveInfinity(weights.BestScore);

    /// <summary>The state of the run when the best weights were taken.</summary>
    public TrainingState? BestState { get; private set; }

    public void OnEpochEnd(EpochEnd end)
    {
        if (!seededFromHistory)
        {
            best = Score.Best(end.State.History.Epochs.Take(end.State.History.Epochs.Count - 1));
            seededFromHistory = true;
        }
        Offer(Score.Of(end.Summary), end.State);
    }

    public void OnTrainingEnd(TrainingState state)
    {
        // A resumed run stopped before its first epoch end still knows the best of the run it resumed.
        if (!seededFromHistory) best = Score.Best(state.History.Epochs);
        seededFromHistory = true;
        if (state.BatchInEpoch > 0 && scoreNow is not null)
        {
            double value;
            model.eval();
            using (no_grad()) value = scoreNow();
            Offer(value, state);
        }
        else LastWasBest = false;
        if (restoreAtEnd && HasWeights) weights.Restore();
    }

    void Offer(double? value, TrainingState state)
    {
        LastWasBest = value is { } v && Score.Beats(v, best);
        if (!LastWasBest) return;
        best = value;
        BestState = state;
        weights.Offer(Score.HigherIsBetter ? -value!.Value : value!.Value);
    }

    public void Dispose() => weights.Dispose();
}

/// <summary>Multiplies the learning rate by <paramref name="factor"/> after <paramref name="patience"/> epochs whose score is
/// no better than the best before them, and again after every further <paramref name="patience"/> such epochs (the whole
/// history counts, so a resumed run remembers).</summary>
/// <param name="optimizer">Its parameter groups' learning rates are cut.</param>
/// <param name="score">The watched score.</param>
/// <param name="factor">Multiplies the learning rate at each cut.</param>
/// <param name="log">Told about every cut.</param>
/// <param name="patience">Epochs since the best one before a cut (1: every epoch that is not a new best).</param>
/// <param name="minLearningRate">A cut never takes the learning rate below this.</param>
/// <param name="uninformative">A score that says nothing about progress (e.g. a CER of 1 while a CTC model still emits only
/// blanks): no cut while the best score is still no better than it.</param>
/// <remarks>Introduced in 03-language-modeling.</remarks>
public sealed class ReduceOnPlateau(optim.Optimizer optimizer, Score score, double factor = 0.5, Action<string>? log = null,
    int patience = 1, double minLearningRate = 0, double? uninformative = null) : IEpochHook
{
    readonly int patience = patience >= 1 ? patience : throw new ArgumentOutOfRangeException(nameof(patience), patience, "Expected 1 or more epochs.");

    public void OnEpochEnd(EpochEnd end)
    {
        if (score.Of(end.Summary) is not { } value) return;
        var epochs = end.State.History.Epochs;
        double? best = null;
        var bestIndex = -1;
        for (var i = 0; i < epochs.Count; i++)
            if (score.Of(epochs[i]) is { } v && score.Beats(v, best)) (best, bestIndex) = (v, i);
        var sinceBest = epochs.Count - 1 - bestIndex;
        if (sinceBest == 0 || sinceBest % patience != 0) return;
        if (uninformative is { } u && !score.Beats(best!.Value, u)) return;
        foreach (var g in optimizer.ParamGroups) g.LearningRate = Math.Max(minLearningRate, g.LearningRate * factor);
        log?.Invoke($"epoch {end.Summary.Epoch}: {score.Metric} {value:0.####} is no better than {best:0.####}; learning rate now " +
            $"{optimizer.ParamGroups.First().LearningRate:g3}.");
    }
}

/// <summary>Saves a checkpoint through <paramref name="save"/>: after every epoch and when training stops (the latest
/// weights, to resume from), or with <paramref name="onlyBest"/> only when that hook just took new best weights, and at
/// the stop if nothing was saved yet.</summary>
/// <remarks>Introduced in 00-getting-started.</remarks>
public sealed class SaveCheckpoint(Action<TrainingState> save, KeepBest? onlyBest = null) : IEpochHook
{
    /// <summary>How many times it saved.</summary>
    public int Saves { get; private set; }

    public void OnEpochEnd(EpochEnd end)
    {
        if (onlyBest is null || onlyBest.LastWasBest) Save(end.State);
    }

    public void OnTrainingEnd(TrainingState state)
    {
        // With nothing saved yet, a stop still saves when there is no better model to keep (a first run stopped early,
        // so it can resume); a resumed run that found nothing better leaves the saved, better model alone.
        if (onlyBest is null || onlyBest.LastWasBest || (Saves == 0 && onlyBest.BestScore is null)) Save(state);
    }

    void Save(TrainingState state)
    {
        save(state);
        Saves++;
    }
}

/// <summary>A hook from a lambda, for what a recipe does at an epoch end that is not one of the library's hooks (a log
/// line, a figure).</summary>
/// <remarks>Introduced in 00-getting-started.</remarks>
public sealed class EpochAction(Action<EpochEnd> action) : IEpochHook
{
    void IEpochHook.OnEpochEnd(EpochEnd end) => action(end);
}
