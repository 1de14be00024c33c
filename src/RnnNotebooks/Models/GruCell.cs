using RnnNotebooks.Platform;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace RnnNotebooks.Models;

/// <summary>Everything one <see cref="GruCell"/> step computes, each <c>[batch, hidden]</c>. Owns its tensors.</summary>
/// <param name="Reset">Reset gate r_t: how much of the old state the candidate may look at.</param>
/// <param name="Update">Update gate z_t: how much of the old state is kept (1 keeps it all).</param>
/// <param name="Candidate">Candidate n_t (tanh).</param>
/// <param name="H">New hidden state h_t.</param>
/// <remarks>Introduced in 02-lstm-and-gru.</remarks>
public sealed record GruStep(Tensor Reset, Tensor Update, Tensor Candidate, Tensor H) : IDisposable
{
    /// <inheritdoc />
    public void Dispose()
    {
        foreach (var t in new[] { Reset, Update, Candidate, H }) t.Dispose();
    }
}

/// <summary>
/// One step of a gated recurrent unit, written with tensor operations (autograd differentiates it):
/// <code>
/// r = σ(W_ir x + b_ir + W_hr h + b_hr)
/// z = σ(W_iz x + b_iz + W_hz h + b_hz)
/// n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn))
/// h_t = (1 − z) ⊙ n + z ⊙ h_{t-1}
/// </code>
/// Weights are laid out as in TorchSharp's <c>nn.GRU</c> (gate order r, z, n; <c>b_hn</c> sits inside the
/// reset product, which is why the two bias vectors cannot be merged), so they copy one-to-one.
/// </summary>
/// <remarks>
/// state_dict keys: <c>weightIh</c> <c>[3·hidden, input]</c>, <c>weightHh</c> <c>[3·hidden, hidden]</c>,
/// <c>biasIh</c>, <c>biasHh</c> <c>[3·hidden]</c>. Initialised like PyTorch: uniform in ±1/√hidden.
/// Introduced in 02-lstm-and-gru.
/// </remarks>
public sealed class GruCell : GatedCell<Tensor?, Tensor>
{
    /// <summary>A cell with random weights drawn from torch's generator.</summary>
    public GruCell(int inputSize, int hiddenSize, ScalarType dtype = ScalarType.Float32)
        : base(nameof(GruCell), inputSize, hiddenSize, gates: 3, dtype)
    {
    }

    /// <summary>One step: input <c>[batch, input]</c>, state <c>[batch, hidden]</c> (zeros if null) → new state.</summary>
    public override Tensor forward(Tensor x, Tensor? h)
    {
        using var scope = NewDisposeScope();
        return scope.MoveToOuter(Step(x, h).H);
    }

    /// <summary>One step with both gates and the candidate returned, e.g. to plot what the gates do.</summary>
    public GruStep Step(Tensor x, Tensor? h = null)
    {
        CheckInput(x);
        using var scope = NewDisposeScope();
        h ??= zeros(x.shape[0], HiddenSize, dtype: x.dtype);
        var fromInput = x.matmul(weightIh.t()).add_(biasIh, Scalars.One).chunk(3, dim: 1);   // 3 × [batch, hidden]
        var fromState = h.matmul(weightHh.t()).add_(biasHh, Scalars.One).chunk(3, dim: 1);
        var r = fromInput[0].add(fromState[0], Scalars.One).sigmoid_();
        var z = fromInput[1].add(fromState[1], Scalars.One).sigmoid_();
        var n = fromInput[2].add(r.mul(fromState[2]), Scalars.One).tanh_();
        var hNext = n.add(z.mul(h.sub(n)), Scalars.One);                             // (1 − z)·n + z·h
        scope.MoveToOuter(r, z, n, hNext);
        return new GruStep(r, z, n, hNext);
    }
}
