using System.Text.Json;
using System.Text.Json.Serialization;

namespace RnnNotebooks.Training;

/// <summary>What happened in one epoch.</summary>
/// <param name="Epoch">The epoch, counting from 1.</param>
/// <param name="Step">Optimizer steps taken by its end.</param>
/// <param name="TrainLoss">Mean training loss over its steps.</param>
/// <param name="Seconds">Wall time of the epoch, validation included.</param>
/// <param name="ElapsedSeconds">Training time from the start of the run to the end of this epoch.</param>
/// <param name="TokensPerSecond">Training throughput, when a token count was given.</param>
/// <param name="Metrics"><c>train_loss</c> plus whatever validation returned (e.g. <c>val_loss</c>).</param>
/// <remarks>Introduced in 00-getting-started.</remarks>
public sealed record EpochSummary(
    int Epoch,
    long Step,
    double TrainLoss,
    double Seconds,
    double ElapsedSeconds,
    double? TokensPerSecond,
    IReadOnlyDictionary<string, double> Metrics);

/// <summary>
/// The record of a training run: one entry per step in the per-step lists, one <see cref="EpochSummary"/>
/// per completed epoch, and why it stopped. Serialises to JSON and plots directly
/// (x = step index, y = <see cref="Losses"/>).
/// </summary>
/// <param name="Losses">Training loss of every step.</param>
/// <param name="GradNorms">Gradient norm before clipping of every step; empty when clipping was off.</param>
/// <param name="Tokens">Tokens in every step's batch; empty when no token count was given.</param>
/// <param name="StepSeconds">Training time from the start of the run to the end of every step.</param>
/// <param name="Epochs">Completed epochs.</param>
/// <param name="StopReason">Why the last <see cref="Trainer.Fit{TBatch}"/> returned.</param>
/// <param name="StopMessage">The same, in a sentence.</param>
/// <remarks>Introduced in 00-getting-started.</remarks>
public sealed record TrainingHistory(
    IReadOnlyList<double> Losses,
    IReadOnlyList<double> GradNorms,
    IReadOnlyList<long> Tokens,
    IReadOnlyList<double> StepSeconds,
    IReadOnlyList<EpochSummary> Epochs,
    StopReason StopReason,
    string StopMessage)
{
    /// <summary>Metric key of the mean training loss of an epoch.</summary>
    public const string TrainLossKey = "train_loss";

    /// <summary>A run that has not started.</summary>
    public static TrainingHistory Empty { get; } = new([], [], [], [], [], StopReason.Completed, "Not started.");

    /// <summary>True when training stopped before all epochs ran.</summary>
    [JsonIgnore]
    public bool StoppedEarly => StopReason != StopReason.Completed;

    /// <summary>
    /// One value per completed epoch of an epoch metric (<c>train_loss</c>, or a key the validation returned),
    /// NaN for epochs that lack it. Plot against <c>Epochs[i].Epoch</c>.
    /// </summary>
    public IReadOnlyList<double> Series(string metric) =>
        Epochs.Select(e => e.Metrics.TryGetValue(metric, out var v) ? v : double.NaN).ToList();

    /// <summary>The history as indented JSON (NaN and infinities written as strings).</summary>
    public string ToJson() => JsonSerializer.Serialize(this, Json.Options);

    /// <summary>Reads what <see cref="ToJson"/> wrote.</summary>
    public static TrainingHistory FromJson(string json) =>
        JsonSerializer.Deserialize<TrainingHistory>(json, Json.Options)
        ?? throw new InvalidDataException("Expected a training history object, found JSON null.");
}
