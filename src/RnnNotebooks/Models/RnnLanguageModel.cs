using RnnNotebooks.Platform;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace RnnNotebooks.Models;

/// <summary>Shape of an <see cref="RnnLanguageModel"/>.</summary>
/// <param name="VocabSize">Number of token ids in and out.</param>
/// <param name="HiddenSize">Size of each layer's hidden state.</param>
/// <param name="NumLayers">Stacked RNN layers.</param>
/// <param name="EmbeddingSize">null: one-hot inputs (as in the from-scratch RNN); a size: a learned embedding.</param>
/// <param name="Dropout">Dropout between stacked layers (ignored by TorchSharp for one layer).</param>
/// <param name="DType">Element type of the parameters.</param>
/// <remarks>Introduced in 01-vanilla-rnn.</remarks>
public sealed record RnnLanguageModelOptions(
    int VocabSize,
    int HiddenSize,
    int NumLayers = 1,
    int? EmbeddingSize = null,
    double Dropout = 0.0,
    ScalarType DType = ScalarType.Float32);

/// <summary>
/// A language model built on TorchSharp's <c>nn.RNN</c> (tanh, batch first) with a linear readout:
/// token ids <c>[batch, steps]</c> → next-token scores <c>[batch, steps, vocab]</c> and the final hidden state
/// <c>[layers, batch, hidden]</c>.
/// </summary>
/// <remarks>
/// state_dict keys: <c>embedding.weight</c> (only with an embedding), <c>rnn.weight_ih_l0</c>,
/// <c>rnn.weight_hh_l0</c>, <c>rnn.bias_ih_l0</c>, <c>rnn.bias_hh_l0</c>, … per layer, <c>readout.weight</c>,
/// <c>readout.bias</c>.
/// Introduced in 01-vanilla-rnn.
/// </remarks>
public sealed class RnnLanguageModel : nn.Module<Tensor, Tensor?, (Tensor Logits, Tensor Hidden)>
{
    private readonly Embedding? embedding;
    private readonly RNN rnn;
    private readonly Linear readout;

    /// <summary>Creates the model with TorchSharp's default initialisation, from torch's generator.</summary>
    public RnnLanguageModel(RnnLanguageModelOptions options) : base(nameof(RnnLanguageModel))
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(options.VocabSize, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.HiddenSize, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.NumLayers, 1);
        if (options.EmbeddingSize is { } e) ArgumentOutOfRangeException.ThrowIfLessThan(e, 1);
        Options = options;
        if (options.EmbeddingSize is { } size)
            embedding = nn.Embedding(options.VocabSize, size, dtype: options.DType);
        rnn = nn.RNN(options.EmbeddingSize ?? options.VocabSize, options.HiddenSize, options.NumLayers,
            nn.NonLinearities.Tanh, bias: true, batchFirst: true, dropout: options.Dropout, dtype: options.DType);
        readout = nn.Linear(options.HiddenSize, options.VocabSize, dtype: options.DType);
        RegisterComponents();
    }

    /// <summary>The shape this model was created with.</summary>
    public RnnLanguageModelOptions Options { get; }

    /// <summary>Scores for the next token after every step, and the final hidden state.</summary>
    /// <param name="ids">Token ids <c>[batch, steps]</c> (int64).</param>
    /// <param name="h0">Initial hidden state <c>[layers, batch, hidden]</c>, zeros if null.</param>
    public override (Tensor Logits, Tensor Hidden) forward(Tensor ids, Tensor? h0)
    {
        using var scope = NewDisposeScope();
        var (states, hidden) = HiddenStates(ids, h0);
        return scope.MoveToOuter(readout.call(states), hidden);              // [batch, steps, vocab]
    }

    /// <summary>
    /// The top layer's hidden state after every step <c>[batch, steps, hidden]</c> and the final hidden
    /// state of every layer <c>[layers, batch, hidden]</c>.
    /// </summary>
    public (Tensor States, Tensor Hidden) HiddenStates(Tensor ids, Tensor? h0 = null)
    {
        if (ids.dim() != 2)
            throw new ArgumentException(
                $"Expected token ids of shape [batch, steps], got [{string.Join(", ", ids.shape)}]. " +
                "For one sequence use ids.unsqueeze(0).", nameof(ids));
        using var scope = NewDisposeScope();
        var x = embedding is null
            ? nn.functional.one_hot(ids.to_type(ScalarType.Int64), Options.VocabSize).to_type(readout.weight.dtype)
            : embedding.call(ids);                                             // [batch, steps, input]
        var (states, hidden) = rnn.call(x, h0);
        return scope.MoveToOuter(states, hidden);
    }

    /// <summary>
    /// Copies the weights of a from-scratch RNN, after which both compute the same scores:
    /// W_xh → <c>rnn.weight_ih_l0</c>, W_hh → <c>rnn.weight_hh_l0</c>, b_h → <c>rnn.bias_ih_l0</c> (with
    /// <c>rnn.bias_hh_l0</c> set to zero, as nn.RNN adds both), W_hy → <c>readout.weight</c>,
    /// b_y → <c>readout.bias</c>. Converts to this model's element type.
    /// </summary>
    /// <exception cref="InvalidOperationException">This model is not a one-layer, one-hot RNN.</exception>
    /// <exception cref="ArgumentException">The sizes differ.</exception>
    public void CopyFrom(ScratchRnn scratch)
    {
        if (embedding is not null || Options.NumLayers != 1)
            throw new InvalidOperationException(
                $"CopyFrom needs a one-layer model with one-hot inputs (EmbeddingSize null, NumLayers 1) so that each " +
                $"scratch weight has a counterpart; this one has EmbeddingSize {Options.EmbeddingSize?.ToString() ?? "null"} " +
                $"and NumLayers {Options.NumLayers}.");
        if (scratch.VocabSize != Options.VocabSize || scratch.HiddenSize != Options.HiddenSize)
            throw new ArgumentException(
                $"The scratch RNN has vocabulary {scratch.VocabSize} and hidden size {scratch.HiddenSize}; this model has " +
                $"vocabulary {Options.VocabSize} and hidden size {Options.HiddenSize}. Create the model with " +
                $"new RnnLanguageModelOptions({scratch.VocabSize}, {scratch.HiddenSize}).", nameof(scratch));

        using var noGrad = no_grad();
        // nn.RNN's getters return a fresh handle to the live parameter each call; dispose only the handle.
        using (var weightIh = rnn.get_weight_ih(0)!) weightIh.copy_(scratch.Wxh);
        using (var weightHh = rnn.get_weight_hh(0)!) weightHh.copy_(scratch.Whh);
        using (var biasIh = rnn.get_bias_ih(0)!) biasIh.copy_(scratch.Bh);
        using (var biasHh = rnn.get_bias_hh(0)!) biasHh.fill_(Scalars.Zero);
        readout.weight.copy_(scratch.Why);
        readout.bias!.copy_(scratch.By);
    }

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            embedding?.Dispose();
            rnn.Dispose();
            readout.Dispose();
        }
        base.Dispose(disposing);
    }
}
