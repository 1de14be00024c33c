using System.Collections.Concurrent;
using System.Runtime.ExceptionServices;
using TorchSharp;
using static TorchSharp.torch;

namespace RnnNotebooks.Training;

/// <summary>Builds the next batches on a second thread while the model trains on the current one.</summary>
/// <remarks>
/// <para>
/// With one torch thread (<see cref="Threads"/>: small models on two cores), the second core sits idle while the
/// model trains, and the batch pipeline (building audio, features, masks) waits its turn on the first.
/// <see cref="Ahead{T}"/> runs that pipeline on a background thread a few batches ahead, so the two overlap.
/// </para>
/// <para>
/// The batches are the same ones in the same order: the source is enumerated on one thread, in order, so any
/// <see cref="Random"/> it owns is drawn exactly as before. Its code must not use torch's global random generator
/// (that would interleave with dropout's on the training thread) or state the training thread also touches.
/// </para>
/// <para>
/// Tensor ownership: each batch is built inside a dispose scope on the background thread that frees its
/// temporaries; the tensors <c>tensorsOf</c> names survive it and are attached to the dispose scope that is
/// current on the consuming thread when the batch is handed over (the trainer's per-step scope), so they are
/// freed like batches built in place. Batches built but never consumed (training stopped early) are disposed
/// when the enumeration ends.
/// </para>
/// Introduced in 05-speech-recognition.
/// </remarks>
public static class Prefetch
{
    /// <summary>
    /// Enumerates <paramref name="source"/> on a background thread, at most <paramref name="depth"/> items ahead of
    /// the caller. An exception in the source is rethrown to the caller at the item where it happened.
    /// </summary>
    /// <param name="source">The batches; enumerated once, on the background thread.</param>
    /// <param name="tensorsOf">The tensors an item owns (kept alive across threads, then freed with it).</param>
    /// <param name="depth">Items built ahead (≥ 1).</param>
    public static IEnumerable<T> Ahead<T>(IEnumerable<T> source, Func<T, IEnumerable<Tensor>> tensorsOf, int depth = 2)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(tensorsOf);
        ArgumentOutOfRangeException.ThrowIfLessThan(depth, 1);
        return Run(source, tensorsOf, depth);
    }

    static IEnumerable<T> Run<T>(IEnumerable<T> source, Func<T, IEnumerable<Tensor>> tensorsOf, int depth)
    {
        using var queue = new BlockingCollection<(T Item, Exception? Error)>(depth);
        using var stop = new CancellationTokenSource();
        var threads = torch.get_num_threads();
        var producer = new Thread(() => Produce(source, tensorsOf, queue, stop.Token, threads))
        {
            IsBackground = true,
            Name = "batch prefetch",
        };
        producer.Start();
        try
        {
            foreach (var (item, error) in queue.GetConsumingEnumerable())
            {
                if (error is not null) ExceptionDispatchInfo.Capture(error).Throw();
                if (torch.CurrentDisposeScope is { } scope)
                    foreach (var t in tensorsOf(item)) scope.Attach(t);
                yield return item;
            }
        }
        finally
        {
            stop.Cancel();
            producer.Join();
            while (queue.TryTake(out var left))
                if (left.Error is null)
                    foreach (var t in tensorsOf(left.Item)) t.Dispose();
        }
    }

    static void Produce<T>(IEnumerable<T> source, Func<T, IEnumerable<Tensor>> tensorsOf,
        BlockingCollection<(T, Exception?)> queue, CancellationToken stop, int threads)
    {
        // A new thread starts with libtorch's default thread count; keep the caller's, so the features come out
        // bit for bit as they would on the training thread.
        if (torch.get_num_threads() != threads) torch.set_num_threads(threads);
        try
        {
            using var items = source.GetEnumerator();
            while (!stop.IsCancellationRequested)
            {
                T item;
                using (var scope = torch.NewDisposeScope())
                {
                    if (!items.MoveNext()) break;
                    item = items.Current;
                    foreach (var t in tensorsOf(item)) scope.Detach(t);
                }
                try
                {
                    queue.Add((item, null), stop);
                }
                catch (OperationCanceledException)
                {
                    foreach (var t in tensorsOf(item)) t.Dispose();
                    break;
                }
            }
        }
        catch (Exception e)
        {
            try { queue.Add((default!, e), stop); }
            catch (OperationCanceledException) { }
        }
        finally
        {
            queue.CompleteAdding();
        }
    }
}
