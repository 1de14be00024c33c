using RnnNotebooks.Platform;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace RnnNotebooks.Translation;

/// <summary>Which attention a <see cref="Seq2Seq"/> decoder uses.</summary>
/// <remarks>Introduced in 04-machine-translation.</remarks>
public enum AttentionKind
{
    /// <summary>No attention: every step sees the same summary of the source (Cho et al., 2014).</summary>
    None,
    /// <summary>Bahdanau et al. (2015) additive scores, <c>vᵀ tanh(W_q q + W_k k)</c>.</summary>
    Additive,
    /// <summary>Luong et al. (2015) multiplicative scores, <c>qᵀ W_k k / √d</c> (the "general" form, scaled).</summary>
    Dot,
}

/// <summary>
/// Attention over encoder outputs: scores every source position against a query, turns the scores into weights
/// with a softmax that gives padding exactly zero weight, and returns the weighted sum of the values.
/// </summary>
/// <remarks>
/// The keys' projection does not depend on the query, so <see cref="PrepareKeys"/> runs once per source and
/// <see cref="Attend"/> once per decoder step. Sources of batch 1 broadcast against a query of many beams.
/// Introduced in 04-machine-translation.
/// </remarks>
public abstract class Attention : nn.Module
{
    /// <summary>Creates the module.</summary>
    protected Attention(string name) : base(name) { }

    /// <summary>Creates the attention of <paramref name="kind"/>, or null for <see cref="AttentionKind.None"/>.</summary>
    public static Attention? Create(AttentionKind kind, int querySize, int keySize, int attentionSize) => kind switch
    {
        AttentionKind.None => null,
        AttentionKind.Additive => new AdditiveAttention(querySize, keySize, attentionSize),
        AttentionKind.Dot => new DotProductAttention(querySize, keySize),
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "Unknown attention kind."),
    };

    /// <summary>The query-independent part of the scores: keys <c>[batch, srcSteps, keySize]</c> → <c>[batch, srcSteps, a]</c>.</summary>
    public abstract Tensor PrepareKeys(Tensor keys);

    /// <summary>Unnormalised scores <c>[batch, srcSteps]</c> of a query <c>[batch, querySize]</c>.</summary>
    protected abstract Tensor Scores(Tensor query, Tensor preparedKeys);

    /// <summary>The context vector and the attention weights of one query.</summary>
    /// <param name="query">Decoder state <c>[batch, querySize]</c>.</param>
    /// <param name="preparedKeys">From <see cref="PrepareKeys"/>, <c>[batch or 1, srcSteps, a]</c>.</param>
    /// <param name="values">Encoder outputs <c>[batch or 1, srcSteps, valueSize]</c>.</param>
    /// <param name="mask">True at real source positions <c>[batch or 1, srcSteps]</c>; each row needs one.</param>
    /// <returns>Context <c>[batch, valueSize]</c>; weights <c>[batch, srcSteps]</c>, summing to 1, 0 on padding.</returns>
    public (Tensor Context, Tensor Weights) Attend(Tensor query, Tensor preparedKeys, Tensor values, Tensor mask)
    {
        using var scope = NewDisposeScope();
        var scores = Scores(query, preparedKeys).masked_fill(mask.logical_not(), Scalars.NegativeInfinity);
        var weights = scores.softmax(-1);                                             // [batch, srcSteps]
        var context = weights.unsqueeze(1).matmul(values).squeeze(1);                 // [batch, valueSize]
        return scope.MoveToOuter(context, weights);
    }
}

/// <summary>Bahdanau additive attention: <c>score(q, k) = vᵀ tanh(W_q q + W_k k)</c>.</summary>
/// <remarks>state_dict keys: <c>queryProjection.weight</c>, <c>keyProjection.weight</c>, <c>keyProjection.bias</c>,
/// <c>scorer.weight</c>. Introduced in 04-machine-translation.</remarks>
public sealed class AdditiveAttention : Attention
{
    private readonly Linear queryProjection;
    private readonly Linear keyProjection;
    private readonly Linear scorer;

    /// <summary>Creates the module.</summary>
    public AdditiveAttention(int querySize, int keySize, int attentionSize) : base(nameof(AdditiveAttention))
    {
        queryProjection = nn.Linear(querySize, attentionSize, hasBias: false);
        keyProjection = nn.Linear(keySize, attentionSize);
        scorer = nn.Linear(attentionSize, 1, hasBias: false);
        RegisterComponents();
    }

    /// <inheritdoc />
    public override Tensor PrepareKeys(Tensor keys) => keyProjection.call(keys);

    /// <inheritdoc />
    protected override Tensor Scores(Tensor query, Tensor preparedKeys)
    {
        using var scope = NewDisposeScope();
        var features = preparedKeys.add(queryProjection.call(query).unsqueeze(1), Scalars.One).tanh();   // [batch, srcSteps, a]
        return scope.MoveToOuter(scorer.call(features).squeeze(-1));
    }
}

/// <summary>Luong multiplicative attention: <c>score(q, k) = qᵀ W k / √d</c>.</summary>
/// <remarks>state_dict keys: <c>keyProjection.weight</c>. Introduced in 04-machine-translation.</remarks>
public sealed class DotProductAttention : Attention
{
    private readonly Linear keyProjection;
    private readonly Scalar scale;

    /// <summary>Creates the module.</summary>
    public DotProductAttention(int querySize, int keySize) : base(nameof(DotProductAttention))
    {
        keyProjection = nn.Linear(keySize, querySize, hasBias: false);
        scale = (1 / Math.Sqrt(querySize)).ToScalar();
        RegisterComponents();
    }

    /// <inheritdoc />
    public override Tensor PrepareKeys(Tensor keys)
    {
        using var scope = NewDisposeScope();
        return scope.MoveToOuter(keyProjection.call(keys).mul(scale));
    }

    /// <inheritdoc />
    protected override Tensor Scores(Tensor query, Tensor preparedKeys)
    {
        using var scope = NewDisposeScope();
        return scope.MoveToOuter(preparedKeys.matmul(query.unsqueeze(-1)).squeeze(-1));       // [batch, srcSteps]
    }
}
