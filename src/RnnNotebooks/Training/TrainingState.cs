using System.Text.Json.Serialization;

namespace RnnNotebooks.Training;

/// <summary>
/// Where a run stands: enough, with the model and optimizer weights, to continue it exactly.
/// <see cref="Trainer.Fit{TBatch}"/> returns one; <see cref="Checkpoint"/> saves and loads it.
/// </summary>
/// <param name="Epoch">Epochs completed; the next batch belongs to the epoch with this 0-based index.</param>
/// <param name="BatchInEpoch">Batches of that epoch already trained on (skipped when resuming).</param>
/// <param name="Step">Optimizer steps taken.</param>
/// <param name="ElapsedSeconds">Training time so far, over all sessions.</param>
/// <param name="Seed">The <see cref="Seeds.Current"/> seed when the run started, if any.</param>
/// <param name="Options">The options of the last session.</param>
/// <param name="History">Losses, epoch metrics and the stop reason.</param>
/// <remarks>Introduced in 00-getting-started.</remarks>
public sealed record TrainingState(
    int Epoch,
    int BatchInEpoch,
    long Step,
    double ElapsedSeconds,
    int? Seed,
    TrainerOptions Options,
    TrainingHistory History)
{
    /// <summary>The state before the first step.</summary>
    public static TrainingState Start(TrainerOptions options) =>
        new(0, 0, 0, 0, Seeds.Current, options, TrainingHistory.Empty);

    /// <summary>True when every epoch of <see cref="Options"/> has run.</summary>
    [JsonIgnore]
    public bool IsComplete => Epoch >= Options.Epochs;
}
