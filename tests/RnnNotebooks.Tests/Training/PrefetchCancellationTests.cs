using System.Collections.Concurrent;
using RnnNotebooks.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace RnnNotebooks.Tests.Training;

/// <summary>
/// Stopping a prefetched epoch at every point (Ctrl-C's path: the trainer stops at the next step and disposes the
/// batches' enumerator): every tensor the producer built is freed exactly once, never while the consumer still uses it,
/// and the producer thread has ended when the enumeration's disposal returns.
/// </summary>
[Collection(TorchGlobalState.Name)]
public sealed class PrefetchCancellationTests
{
    /// <summary>Items with one kept tensor each (every one recorded in <paramref name="built"/>) and temporaries; the
    /// producer can be made slow so that a stop lands while it is building.</summary>
    static IEnumerable<(int Index, Tensor Values)> Source(int count, ConcurrentBag<Tensor> built, TimeSpan buildTime, Action onFinally)
    {
        try
        {
            for (var i = 0; i < count; i++)
            {
                if (buildTime > TimeSpan.Zero) Thread.Sleep(buildTime);
                var temp = arange(16, dtype: ScalarType.Float32).mul(i);
                var kept = temp.sum(0, keepdim: true);
                built.Add(kept);
                yield return (i, kept);
            }
        }
        finally
        {
            onFinally();
        }
    }

    public static TheoryData<int, int, bool> StopPoints()
    {
        var data = new TheoryData<int, int, bool>();
        foreach (var depth in new[] { 1, 3 })
            foreach (var slowProducer in new[] { false, true })
                for (var stopAfter = 0; stopAfter <= 7; stopAfter++)
                    data.Add(depth, stopAfter, slowProducer);
        return data;
    }

    [Theory]
    [MemberData(nameof(StopPoints))]
    public void Ahead_StoppedAfterAnyItem_FreesEveryBuiltTensorOnce_AndEndsTheProducer(int depth, int stopAfter, bool slowProducer)
    {
        const int count = 6;
        for (var round = 0; round < 5; round++)
        {
            var built = new ConcurrentBag<Tensor>();
            var finished = 0;
            var consumed = new List<float>();
            using (var e = Prefetch.Ahead(Source(count, built, TimeSpan.FromMilliseconds(slowProducer ? 2 : 0),
                       () => Interlocked.Exchange(ref finished, 1)), item => [item.Values], depth).GetEnumerator())
            {
                for (var i = 0; i < stopAfter; i++)
                {
                    using var step = NewDisposeScope();
                    if (!e.MoveNext()) break;
                    consumed.Add(e.Current.Values.item<float>());   // in use inside the step: must still be alive
                    if (!slowProducer) Thread.Sleep(1);              // let the producer fill the queue and block
                }
            }

            // Disposed before its first MoveNext, the enumeration never started a producer, and nothing was built.
            Assert.True(Volatile.Read(ref finished) == (stopAfter > 0 ? 1 : 0), "the producer's source was not finished when the enumeration was disposed");
            Assert.Equal(Enumerable.Range(0, Math.Min(stopAfter, count)).Select(i => 120f * i), consumed);
            Assert.All(built, t => Assert.True(t.IsInvalid, "a built tensor was not freed"));
        }
    }

    [Fact]
    public void Ahead_ConsumerFailingInAStep_FreesEverythingAndEndsTheProducer()
    {
        var built = new ConcurrentBag<Tensor>();
        var finished = false;
        Assert.Throws<InvalidOperationException>((Action)(() =>
        {
            using var e = Prefetch.Ahead(Source(50, built, TimeSpan.Zero, () => finished = true), x => [x.Values], depth: 2).GetEnumerator();
            while (true)
            {
                using var step = NewDisposeScope();     // opened before MoveNext, as the trainer's per-step scope
                Assert.True(e.MoveNext());
                if (e.Current.Index == 3) throw new InvalidOperationException("the step failed");
            }
        }));
        Assert.True(finished);
        Assert.All(built, t => Assert.True(t.IsInvalid));
    }

    [Fact]
    public void Fit_CancelledFromAnotherThreadAtRandomTimes_StopsCleanlyWithEveryBatchFreed()
    {
        // Ctrl-C cancels the token on the runtime's signal thread while the training thread is anywhere in a step, in
        // the producer's hand-over, or in the epoch's end; nothing may be freed twice or used after it was freed.
        using var problem = new TinyProblem();
        var random = new Random(5);
        for (var run = 0; run < 25; run++)
        {
            Seeds.Set(run);
            using var model = new MeanRegressor(8);
            using var optimizer = optim.Adam(model.parameters(), lr: 0.01);
            var built = new ConcurrentBag<Tensor>();
            IEnumerable<(Tensor X, Tensor Y)> Batches(int epoch) => Prefetch.Ahead(Recorded(problem.Batches(epoch), built), b => [b.X, b.Y], depth: 2);
            using var cancel = new CancellationTokenSource();
            var delay = TimeSpan.FromMilliseconds(random.Next(0, 60));
            var canceller = new Thread(() => { Thread.Sleep(delay); cancel.Cancel(); }) { IsBackground = true };
            canceller.Start();

            var state = Trainer.Fit(model, optimizer, Batches, TinyProblem.Loss(model), new TrainerOptions(Epochs: 1000),
                validate: problem.Validation(model), cancellationToken: cancel.Token);
            canceller.Join();

            Assert.Equal(StopReason.Cancelled, state.History.StopReason);
            Assert.All(state.History.Losses, l => Assert.True(double.IsFinite(l)));
            Assert.All(built, t => Assert.True(t.IsInvalid, "a batch tensor outlived the run"));
        }
    }

    static IEnumerable<(Tensor X, Tensor Y)> Recorded(IEnumerable<(Tensor X, Tensor Y)> batches, ConcurrentBag<Tensor> built)
    {
        foreach (var b in batches)
        {
            built.Add(b.X);
            built.Add(b.Y);
            yield return b;
        }
    }
}
