using TorchSharp;
using static TorchSharp.torch;

namespace RnnNotebooks.Training;

/// <summary>Chooses how many CPU threads torch uses for one operation (<c>torch.set_num_threads</c>).</summary>
/// <remarks>
/// libtorch splits every large enough operation across all cores by default. For the small recurrent models
/// of this course, the operations are so short that waking and synchronising threads costs more than it
/// saves, especially on two cores (on two cores a tiny RNN trained 100 epochs in
/// 0.28 s on one thread and 6–26 s on two; docs/troubleshooting.md, "Training is slower than expected on a small machine"). The policy:
/// <list type="number">
/// <item><c>RNN_THREADS</c> (a positive integer), when set, wins over everything: use it to tune a machine
/// without touching code;</item>
/// <item>else an explicit count passed to <see cref="Apply"/>;</item>
/// <item>else <see cref="ForWorkload(long)"/>: one thread on a machine with at most two cores when a training step
/// costs less than <see cref="SmallWorkloadFlops"/>, otherwise one thread per core.</item>
/// </list>
/// The choice depends on the model and the machine's core count only, never on what else is running: the thread
/// count changes the order of parallel sums (training the same model on one thread and on two gives different
/// digits after a few dozen updates), so a choice that followed the load would make the same seed print different
/// numbers from run to run. On a machine whose cores other jobs keep busy, torch's threads wait for each other at
/// every operation and training runs several times slower: set <c>RNN_THREADS=1</c> there
/// (docs/troubleshooting.md, "Training is slower than expected on a small machine").
/// A rough cost of an LSTM training step: 3 × 2 × 4·hidden·(input + hidden) × batch × steps floating-point
/// operations (forward pass ≈ one third, backward ≈ two thirds), summed over layers.
/// Introduced in 00-getting-started.
/// </remarks>
public static class Threads
{
    /// <summary>Environment variable that overrides the thread count.</summary>
    public const string EnvironmentVariable = "RNN_THREADS";

    /// <summary>Training steps below this many floating-point operations run on one thread on ≤ 2 cores.</summary>
    // Measured on a 2-core machine (TorchSharp 0.107, nn.LSTM input 32, 35 steps, Adam; ms per
    // training step, 1 thread vs 2; other jobs were running, so the 2-thread numbers are noisy):
    //   hidden  32, batch 16, 0.03 GFLOP:   1.3-2.6 vs 1.7-89
    //   hidden  64, batch 32, 0.17 GFLOP:   3.8-9.9 vs 3.8-52
    //   hidden 128, batch 32, 0.55 GFLOP:    10-31  vs 6.1-25
    //   hidden 256, batch 32, 2.0  GFLOP:    28-51  vs  17-33
    //   hidden 512, batch 64, 15   GFLOP:   192-201 vs 107-113
    // Two threads start to pay between 0.17 and 0.55 GFLOP per step; below that they can be far slower.
    public const long SmallWorkloadFlops = 300_000_000;

    /// <summary>The thread count torch uses now.</summary>
    public static int Current => torch.get_num_threads();

    /// <summary>The thread count the policy picks for a training step of about this many operations.</summary>
    public static int ForWorkload(long approxFlopsPerStep)
    {
        var cores = Environment.ProcessorCount;
        return cores <= 2 && approxFlopsPerStep < SmallWorkloadFlops ? 1 : cores;
    }

    /// <summary>
    /// The one rule for a thread count a user asks for (a command's <c>--threads</c>, an options record): 0 means
    /// automatic (null, the policy above), 1 up to the machine's core count is taken as is; a negative count, or more
    /// threads than cores (which only makes them wait for each other), throws.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">Outside 0 … <see cref="Environment.ProcessorCount"/>.</exception>
    public static int? Requested(int count) =>
        count < 0 || count > Environment.ProcessorCount
            ? throw new ArgumentOutOfRangeException(nameof(count), count,
                $"A thread count is 0 (automatic) or 1 to {Environment.ProcessorCount}, this machine's core count.")
            : count == 0 ? null : count;

    /// <summary>
    /// Sets torch's thread count: <c>RNN_THREADS</c> if set, else <paramref name="count"/>, else the policy for
    /// a small model (<see cref="ForWorkload(long)"/> of 0). Returns the count now in effect.
    /// </summary>
    /// <exception cref="InvalidOperationException"><c>RNN_THREADS</c> is not a positive integer.</exception>
    public static int Apply(int? count = null)
    {
        if (count is <= 0) throw new ArgumentOutOfRangeException(nameof(count), count, "A thread count must be positive.");
        var fromEnvironment = FromEnvironment();
        IsAutomatic = fromEnvironment is null && count is null;
        var chosen = fromEnvironment ?? count ?? ForWorkload(0);
        if (torch.get_num_threads() != chosen) torch.set_num_threads(chosen);
        return torch.get_num_threads();
    }

    /// <summary>
    /// True when the last <see cref="Apply"/> left the choice to the policy (no <c>RNN_THREADS</c>, no explicit
    /// count). <see cref="Trainer.Fit{TBatch}"/> then re-applies the policy once it knows the size of a training
    /// step (<see cref="ForTraining"/>), so a large model gets every core without the learner asking.
    /// </summary>
    public static bool IsAutomatic { get; private set; } = true;

    /// <summary>
    /// Applies the policy to a training step of <paramref name="model"/> over <paramref name="tokensPerStep"/>
    /// tokens, if the thread count is automatic; returns the count in effect.
    /// </summary>
    public static int ForTraining(nn.Module model, long tokensPerStep)
    {
        if (!IsAutomatic) return torch.get_num_threads();
        var chosen = ForWorkload(EstimateTrainingFlops(model, tokensPerStep));
        if (torch.get_num_threads() != chosen) torch.set_num_threads(chosen);
        return chosen;
    }

    /// <summary>
    /// About 6 floating-point operations per weight and token for a training step (2 forward, 4 backward),
    /// counting the weight matrices only: embedding tables are looked up, not multiplied, and biases are cheap.
    /// </summary>
    public static long EstimateTrainingFlops(nn.Module model, long tokensPerStep)
    {
        var lookedUp = model.modules().OfType<TorchSharp.Modules.Embedding>()
            .SelectMany(e => e.parameters()).Select(p => p.Handle).ToHashSet();
        var weights = model.parameters().Where(p => p.dim() >= 2 && !lookedUp.Contains(p.Handle)).Sum(p => p.numel());
        return 6 * weights * tokensPerStep;
    }

    static int? FromEnvironment()
    {
        var text = Environment.GetEnvironmentVariable(EnvironmentVariable);
        if (string.IsNullOrWhiteSpace(text)) return null;
        return int.TryParse(text.Trim(), out var n) && n > 0
            ? n
            : throw new InvalidOperationException(
                $"{EnvironmentVariable}={text}: expected a positive integer (the number of CPU threads torch may use). " +
                "Fix or unset it.");
    }
}
