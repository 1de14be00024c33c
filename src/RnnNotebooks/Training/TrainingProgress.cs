namespace RnnNotebooks.Training;

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
    IReadOnlyDictionary<string, double> Metrics)
{
    /// <summary>One line for a console or a notebook: <c>epoch 2/5 · step 120/300 · loss 0.4213 · …</c>.</summary>
    public override string ToString()
    {
        var parts = new List<string>
        {
            $"epoch {Epoch}/{Epochs}",
            TotalSteps is { } total ? $"step {Step}/{total}" : $"step {Step}",
            $"loss {Loss:0.0000}",
        };
        if (TokensPerSecond is { } tps) parts.Add($"{tps:0} tok/s");
        parts.Add($"{Elapsed:hh\\:mm\\:ss} elapsed");
        if (Eta is { } eta) parts.Add($"eta {eta:hh\\:mm\\:ss}");
        parts.AddRange(Metrics.Where(m => m.Key != TrainingHistory.TrainLossKey).Select(m => $"{m.Key} {m.Value:0.0000}"));
        return string.Join(" · ", parts);
    }
}
