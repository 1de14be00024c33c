using RnnNotebooks.Training;

namespace RnnNotebooks.Cli;

/// <summary>
/// Ctrl-C during a training command: the first press asks the library's recipe to stop after the current step (it then
/// saves and returns, and the command exits with <see cref="ExitCode"/>); a second press ends the process at once (the
/// runtime's own SIGINT ending, so the shell also sees 130), for a step or a save that takes too long to wait for. That
/// may cut a save short, which leaves the last complete checkpoint loadable: every file of a save is written under a new
/// name and <c>checkpoint.json</c>, renamed into place last, is what makes it count.
/// </summary>
/// <remarks>The handler runs on the runtime's signal thread while training runs on the main thread, so it only sets the
/// token and prints: it must not touch the model, its tensors or the checkpoint.</remarks>
sealed class CtrlC : IDisposable
{
    /// <summary>The exit code of a command stopped by Ctrl-C (128 + SIGINT, what shells report).</summary>
    public const int ExitCode = 130;

    readonly CancellationTokenSource source = new();
    int presses;

    public CtrlC() => Console.CancelKeyPress += OnPress;

    /// <summary>Fires at the first Ctrl-C.</summary>
    public CancellationToken Token => source.Token;

    void OnPress(object? sender, ConsoleCancelEventArgs e) => e.Cancel = Press();

    /// <summary>One press: true (the process goes on) at the first, which cancels <see cref="Token"/>; false at any later
    /// one, so the runtime ends the process.</summary>
    internal bool Press()
    {
        if (Interlocked.Increment(ref presses) > 1) return false;
        source.Cancel();
        Console.Error.WriteLine("\nCtrl-C: stopping after this step and saving the checkpoint; press Ctrl-C again to quit at once " +
            "(the last saved checkpoint stays as it is).");
        return true;
    }

    /// <summary>After a training command's recipe returns: when Ctrl-C stopped it, says so and how to continue (stderr) and
    /// gives <see cref="ExitCode"/>, and the command prints no result (a result on stdout means a finished run); else null.</summary>
    public static int? Stopped(TrainingState state, string output)
    {
        if (state.History.StopReason != StopReason.Cancelled) return null;
        Console.Error.WriteLine($"Stopped by Ctrl-C at step {state.Step}; the checkpoint in {output} is saved. Run the same command to continue.");
        return ExitCode;
    }

    // The source is not disposed: a late Ctrl-C on the signal thread may still cancel it, and it holds no timer.
    public void Dispose() => Console.CancelKeyPress -= OnPress;
}
