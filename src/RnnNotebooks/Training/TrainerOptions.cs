namespace RnnNotebooks.Training;

/// <summary>How long and how carefully <see cref="Trainer.Fit{TBatch}"/> trains.</summary>
/// <param name="Epochs">Passes over the data; a resumed run counts the epochs already done.</param>
/// <param name="ClipGradNorm">If set, gradients are rescaled so their global L2 norm is at most this;
/// the norm before clipping is recorded in <see cref="TrainingHistory.GradNorms"/>.</param>
/// <param name="TimeBudget">Wall time allowed for this call; when exceeded, training finishes the current
/// batch and stops with <see cref="StopReason.TimeBudget"/>.</param>
/// <param name="MaxSteps">Total optimizer steps allowed, counting steps of the run being resumed.</param>
/// <param name="LogEvery">Report progress every this many steps (and at every epoch end); 0 reports only
/// at epoch ends.</param>
/// <param name="StopOnNonFiniteLoss">Stop, without applying that update, when a loss is NaN or infinite.</param>
/// <remarks>Introduced in 00-getting-started.</remarks>
public sealed record TrainerOptions(
    int Epochs = 1,
    double? ClipGradNorm = null,
    TimeSpan? TimeBudget = null,
    int? MaxSteps = null,
    int LogEvery = 50,
    bool StopOnNonFiniteLoss = true)
{
    internal void Validate()
    {
        if (Epochs < 0) throw new ArgumentOutOfRangeException(nameof(Epochs), Epochs, "Epochs must be 0 or more.");
        if (ClipGradNorm is <= 0 or double.NaN)
            throw new ArgumentOutOfRangeException(nameof(ClipGradNorm), ClipGradNorm, "ClipGradNorm must be positive (or null for no clipping).");
        if (TimeBudget is { } b && b <= TimeSpan.Zero)
            throw new ArgumentOutOfRangeException(nameof(TimeBudget), TimeBudget, "TimeBudget must be positive (or null for no limit).");
        if (MaxSteps is < 0) throw new ArgumentOutOfRangeException(nameof(MaxSteps), MaxSteps, "MaxSteps must be 0 or more (or null for no limit).");
        if (LogEvery < 0) throw new ArgumentOutOfRangeException(nameof(LogEvery), LogEvery, "LogEvery must be 0 or more.");
    }
}

/// <summary>Why <see cref="Trainer.Fit{TBatch}"/> returned.</summary>
/// <remarks>Introduced in 00-getting-started.</remarks>
public enum StopReason
{
    /// <summary>All epochs ran.</summary>
    Completed,
    /// <summary><see cref="TrainerOptions.MaxSteps"/> steps were taken.</summary>
    MaxSteps,
    /// <summary><see cref="TrainerOptions.TimeBudget"/> ran out.</summary>
    TimeBudget,
    /// <summary>The cancellation token fired.</summary>
    Cancelled,
    /// <summary>A loss was NaN or infinite (that update was not applied).</summary>
    NonFiniteLoss,
}

/// <summary>What the progress callback of <see cref="Trainer.Fit{TBatch}"/> sees.</summary>
/// <param name="Epoch">The epoch in progress, counting from 1.</param>
/// <param name="Epochs">Epochs planned.</param>
/// <param name="Step">Optimizer steps taken so far (including those of a resumed run).</param>
/// <param name="TotalSteps">Steps planned, when known (batches per epoch × epochs, capped by MaxSteps).</param>
/// <param name="Loss">Mean training loss over the steps since the previous report; at an epoch end, over
/// that epoch.</param>
/// <param name="TokensPerSecond">Throughput since the previous report, when a token count was given.</param>
/// <param name="Elapsed">Training time so far, including that of a resumed run.</param>
/// <param name="Eta">Estimated time to finish, when <paramref name="TotalSteps"/> or a time budget is known.</param>
/// <param name="Metrics">The latest epoch-end metrics: <c>train_loss</c> and whatever validation returned.</param>
/// <remarks>Introduced in 00-getting-started.</remarks>
public sealed record TrainingProgress(
    int Epoch,
    int Epochs,
    long Step,
    long? TotalSteps,
    double Loss,
    double? TokensPerSecond,
    TimeSpan Elapsed,
    TimeSpan? Eta,
    IReadOnlyDictionary<string, double> Metrics);
