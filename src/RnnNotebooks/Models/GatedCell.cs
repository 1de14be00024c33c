using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace RnnNotebooks.Models;

/// <summary>
/// The weights the from-scratch <see cref="LstmCell"/> and <see cref="GruCell"/> share: one row block per gate,
/// laid out as in TorchSharp's <c>nn.LSTM</c>/<c>nn.GRU</c> so they copy one-to-one, initialised like PyTorch
/// (uniform in ±1/√hidden).
/// </summary>
/// <remarks>
/// state_dict keys: <c>weightIh</c> <c>[gates·hidden, input]</c>, <c>weightHh</c> <c>[gates·hidden, hidden]</c>,
/// <c>biasIh</c>, <c>biasHh</c> <c>[gates·hidden]</c>.
/// Introduced in 02-lstm-and-gru.
/// </remarks>
public abstract class GatedCell<TState, TResult> : nn.Module<Tensor, TState, TResult>
{
    // Protected rather than private so RegisterComponents, which reflects over the runtime type, sees them.
    protected readonly Parameter weightIh;
    protected readonly Parameter weightHh;
    protected readonly Parameter biasIh;
    protected readonly Parameter biasHh;

    /// <summary>Draws the weights of a cell with <paramref name="gates"/> row blocks from torch's generator.</summary>
    protected GatedCell(string name, int inputSize, int hiddenSize, int gates, ScalarType dtype) : base(name)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(inputSize, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(hiddenSize, 1);
        InputSize = inputSize;
        HiddenSize = hiddenSize;
        var bound = 1.0 / Math.Sqrt(hiddenSize);
        weightIh = Uniform([gates * hiddenSize, inputSize], bound, dtype);
        weightHh = Uniform([gates * hiddenSize, hiddenSize], bound, dtype);
        biasIh = Uniform([gates * hiddenSize], bound, dtype);
        biasHh = Uniform([gates * hiddenSize], bound, dtype);
        RegisterComponents();
    }

    /// <summary>Features per input step.</summary>
    public int InputSize { get; }

    /// <summary>Size of the hidden state (and of an LSTM's cell state).</summary>
    public int HiddenSize { get; }

    /// <summary>Input weights <c>[gates·hidden, input]</c>, one block of hidden rows per gate in TorchSharp's order
    /// (LSTM: i, f, g, o; GRU: r, z, n).</summary>
    public Parameter WeightIh => weightIh;

    /// <summary>Recurrent weights <c>[gates·hidden, hidden]</c>, same row blocks.</summary>
    public Parameter WeightHh => weightHh;

    /// <summary>Input bias <c>[gates·hidden]</c>.</summary>
    public Parameter BiasIh => biasIh;

    /// <summary>Recurrent bias <c>[gates·hidden]</c>. In an LSTM only its sum with <see cref="BiasIh"/> matters; in a
    /// GRU its n block is multiplied by the reset gate, so the two cannot be merged.</summary>
    public Parameter BiasHh => biasHh;

    /// <summary>Checks that <paramref name="x"/> is one step of input, <c>[batch, input]</c>.</summary>
    protected void CheckInput(Tensor x)
    {
        if (x.dim() != 2 || x.shape[1] != InputSize)
            throw new ArgumentException(
                $"Expected one step of input, shape [batch, {InputSize}], got [{string.Join(", ", x.shape)}]. " +
                "A cell takes one step; use SequenceRnn for a whole sequence.", nameof(x));
    }

    static Parameter Uniform(long[] shape, double bound, ScalarType dtype)
    {
        using var noGrad = no_grad();
        using var values = empty(shape, dtype: dtype).uniform_(-bound, bound);
        return new Parameter(values.clone(), requires_grad: true);
    }
}
