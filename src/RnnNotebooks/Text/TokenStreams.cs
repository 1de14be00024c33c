using TorchSharp;
using static TorchSharp.torch;

namespace RnnNotebooks.Text;

/// <summary>
/// One training batch of a language model: inputs and the targets one token later, both <c>[batch, steps]</c>.
/// </summary>
/// <param name="Inputs">Token ids <c>[batch, steps]</c> (int64).</param>
/// <param name="Targets">The next token after each input <c>[batch, steps]</c> (int64).</param>
/// <param name="ContinuesPrevious">True when row <c>b</c> continues row <c>b</c> of the previous batch, so the
/// hidden state should be carried over; false at the start of an epoch and for random windows.</param>
/// <remarks>Introduced in 03-language-modeling.</remarks>
public sealed record TokenBatch(Tensor Inputs, Tensor Targets, bool ContinuesPrevious)
{
    /// <summary>Number of predicted tokens, <c>batch × steps</c>.</summary>
    public long Tokens => Inputs.numel();
}

/// <summary>
/// Cuts a long token sequence into <see cref="BatchSize"/> parallel streams, read in windows of
/// <see cref="Steps"/> tokens (truncated backpropagation through time).
/// </summary>
/// <remarks>
/// The corpus <c>t₀ t₁ … t_{n-1}</c> is split into <c>B</c> contiguous pieces of length
/// <c>L = (n − 1) / B</c>: row <c>b</c> of the input matrix is <c>t_{bL} … t_{bL+L-1}</c>, its targets are the
/// same tokens shifted by one. Window <c>k</c> is columns <c>kT … kT+T-1</c> of both matrices (the last one may
/// be shorter), so row <c>b</c> of window <c>k+1</c> continues exactly where row <c>b</c> of window <c>k</c>
/// stopped, and a model can carry its hidden state from one batch to the next. The at most <c>B</c> tokens at
/// the end that do not fill a row are dropped.
/// <para>The two matrices are created once and owned by this object; each batch holds views of them, so
/// disposing a batch (as the trainer does) frees nothing but the views.</para>
/// Introduced in 03-language-modeling.
/// </remarks>
public sealed class TokenStreams : IDisposable
{
    readonly Tensor inputs;
    readonly Tensor targets;

    /// <summary>Splits <paramref name="ids"/> into <paramref name="batchSize"/> streams read <paramref name="steps"/> tokens at a time.</summary>
    /// <exception cref="ArgumentException">The sequence is too short to give every stream at least one token.</exception>
    public TokenStreams(IReadOnlyList<int> ids, int batchSize, int steps)
    {
        ArgumentNullException.ThrowIfNull(ids);
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(steps, 1);
        var length = (ids.Count - 1) / batchSize;
        if (length < 1)
            throw new ArgumentException(
                $"{ids.Count} tokens cannot fill {batchSize} streams: each stream needs at least one input and its target. " +
                "Use a longer text or a smaller batch.", nameof(ids));
        BatchSize = batchSize;
        Steps = steps;
        StreamLength = length;
        var all = ids as int[] ?? ids.ToArray();
        using var scope = NewDisposeScope();
        var flat = tensor(all, ScalarType.Int64);                                     // [n]
        inputs = flat[..(batchSize * length)].reshape(batchSize, length).contiguous();  // [batch, length]
        targets = flat[1..(batchSize * length + 1)].reshape(batchSize, length).contiguous();
        scope.Detach(inputs, targets);
    }

    /// <summary>Parallel streams (rows of every batch).</summary>
    public int BatchSize { get; }

    /// <summary>Tokens per window (the truncation length of backpropagation through time).</summary>
    public int Steps { get; }

    /// <summary>Tokens per stream.</summary>
    public int StreamLength { get; }

    /// <summary>Windows per pass: <c>⌈StreamLength / Steps⌉</c>.</summary>
    public int Count => (StreamLength + Steps - 1) / Steps;

    /// <summary>Tokens predicted in one pass: <c>BatchSize × StreamLength</c>.</summary>
    public long Tokens => (long)BatchSize * StreamLength;

    /// <summary>All input ids laid out as streams <c>[batch, StreamLength]</c> (owned by this object; do not dispose).</summary>
    public Tensor Inputs => inputs;

    /// <summary>The windows in order; the first has <see cref="TokenBatch.ContinuesPrevious"/> false.</summary>
    public IEnumerable<TokenBatch> Batches()
    {
        for (var k = 0; k < Count; k++)
        {
            var start = k * Steps;
            var end = Math.Min(start + Steps, StreamLength);
            yield return new TokenBatch(inputs[.., start..end], targets[.., start..end], ContinuesPrevious: k > 0);
        }
    }

    /// <summary>
    /// The alternative to streams: <paramref name="count"/> batches of windows that start at random positions,
    /// each unrelated to the last, so the hidden state starts from zero every time
    /// (<see cref="TokenBatch.ContinuesPrevious"/> false).
    /// </summary>
    /// <param name="ids">The token sequence.</param>
    /// <param name="batchSize">Windows per batch.</param>
    /// <param name="steps">Tokens per window.</param>
    /// <param name="count">Batches to draw.</param>
    /// <param name="random">Chooses the start positions (e.g. <c>Seeds.CreateRandom(epoch)</c>).</param>
    public static IEnumerable<TokenBatch> RandomWindows(IReadOnlyList<int> ids, int batchSize, int steps, int count, Random random)
    {
        ArgumentNullException.ThrowIfNull(ids);
        ArgumentNullException.ThrowIfNull(random);
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(steps, 1);
        if (ids.Count < steps + 1)
            throw new ArgumentException($"{ids.Count} tokens are too few for windows of {steps} steps plus a target.", nameof(ids));
        for (var i = 0; i < count; i++)
        {
            var x = new long[batchSize * steps];
            var y = new long[batchSize * steps];
            for (var b = 0; b < batchSize; b++)
            {
                var start = random.Next(ids.Count - steps);
                for (var t = 0; t < steps; t++)
                {
                    x[b * steps + t] = ids[start + t];
                    y[b * steps + t] = ids[start + t + 1];
                }
            }
            yield return new TokenBatch(tensor(x, [batchSize, steps]), tensor(y, [batchSize, steps]), ContinuesPrevious: false);
        }
    }

    /// <summary>Frees the two stream matrices.</summary>
    public void Dispose()
    {
        inputs.Dispose();
        targets.Dispose();
    }
}
