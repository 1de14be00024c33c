using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace RnnNotebooks.Models;

/// <summary>
/// One token at a time through an LSTM <see cref="LanguageModel"/> at batch 1, for generation: the same
/// arithmetic as <see cref="LanguageModel.Step"/> (to float rounding), with less work per token.
/// </summary>
/// <remarks>
/// At batch 1 a step is a handful of matrix–vector products plus a dozen tiny tensor operations. libtorch's LSTM
/// multiplies the state by each weight matrix transposed (a strided read, measured ~1.4× slower than a contiguous
/// one here), twice per layer. Here each layer's input and recurrent matrices are copied side by side and stored
/// transposed, so one contiguous product per layer yields all four gates, and the state is updated in place. When
/// at least as many tokens will be generated as the vocabulary has entries, the first layer's input product is
/// tabulated per token (embedding × weights + biases), so that layer only multiplies its recurrent state.
/// The buffers belong to the model and are reused by every generation; <see cref="Prepare"/> copies the current
/// weights into them (fresh allocations of this size measured several milliseconds, the copies a fraction).
/// Not for concurrent use: one generation per model at a time.
/// Introduced in 03-language-modeling.
/// </remarks>
internal sealed class LstmGenerationStep : IDisposable
{
    readonly int hiddenSize, embeddingSize;
    readonly Tensor[] weights;          // layer l: [input + hidden, 4·hidden], input rows first
    readonly Tensor[] biases;           // [1, 4·hidden], both biases summed
    readonly Tensor recurrent0;         // the hidden rows of weights[0], for the tabulated first layer
    readonly Tensor readoutWeight;      // [hidden, vocab]
    readonly Tensor readoutBias;        // [1, vocab]
    readonly Tensor[] h, c;             // per layer [1, hidden], updated in place
    readonly float[] logits;
    Tensor embedding = null!;           // the model's own matrix [vocab, embedding], not a copy
    Tensor? inputTable;                 // [vocab, 4·hidden]: layer 0's input product and biases, per token

    internal LstmGenerationStep(LanguageModelOptions o)
    {
        hiddenSize = o.HiddenSize;
        embeddingSize = o.Embedding;
        logits = new float[o.VocabSize];
        using var scope = NewDisposeScope();
        weights = [.. Enumerable.Range(0, o.NumLayers).Select(l => empty((l == 0 ? o.Embedding : o.HiddenSize) + o.HiddenSize, 4 * o.HiddenSize))];
        biases = [.. Enumerable.Range(0, o.NumLayers).Select(_ => empty(1, 4 * o.HiddenSize))];
        recurrent0 = weights[0].narrow(0, o.Embedding, o.HiddenSize);
        readoutWeight = empty(o.HiddenSize, o.VocabSize);
        readoutBias = empty(1, o.VocabSize);
        h = [.. Enumerable.Range(0, o.NumLayers).Select(_ => zeros(1, o.HiddenSize))];
        c = [.. Enumerable.Range(0, o.NumLayers).Select(_ => zeros(1, o.HiddenSize))];
        scope.Detach([.. weights, .. biases, recurrent0, readoutWeight, readoutBias, .. h, .. c]);
    }

    /// <summary>Copies the model's current weights in, tabulates the first layer if asked, and zeroes the state.</summary>
    internal void Prepare(Tensor embeddingWeight, LSTM lstm, Tensor readoutMatrix, Tensor? readoutBiasVector, bool tabulateInput)
    {
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        embedding = embeddingWeight;
        var p = lstm.named_parameters().ToDictionary(x => x.name, x => (Tensor)x.parameter);
        for (var l = 0; l < weights.Length; l++)
        {
            var input = l == 0 ? embeddingSize : hiddenSize;
            weights[l].narrow(0, 0, input).copy_(p[$"weight_ih_l{l}"].t());
            weights[l].narrow(0, input, hiddenSize).copy_(p[$"weight_hh_l{l}"].t());
            biases[l].copy_(p[$"bias_ih_l{l}"].add(p[$"bias_hh_l{l}"]).unsqueeze(0));
            h[l].zero_();
            c[l].zero_();
        }
        readoutWeight.copy_(readoutMatrix.t());
        if (readoutBiasVector is null) readoutBias.zero_();
        else readoutBias.copy_(readoutBiasVector.unsqueeze(0));
        inputTable?.Dispose();
        inputTable = null;
        if (tabulateInput)
        {
            inputTable = torch.addmm(biases[0], embeddingWeight, weights[0].narrow(0, 0, embeddingSize), 1, 1);   // [vocab, 4·hidden]
            scope.Detach(inputTable);
        }
    }

    /// <summary>Starts from <paramref name="state"/> (<c>H</c> and <c>C</c> of shape <c>[layers, 1, hidden]</c>).</summary>
    public void Load(RecurrentState state)
    {
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        for (var l = 0; l < h.Length; l++)
        {
            h[l].copy_(state.H[l]);
            c[l].copy_(state.C![l]);
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
            var gates = l == 0 && inputTable is not null
                ? torch.addmm(inputTable.narrow(0, token, 1), h[0], recurrent0, 1, 1)
                : torch.addmm(biases[l], cat([l == 0 ? embedding.narrow(0, token, 1) : x, h[l]], 1), weights[l], 1, 1);
            var g = gates.chunk(4, 1);                                                    // i, f, g, o: libtorch's order
            c[l].mul_(g[1].sigmoid_()).addcmul_(g[0].sigmoid_(), g[2].tanh_(), 1);
            h[l].copy_(c[l]).tanh_().mul_(g[3].sigmoid_());
            x = h[l];
        }
        torch.addmm(readoutBias, x, readoutWeight, 1, 1).data<float>().CopyTo(logits);   // [1, vocab]
        return logits;
    }

    /// <summary>Frees the buffers (not the model's embedding).</summary>
    public void Dispose()
    {
        inputTable?.Dispose();
        foreach (var t in weights.Concat(biases).Concat(h).Concat(c)) t.Dispose();
        recurrent0.Dispose();
        readoutWeight.Dispose();
        readoutBias.Dispose();
    }
}
