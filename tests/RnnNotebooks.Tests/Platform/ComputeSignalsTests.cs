using RnnNotebooks.Platform;

namespace RnnNotebooks.Tests.Platform;

public sealed class ComputeSignalsTests
{
    [Fact]
    public void BlockOnThisThread_BlocksTheUserSignals_ForTheThreadAndTheThreadsItStarts_NotTheRuntimes()
    {
        if (!OperatingSystem.IsLinux()) Assert.Skip("ComputeSignals does nothing outside Linux");
        bool before = true, after = false, child = false, runtimeSignal = true;
        // On a thread of its own, so that the test host's threads keep their mask.
        var thread = new Thread(() =>
        {
            before = ComputeSignals.IsBlockedOnThisThread(2);
            Assert.True(ComputeSignals.BlockOnThisThread());
            after = ComputeSignals.Blocked.All(ComputeSignals.IsBlockedOnThisThread);
            runtimeSignal = ComputeSignals.IsBlockedOnThisThread(34);   // SIGRTMIN: the runtime stops threads with it
            var started = new Thread(() => child = ComputeSignals.Blocked.All(ComputeSignals.IsBlockedOnThisThread));
            started.Start();
            started.Join();
        });
        thread.Start();
        thread.Join();

        Assert.False(before, "a fresh thread blocks SIGINT already: the test shows nothing");
        Assert.True(after, "the calling thread must block SIGINT, SIGQUIT, SIGTERM, SIGCHLD, SIGCONT and SIGWINCH");
        Assert.True(child, "threads started afterwards (libtorch's workers) must inherit the mask");
        Assert.False(runtimeSignal, "SIGRTMIN must stay open: the garbage collector needs it");
    }
}
