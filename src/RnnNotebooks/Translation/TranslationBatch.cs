using RnnNotebooks.Platform;
using RnnNotebooks.Text;
using TorchSharp;
using static TorchSharp.torch;

namespace RnnNotebooks.Translation;

/// <summary>A source sentence and its translation as ids, without <c>&lt;bos&gt;</c>/<c>&lt;eos&gt;</c>.</summary>
/// <remarks>Introduced in 04-machine-translation.</remarks>
public sealed record EncodedPair(long[] Source, long[] Target)
{
    /// <summary>Encodes a tokenised pair with the two vocabularies.</summary>
    public static EncodedPair From(SentencePair pair, Vocabulary source, Vocabulary target) =>
        new(source.EncodeTokens(pair.Source), target.EncodeTokens(pair.Target));
}

/// <summary>
/// A padded batch. The source ends with <c>&lt;eos&gt;</c>; the decoder reads <see cref="TargetInput"/>
/// (<c>&lt;bos&gt; y1 … yn</c>) and is trained to produce <see cref="TargetOutput"/> (<c>y1 … yn &lt;eos&gt;</c>).
/// </summary>
/// <param name="Source">Source ids <c>[batch, srcSteps]</c>, padded with <see cref="Vocabulary.Pad"/>.</param>
/// <param name="SourceLengths">Real source lengths <c>[batch]</c> (int64, CPU), <c>&lt;eos&gt;</c> included.</param>
/// <param name="SourceMask">True at real source positions <c>[batch, srcSteps]</c>.</param>
/// <param name="TargetInput">Decoder inputs <c>[batch, tgtSteps]</c>.</param>
/// <param name="TargetOutput">Decoder targets <c>[batch, tgtSteps]</c>.</param>
/// <param name="TargetMask">True where <see cref="TargetOutput"/> is a real token <c>[batch, tgtSteps]</c>.</param>
/// <remarks>Introduced in 04-machine-translation.</remarks>
public sealed record TranslationBatch(Tensor Source, Tensor SourceLengths, Tensor SourceMask, Tensor TargetInput,
    Tensor TargetOutput, Tensor TargetMask)
{
    /// <summary>Number of sentence pairs.</summary>
    public long Size => Source.shape[0];

    /// <summary>Real target tokens (what the loss averages over).</summary>
    public long TargetTokens { get; init; }

    /// <summary>Pads <paramref name="pairs"/> into one batch.</summary>
    public static TranslationBatch Collate(IReadOnlyList<EncodedPair> pairs)
    {
        ArgumentNullException.ThrowIfNull(pairs);
        if (pairs.Count == 0) throw new ArgumentException("A batch needs at least one pair.", nameof(pairs));
        var b = pairs.Count;
        var srcSteps = pairs.Max(p => p.Source.Length) + 1;
        var tgtSteps = pairs.Max(p => p.Target.Length) + 1;
        var src = new long[b * srcSteps];
        var srcLengths = new long[b];
        var tgtIn = new long[b * tgtSteps];
        var tgtOut = new long[b * tgtSteps];
        for (var i = 0; i < b; i++)
        {
            var (s, t) = (pairs[i].Source, pairs[i].Target);
            s.CopyTo(src, i * srcSteps);
            src[i * srcSteps + s.Length] = Vocabulary.Eos;
            srcLengths[i] = s.Length + 1;
            tgtIn[i * tgtSteps] = Vocabulary.Bos;
            t.CopyTo(tgtIn, i * tgtSteps + 1);
            t.CopyTo(tgtOut, i * tgtSteps);
            tgtOut[i * tgtSteps + t.Length] = Vocabulary.Eos;
        }
        var source = tensor(src, [b, srcSteps]);
        var targetOutput = tensor(tgtOut, [b, tgtSteps]);
        return new TranslationBatch(source, tensor(srcLengths), source.ne(Vocabulary.PadScalar), tensor(tgtIn, [b, tgtSteps]),
            targetOutput, targetOutput.ne(Vocabulary.PadScalar))
        { TargetTokens = pairs.Sum(p => p.Target.Length + 1L) };
    }

    /// <summary>
    /// The batches of one epoch: shuffled with <paramref name="random"/> (null keeps the order), then, within pools
    /// of 50 batches, sorted by source length so that a batch holds sentences of similar length and little padding.
    /// </summary>
    public static IEnumerable<TranslationBatch> Batches(IReadOnlyList<EncodedPair> pairs, int batchSize, Random? random)
    {
        ArgumentNullException.ThrowIfNull(pairs);
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        var order = Enumerable.Range(0, pairs.Count).ToArray();
        if (random is null)
        {
            for (var start = 0; start < order.Length; start += batchSize)
                yield return Collate([.. order.Skip(start).Take(batchSize).Select(i => pairs[i])]);
            yield break;
        }
        random.Shuffle(order);
        var groups = new List<int[]>();
        var pool = batchSize * 50;
        for (var start = 0; start < order.Length; start += pool)
        {
            var sorted = order.Skip(start).Take(pool).OrderBy(i => pairs[i].Source.Length).ThenBy(i => pairs[i].Target.Length).ToArray();
            for (var s = 0; s < sorted.Length; s += batchSize) groups.Add(sorted[s..Math.Min(s + batchSize, sorted.Length)]);
        }
        var batchOrder = groups.ToArray();
        random.Shuffle(batchOrder);
        foreach (var group in batchOrder) yield return Collate([.. group.Select(i => pairs[i])]);
    }
}

/// <summary>Losses over padded sequences.</summary>
/// <remarks>Introduced in 04-machine-translation.</remarks>
public static class SequenceLoss
{
    /// <summary>
    /// Mean cross-entropy over the real tokens only: padded positions (mask false) add nothing and are not
    /// counted in the mean.
    /// </summary>
    /// <param name="logits">Scores <c>[batch, steps, vocab]</c>.</param>
    /// <param name="targets">Target ids <c>[batch, steps]</c>.</param>
    /// <param name="mask">True at real tokens <c>[batch, steps]</c>.</param>
    /// <param name="labelSmoothing">Share of probability spread over all classes (0 for none).</param>
    public static Tensor MaskedCrossEntropy(Tensor logits, Tensor targets, Tensor mask, double labelSmoothing = 0)
    {
        if (logits.dim() != 3 || targets.shape.Length != 2 || logits.shape[0] != targets.shape[0] || logits.shape[1] != targets.shape[1])
            throw new ArgumentException(
                $"Expected logits [batch, steps, vocab] and targets [batch, steps]; got [{string.Join(", ", logits.shape)}] and " +
                $"[{string.Join(", ", targets.shape)}].");
        using var scope = NewDisposeScope();
        var vocab = logits.shape[2];
        var perToken = nn.functional.cross_entropy(logits.reshape(-1, vocab), targets.reshape(-1),
            reduction: nn.Reduction.None, label_smoothing: labelSmoothing);                // [batch * steps]
        var weights = mask.reshape(-1).to_type(perToken.dtype);
        return scope.MoveToOuter(perToken.mul(weights).sum().div(weights.sum().clamp_min(Scalars.One)));
    }
}
