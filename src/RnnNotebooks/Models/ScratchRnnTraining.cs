using System.Diagnostics;
using RnnNotebooks.Training;
using static TorchSharp.torch;

namespace RnnNotebooks.Models;

/// <summary>How <see cref="ScratchRnnTraining.Fit"/> walks a long text.</summary>
/// <param name="Window">Characters per truncated-BPTT window; gradients stop at a window's start.</param>
/// <param name="Epochs">Passes over the text.</param>
/// <param name="MaxWindows">Stop after this many windows (updates) in total, if set.</param>
/// <param name="Step">Optimizer, learning rate and clipping of each update (defaults of <see cref="ScratchStepOptions"/> if null).</param>
/// <param name="ReportEvery">Windows between two progress reports.</param>
/// <remarks>Introduced in 01-vanilla-rnn.</remarks>
public sealed record ScratchTextTrainingOptions(
    int Window = 32,
    int Epochs = 1,
    long? MaxWindows = null,
    ScratchStepOptions? Step = null,
    int ReportEvery = 50);

/// <summary>What <see cref="ScratchRnnTraining.Fit"/> did.</summary>
/// <param name="Losses">Mean loss per character of every window, before its update.</param>
/// <param name="GradientNorms">Global gradient norm of every window, before clipping.</param>
/// <param name="Elapsed">Wall time.</param>
/// <param name="StoppedOnNonFiniteLoss">True if a loss or gradient norm became NaN or infinite, which ends the run.</param>
/// <remarks>Introduced in 01-vanilla-rnn.</remarks>
public sealed record ScratchTextTrainingRun(
    IReadOnlyList<double> Losses, IReadOnlyList<double> GradientNorms, TimeSpan Elapsed, bool StoppedOnNonFiniteLoss);

/// <summary>
/// Trains and evaluates a <see cref="ScratchRnn"/> on one long sequence of character ids with truncated
/// backpropagation through time: consecutive windows, the hidden state carried from one to the next.
/// </summary>
/// <remarks>Introduced in 01-vanilla-rnn.</remarks>
public static class ScratchRnnTraining
{
    /// <summary>
    /// One update per window of <paramref name="ids"/> (inputs <c>ids[s…s+W)</c>, targets one character later).
    /// The hidden state starts at zero each epoch and is carried across windows as a constant.
    /// </summary>
    /// <param name="rnn">The model, updated in place.</param>
    /// <param name="ids">The training text as ids; needs at least <c>Window + 1</c> of them.</param>
    /// <param name="options">Window, epochs, optimizer.</param>
    /// <param name="progress">Called every <see cref="ScratchTextTrainingOptions.ReportEvery"/> windows and at the end,
    /// e.g. <c>display.Report</c> of a <c>LiveProgress</c>.</param>
    public static ScratchTextTrainingRun Fit(ScratchRnn rnn, int[] ids, ScratchTextTrainingOptions options, Action<TrainingProgress>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(rnn);
        ArgumentNullException.ThrowIfNull(ids);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.Window, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.Epochs, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.ReportEvery, 1);
        if (ids.Length < options.Window + 1)
            throw new ArgumentException(
                $"The text has {ids.Length} ids; a window of {options.Window} needs at least {options.Window + 1} (inputs plus the next character). " +
                "Use a shorter window or a longer text.", nameof(ids));

        var step = options.Step ?? new ScratchStepOptions();
        var perEpoch = (ids.Length - 1) / options.Window;
        var total = Math.Min((long)perEpoch * options.Epochs, options.MaxWindows ?? long.MaxValue);
        var (losses, norms) = (new List<double>(), new List<double>());
        var clock = Stopwatch.StartNew();
        var sinceReport = 0.0;
        var stopped = false;
        for (var epoch = 1; epoch <= options.Epochs && losses.Count < total && !stopped; epoch++)
        {
            Tensor? h = null;
            for (var w = 0; w < perEpoch && losses.Count < total; w++)
            {
                var s = w * options.Window;
                var result = rnn.TrainStep(ids[s..(s + options.Window)], ids[(s + 1)..(s + options.Window + 1)], h, step);
                h?.Dispose();
                h = result.FinalHidden;
                losses.Add(result.Loss);
                norms.Add(result.GradientNorm);
                sinceReport += result.Loss;
                stopped = !double.IsFinite(result.Loss) || !double.IsFinite(result.GradientNorm);
                var done = losses.Count == total || stopped;
                if (progress is not null && (losses.Count % options.ReportEvery == 0 || done))
                {
                    var count = losses.Count % options.ReportEvery == 0 ? options.ReportEvery : losses.Count % options.ReportEvery;
                    var elapsed = clock.Elapsed;
                    var eta = TimeSpan.FromTicks((long)(elapsed.Ticks * (double)(total - losses.Count) / losses.Count));
                    progress(new TrainingProgress(epoch, options.Epochs, losses.Count, total, sinceReport / count,
                        losses.Count * options.Window / elapsed.TotalSeconds, elapsed, eta, new Dictionary<string, double>()));
                    sinceReport = 0;
                }
                if (stopped) break;
            }
            h?.Dispose();
        }
        return new ScratchTextTrainingRun(losses, norms, clock.Elapsed, stopped);
    }

    /// <summary>
    /// Mean cross-entropy per predicted character (nats) over all of <paramref name="ids"/>, reading it in
    /// windows of <paramref name="window"/> with the hidden state carried across, as in training.
    /// </summary>
    public static double Evaluate(ScratchRnn rnn, int[] ids, int window = 100)
    {
        ArgumentNullException.ThrowIfNull(rnn);
        ArgumentNullException.ThrowIfNull(ids);
        ArgumentOutOfRangeException.ThrowIfLessThan(window, 1);
        if (ids.Length < 2)
            throw new ArgumentException("Evaluating needs at least two ids: one input and the character after it.", nameof(ids));
        using var scope = NewDisposeScope();
        Tensor? h = null;
        var (sum, count) = (0.0, 0);
        for (var s = 0; s < ids.Length - 1; s += window)
        {
            var length = Math.Min(window, ids.Length - 1 - s);
            using var forward = rnn.Forward(ids[s..(s + length)], h);
            sum += rnn.Loss(forward, ids[(s + 1)..(s + length + 1)]) * length;
            count += length;
            h?.Dispose();
            h = forward.FinalHidden.clone();
        }
        return sum / count;
    }
}
