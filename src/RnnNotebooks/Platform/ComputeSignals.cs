using System.Runtime.InteropServices;

namespace RnnNotebooks.Platform;

/// <summary>
/// Keeps the signals a user or the terminal sends (Ctrl-C, <c>kill</c>, <c>fg</c> after Ctrl-Z) off the thread that
/// computes, so that they reach the process through a thread that is idle.
/// </summary>
/// <remarks>
/// A signal that interrupts libtorch's oneDNN LSTM while it trains can damage the heap: the process later aborts in
/// <c>free()</c> ("corrupted size vs. prev_size", "free(): invalid pointer"). A few lines of TorchSharp show it: an
/// <c>nn.LSTM</c> forward and backward in a loop, sent SIGCONT every half millisecond, aborts within a few
/// dozen signals; with oneDNN switched off, or with a plain matrix product in place of the LSTM, it takes tens of
/// thousands without harm. <c>rnn lm train</c> aborted within about 2 s of such signals on one thread or two, with
/// oneDNN kept to AVX2 or not, and Ctrl-C alone hit the fault about once in 40 presses.
/// <para>The kernel hands a signal sent to the process to any thread that does not block it, the main thread first.
/// <see cref="BlockOnThisThread"/> blocks the asynchronous signals .NET handles (SIGINT, SIGQUIT, SIGTERM, SIGCHLD,
/// SIGCONT, SIGWINCH) on the calling thread; every thread it starts afterwards, libtorch's OpenMP workers among them,
/// inherits the mask. One background thread, started before the mask is set, keeps them unblocked, so the runtime
/// still sees each signal and <see cref="Console.CancelKeyPress"/> still fires. The runtime's own thread-directed
/// signal (SIGRTMIN, which stops threads for a garbage collection) is left alone: it is sent only to threads running
/// managed code.</para>
/// <para>Linux only; elsewhere it does nothing.</para>
/// </remarks>
public static unsafe class ComputeSignals
{
    /// <summary>The signals blocked: those a user or terminal sends and .NET installs a handler for.</summary>
    public static readonly IReadOnlyList<int> Blocked = [SigInt, SigQuit, SigTerm, SigChld, SigCont, SigWinch];

    const int SigInt = 2, SigQuit = 3, SigTerm = 15, SigChld = 17, SigCont = 18, SigWinch = 28;
    const int SigBlock = 0;       // Linux's SIG_BLOCK
    const int SigSetBytes = 128;  // glibc's sigset_t

    static readonly object Gate = new();
    static Thread? receiver;

    /// <summary>Blocks <see cref="Blocked"/> on the calling thread (and so on every thread it starts from now on), after
    /// making sure one idle thread still receives them. Returns false where this does nothing (not Linux).</summary>
    public static bool BlockOnThisThread()
    {
        if (!OperatingSystem.IsLinux()) return false;
        lock (Gate)
        {
            if (receiver is null)
            {
                receiver = new Thread(() => Thread.Sleep(Timeout.Infinite), 64 * 1024)
                    { IsBackground = true, Name = "rnn signals" };
                receiver.Start();
            }
        }
        var set = stackalloc byte[SigSetBytes];
        Check(sigemptyset(set), "sigemptyset");
        foreach (var signal in Blocked) Check(sigaddset(set, signal), "sigaddset");
        var error = pthread_sigmask(SigBlock, set, null);
        if (error != 0) throw new InvalidOperationException($"pthread_sigmask failed with error {error}.");
        return true;
    }

    /// <summary>Whether the calling thread blocks <paramref name="signal"/> now (Linux; false elsewhere).</summary>
    public static bool IsBlockedOnThisThread(int signal)
    {
        if (!OperatingSystem.IsLinux()) return false;
        var set = stackalloc byte[SigSetBytes];
        var error = pthread_sigmask(SigBlock, null, set);
        if (error != 0) throw new InvalidOperationException($"pthread_sigmask failed with error {error}.");
        return sigismember(set, signal) == 1;
    }

    static void Check(int result, string call)
    {
        if (result != 0) throw new InvalidOperationException($"{call} failed (errno {Marshal.GetLastPInvokeError()}).");
    }

    [DllImport("libc", SetLastError = true)] static extern int sigemptyset(byte* set);
    [DllImport("libc", SetLastError = true)] static extern int sigaddset(byte* set, int signal);
    [DllImport("libc", SetLastError = true)] static extern int sigismember(byte* set, int signal);
    [DllImport("libc")] static extern int pthread_sigmask(int how, byte* set, byte* oldSet);
}
