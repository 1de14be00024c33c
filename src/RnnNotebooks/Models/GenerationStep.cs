using RnnNotebooks.Platform;
using TorchSharp;
using static TorchSharp.torch;

namespace RnnNotebooks.Models;

/// <summary>
/// One token at a time through a <see cref="LanguageModel"/> (LSTM, GRU or RNN cells) at batch 1, for generation:
/// the same arithmetic as <see cref="LanguageModel.Step"/> (to float rounding), with less work per token.
/// </summary>
/// <remarks>
/// At batch 1 a step is a handful of matrix–vector products plus a dozen tiny tensor operations. libtorch's
/// recurrent layers multiply the state by each weight matrix transposed (a strided read, measured ~1.4× slower
/// than a contiguous one here), twice per layer. Here each layer's input and recurrent matrices are stacked and
/// stored transposed, <c>[input + hidden, width]</c>, so one contiguous product of <c>[x, h]</c> gives every
/// pre-activation the cell needs, and the state is updated in place:
/// <list type="bullet">
/// <item>LSTM: the four gates i, f, g, o (width 4·hidden), both biases summed.</item>
/// <item>GRU: its candidate needs the recurrent part on its own (<c>n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn))</c>),
/// so the columns are r and z (input and recurrent summed), then the input part of n, then the recurrent part
/// of n, with zero blocks where a part does not depend on <c>x</c> or <c>h</c> (width 4·hidden).</item>
/// <item>RNN: <c>tanh(W_ih x + W_hh h + b)</c> (width hidden).</item>
/// </list>
/// When at least as many tokens will be generated as the vocabulary has entries, the first layer's input product
/// is tabulated per token (embedding × input rows + biases), so that layer only multiplies its recurrent state.
/// The buffers belong to the model and are reused by every generation; <see cref="Prepare"/> copies the current
/// weights into them (fresh allocations of this size measured several milliseconds, the copies a fraction).
/// Not for concurrent use: one generation per model at a time.
/// Introduced in 03-language-modeling (LSTM); GRU and RNN cells since the performance work of issue #9.
/// </remarks>
internal sealed class GenerationStep : IDisposable
{
    readonly RecurrentCell cell;
    readonly int hiddenSize, embeddingSize;
    readonly Tensor[] weights;          // layer l: [input + hidden, width], input rows first
    readonly Tensor[] biases;           // [1, width]
    readonly Tensor recurrent0;         // the hidden rows of weights[0], for the tabulated first layer
    readonly Tensor readoutWeight;      // [hidden, vocab]
    readonly Tensor readoutBias;        // [1, vocab]
    readonly Tensor[] h;                // per layer [1, hidden], updated in place
    readonly Tensor[]? c;               // LSTM only
    readonly float[] logits;
    Tensor embedding = null!;           // the model's own matrix [vocab, embedding], not a copy
    Tensor? inputTable;                 // [vocab, width]: layer 0's input product and biases, per token

    internal GenerationStep(LanguageModelOptions o)
    {
        cell = o.Cell;
        hiddenSize = o.HiddenSize;
        embeddingSize = o.Embedding;
        logits = new float[o.VocabSize];
        var width = Width(o.Cell, o.HiddenSize);
        using var scope = NewDisposeScope();
        weights = [.. Enumerable.Range(0, o.NumLayers).Select(l => zeros((l == 0 ? o.Embedding : o.HiddenSize) + o.HiddenSize, width))];
        biases = [.. Enumerable.Range(0, o.NumLayers).Select(_ => empty(1, width))];
        recurrent0 = weights[0].narrow(0, o.Embedding, o.HiddenSize);
        readoutWeight = empty(o.HiddenSize, o.VocabSize);
        readoutBias = empty(1, o.VocabSize);
        h = [.. Enumerable.Range(0, o.NumLayers).Select(_ => zeros(1, o.HiddenSize))];
        c = o.Cell == RecurrentCell.Lstm ? [.. Enumerable.Range(0, o.NumLayers).Select(_ => zeros(1, o.HiddenSize))] : null;
        scope.Detach([.. weights, .. biases, recurrent0, readoutWeight, readoutBias, .. h, .. c ?? []]);
    }

    static int Width(RecurrentCell cell, int hidden) => cell == RecurrentCell.Rnn ? hidden : 4 * hidden;

    /// <summary>Copies the model's current weights in, tabulates the first layer if asked, and zeroes the state.</summary>
    /// <param name="embeddingWeight">The model's embedding matrix <c>[vocab, embedding]</c>.</param>
    /// <param name="recurrent">The model's <c>nn.LSTM</c>, <c>nn.GRU</c> or <c>nn.RNN</c> (tanh).</param>
    /// <param name="readoutMatrix">The readout <c>[vocab, hidden]</c>.</param>
    /// <param name="readoutBiasVector">The readout bias, if any.</param>
    /// <param name="tabulateInput">Whether to tabulate the first layer's input product per token.</param>
    internal void Prepare(Tensor embeddingWeight, nn.Module recurrent, Tensor readoutMatrix, Tensor? readoutBiasVector, bool tabulateInput)
    {
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        embedding = embeddingWeight;
        var p = recurrent.named_parameters().ToDictionary(x => x.name, x => (Tensor)x.parameter);
        for (var l = 0; l < weights.Length; l++)
        {
            var input = l == 0 ? embeddingSize : hiddenSize;
            var (wi, wh, bi, bh) = (p[$"weight_ih_l{l}"].t(), p[$"weight_hh_l{l}"].t(), p[$"bias_ih_l{l}"], p[$"bias_hh_l{l}"]);
            var inputRows = weights[l].narrow(0, 0, input);
            var hiddenRows = weights[l].narrow(0, input, hiddenSize);
            if (cell == RecurrentCell.Gru)
            {
                var (twoH, hs) = (2 * hiddenSize, hiddenSize);
                inputRows.narrow(1, 0, twoH).copy_(wi.narrow(1, 0, twoH));          // r, z from x
                inputRows.narrow(1, twoH, hs).copy_(wi.narrow(1, twoH, hs));        // n's input part
                hiddenRows.narrow(1, 0, twoH).copy_(wh.narrow(1, 0, twoH));         // r, z from h
                hiddenRows.narrow(1, 3 * hs, hs).copy_(wh.narrow(1, twoH, hs));     // n's recurrent part
                var b = biases[l][0];
                b.narrow(0, 0, twoH).copy_(bi.narrow(0, 0, twoH).add(bh.narrow(0, 0, twoH), Scalars.One));
                b.narrow(0, twoH, hs).copy_(bi.narrow(0, twoH, hs));
                b.narrow(0, 3 * hs, hs).copy_(bh.narrow(0, twoH, hs));
            }
            else
            {
                inputRows.copy_(wi);
                hiddenRows.copy_(wh);
                biases[l].copy_(bi.add(bh, Scalars.One).unsqueeze(0));
            }
            h[l].zero_();
            c?[l].zero_();
        }
        readoutWeight.copy_(readoutMatrix.t());
        if (readoutBiasVector is null) readoutBias.zero_();
        else readoutBias.copy_(readoutBiasVector.unsqueeze(0));
        inputTable?.Dispose();
        inputTable = null;
        if (tabulateInput)
        {
            inputTable = torch.addmm(biases[0], embeddingWeight, weights[0].narrow(0, 0, embeddingSize), 1, 1);   // [vocab, width]
            scope.Detach(inputTable);
        }
    }

    /// <summary>Starts from <paramref name="state"/> (<c>H</c>, and for LSTMs <c>C</c>, of shape <c>[layers, 1, hidden]</c>).</summary>
    public void Load(RecurrentState state)
    {
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        for (var l = 0; l < h.Length; l++)
        {
            h[l].copy_(state.H[l]);
            if (c is not null) c[l].copy_(state.C![l]);
        }
    }

    /// <summary>
    /// Feeds <paramref name="token"/> and returns the next-token logits. The array is reused: the next call
    /// overwrites it.
    /// </summary>
    public float[] Step(int token)
    {
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        Tensor x = null!;
        for (var l = 0; l < h.Length; l++)
        {
            var pre = l == 0 && inputTable is not null
                ? torch.addmm(inputTable.narrow(0, token, 1), h[0], recurrent0, 1, 1)
                : torch.addmm(biases[l], cat([l == 0 ? embedding.narrow(0, token, 1) : x, h[l]], 1), weights[l], 1, 1);
            switch (cell)
            {
                case RecurrentCell.Lstm:
                {
                    var g = pre.chunk(4, 1);                                              // i, f, g, o: libtorch's order
                    c![l].mul_(g[1].sigmoid_()).addcmul_(g[0].sigmoid_(), g[2].tanh_(), Scalars.One);
                    h[l].copy_(c[l]).tanh_().mul_(g[3].sigmoid_());
                    break;
                }
                case RecurrentCell.Gru:
                {
                    var g = pre.chunk(4, 1);                                              // r, z, n from x, n from h
                    var n = g[2].addcmul_(g[0].sigmoid_(), g[3], Scalars.One).tanh_();    // tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn))
                    h[l].sub_(n).mul_(g[1].sigmoid_()).add_(n, Scalars.One);              // (1 − z) ⊙ n + z ⊙ h
                    break;
                }
                default:
                    h[l].copy_(pre.tanh_());
                    break;
            }
            x = h[l];
        }
        torch.addmm(readoutBias, x, readoutWeight, 1, 1).data<float>().CopyTo(logits);   // [1, vocab]
        return logits;
    }

    /// <summary>Frees the buffers (not the model's embedding).</summary>
    public void Dispose()
    {
        inputTable?.Dispose();
        foreach (var t in weights.Concat(biases).Concat(h).Concat(c ?? [])) t.Dispose();
        recurrent0.Dispose();
        readoutWeight.Dispose();
        readoutBias.Dispose();
    }
}
