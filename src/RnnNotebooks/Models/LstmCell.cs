using RnnNotebooks.Platform;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace RnnNotebooks.Models;

/// <summary>Everything one <see cref="LstmCell"/> step computes, each <c>[batch, hidden]</c>. Owns its tensors.</summary>
/// <param name="Input">Input gate i_t: how much of the candidate is written.</param>
/// <param name="Forget">Forget gate f_t: how much of the old cell state is kept.</param>
/// <param name="Candidate">Candidate g_t (tanh): what could be written.</param>
/// <param name="Output">Output gate o_t: how much of the cell is shown as h_t.</param>
/// <param name="C">New cell state c_t.</param>
/// <param name="H">New hidden state h_t.</param>
/// <remarks>Introduced in 02-lstm-and-gru.</remarks>
public sealed record LstmStep(Tensor Input, Tensor Forget, Tensor Candidate, Tensor Output, Tensor C, Tensor H) : IDisposable
{
    /// <inheritdoc />
    public void Dispose()
    {
        foreach (var t in new[] { Input, Forget, Candidate, Output, C, H }) t.Dispose();
    }
}

/// <summary>
/// One step of a long short-term memory cell, written with tensor operations (autograd differentiates it):
/// <code>
/// [i f g o] = W_ih x_t + b_ih + W_hh h_{t-1} + b_hh        (four blocks of hidden rows)
/// i, f, o = σ(·)    g = tanh(·)
/// c_t = f ⊙ c_{t-1} + i ⊙ g
/// h_t = o ⊙ tanh(c_t)
/// </code>
/// Weights are laid out as in TorchSharp's <c>nn.LSTM</c> (gate order i, f, g, o; two bias vectors), so they
/// copy one-to-one (see <see cref="SequenceRnn.CopyFrom"/>).
/// </summary>
/// <remarks>
/// state_dict keys: <c>weightIh</c> <c>[4·hidden, input]</c>, <c>weightHh</c> <c>[4·hidden, hidden]</c>,
/// <c>biasIh</c>, <c>biasHh</c> <c>[4·hidden]</c>. Initialised like PyTorch: uniform in ±1/√hidden.
/// Introduced in 02-lstm-and-gru.
/// </remarks>
public sealed class LstmCell : GatedCell<(Tensor H, Tensor C)?, (Tensor H, Tensor C)>
{
    /// <summary>A cell with random weights drawn from torch's generator.</summary>
    public LstmCell(int inputSize, int hiddenSize, ScalarType dtype = ScalarType.Float32)
        : base(nameof(LstmCell), inputSize, hiddenSize, gates: 4, dtype)
    {
    }

    /// <summary>One step: input <c>[batch, input]</c>, state (zeros if null) → new (h, c), each <c>[batch, hidden]</c>.</summary>
    public override (Tensor H, Tensor C) forward(Tensor x, (Tensor H, Tensor C)? state)
    {
        using var scope = NewDisposeScope();
        var step = Step(x, state);
        return scope.MoveToOuter(step.H, step.C);
    }

    /// <summary>One step with every gate returned, e.g. to plot what the gates do.</summary>
    public LstmStep Step(Tensor x, (Tensor H, Tensor C)? state = null)
    {
        CheckInput(x);
        using var scope = NewDisposeScope();
        var (h, c) = state ?? (zeros(x.shape[0], HiddenSize, dtype: x.dtype), zeros(x.shape[0], HiddenSize, dtype: x.dtype));
        var gates = x.matmul(weightIh.t()).add_(biasIh, Scalars.One).add_(h.matmul(weightHh.t()), Scalars.One).add_(biasHh, Scalars.One);   // [batch, 4·hidden]
        var blocks = gates.chunk(4, dim: 1);
        var (i, f, g, o) = (blocks[0].sigmoid(), blocks[1].sigmoid(), blocks[2].tanh(), blocks[3].sigmoid());
        var cNext = f.mul(c).add_(i.mul(g), Scalars.One);
        var hNext = o.mul(cNext.tanh());
        scope.MoveToOuter(i, f, g, o, cNext, hNext);
        return new LstmStep(i, f, g, o, cNext, hNext);
    }
}
