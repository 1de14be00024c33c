namespace RnnNotebooks.Training;

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
