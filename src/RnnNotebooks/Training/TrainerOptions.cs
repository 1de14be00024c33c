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
/// <param name="BeforeStep">Called before every optimizer update with the number of updates done so far (counting
/// those of a resumed run), e.g. to set the learning rate of a schedule. Not saved with a checkpoint (it is code).</param>
/// <param name="AfterStep">Called after every optimizer update with the number of updates done before it, e.g. to
/// update a moving average of the weights. Not saved with a checkpoint.</param>
/// <remarks>Introduced in 00-getting-started.</remarks>
public sealed record TrainerOptions(
    int Epochs = 1,
    double? ClipGradNorm = null,
    TimeSpan? TimeBudget = null,
    int? MaxSteps = null,
    int LogEvery = 50,
    bool StopOnNonFiniteLoss = true,
    [property: System.Text.Json.Serialization.JsonIgnore] Action<long>? BeforeStep = null,
    [property: System.Text.Json.Serialization.JsonIgnore] Action<long>? AfterStep = null)
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
