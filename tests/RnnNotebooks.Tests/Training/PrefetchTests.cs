using RnnNotebooks.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace RnnNotebooks.Tests.Training;

// Compares the process-wide live-tensor count, which tests running beside it would move.
[Collection(RnnNotebooks.Tests.Training.TorchGlobalState.Name)]
public class PrefetchTests
{
    /// <summary>Items built the way a batch pipeline builds them: temporaries, a seeded generator, one kept tensor.</summary>
    static IEnumerable<(int Index, Tensor Values, int Thread)> Source(int count, Random random, Action? onFinally = null)
    {
        try
        {
            for (var i = 0; i < count; i++)
            {
                var raw = tensor(Enumerable.Range(0, 8).Select(_ => (float)random.NextDouble()).ToArray());
                var scaled = raw.mul(2.0f).add(1.0f);           // temporaries the item does not keep
                yield return (i, scaled.sum(0, keepdim: true), Environment.CurrentManagedThreadId);
            }
        }
        finally
        {
            onFinally?.Invoke();
        }
    }

    static IEnumerable<Tensor> TensorsOf((int, Tensor Values, int) item) => [item.Values];

    [Fact]
    public void Ahead_GivesTheSameItemsInTheSameOrder_BuiltOnAnotherThread()
    {
        List<float> direct;
        using (NewDisposeScope())
            direct = [.. Source(40, new Random(7)).Select(x => x.Values.item<float>())];

        var viaPrefetch = new List<float>();
        var threads = new HashSet<int>();
        foreach (var item in Prefetch.Ahead(Source(40, new Random(7)), TensorsOf, depth: 3))
        {
            using var scope = NewDisposeScope();
            scope.Attach(item.Values);
            viaPrefetch.Add(item.Values.item<float>());
            threads.Add(item.Thread);
        }

        Assert.Equal(direct, viaPrefetch);
        Assert.DoesNotContain(Environment.CurrentManagedThreadId, threads);
    }

    [Fact]
    public void Ahead_AttachesEachItemToTheConsumersScope_SoTheLiveCountStaysFlat()
    {
        // Tensors that earlier tests left to the garbage collector are finalised first, so that none of them is
        // freed during the count below (a clean-clone run once counted 24 fewer at the end than at the start).
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        var before = Tensor.TotalCount;
        var live = new List<long>();
        using (var e = Prefetch.Ahead(Source(300, new Random(1)), TensorsOf, depth: 2).GetEnumerator())
        {
            for (var i = 0; i < 300; i++)
            {
                using (var step = NewDisposeScope())     // as the trainer's per-step scope
                {
                    Assert.True(e.MoveNext());
                    Assert.True(step.Contains(e.Current.Values));
                }
                live.Add(Tensor.TotalCount - before);
            }
            Assert.False(e.MoveNext());
        }
        // Alive between steps: only what the producer has queued or is building (depth 2 + 1 item, plus the
        // temporaries of the item under construction), never a growing number.
        Assert.All(live, n => Assert.InRange(n, 0, 2 + 1 + 3));
        Assert.Equal(before, Tensor.TotalCount);
    }

    [Fact]
    public void Ahead_WithNoScopeOpen_LeavesTheItemsToTheCaller()
    {
        var items = Prefetch.Ahead(Source(5, new Random(2)), TensorsOf).ToList();
        Assert.All(items, x => Assert.False(x.Values.IsInvalid));
        Assert.Equal(5, items.Select(x => x.Values.item<float>()).Distinct().Count());
        foreach (var x in items) x.Values.Dispose();
    }

    [Fact]
    public void Ahead_StoppedEarly_StopsTheProducer_RunsItsFinally_AndFreesWhatWasBuilt()
    {
        var before = Tensor.TotalCount;
        var finished = false;
        using (var e = Prefetch.Ahead(Source(1000, new Random(3), () => finished = true), TensorsOf, depth: 4).GetEnumerator())
        {
            for (var i = 0; i < 5; i++)
            {
                using var step = NewDisposeScope();
                Assert.True(e.MoveNext());
            }
            Thread.Sleep(50);                           // let the producer fill the queue
        }
        Assert.True(finished, "the source's finally block did not run");
        Assert.Equal(before, Tensor.TotalCount);
    }

    [Fact]
    public void Ahead_RethrowsTheSourcesException_AtTheItemWhereItHappened()
    {
        static IEnumerable<(int, Tensor, int)> Failing()
        {
            yield return (0, tensor(1f), 0);
            yield return (1, tensor(2f), 0);
            throw new InvalidDataException("recording 3 is truncated");
        }

        var seen = new List<int>();
        var error = Assert.Throws<InvalidDataException>(() =>
        {
            foreach (var item in Prefetch.Ahead(Failing(), TensorsOf))
            {
                using var step = NewDisposeScope();
                step.Attach(item.Item2);
                seen.Add(item.Item1);
            }
        });
        Assert.Equal("recording 3 is truncated", error.Message);
        Assert.Equal([0, 1], seen);
    }

    [Fact]
    public void Ahead_RejectsADepthBelowOne()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => Prefetch.Ahead(Source(1, new Random(0)), TensorsOf, depth: 0));
    }
}
