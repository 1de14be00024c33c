using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace RnnNotebooks.Models;

/// <summary>
/// A fused TorchSharp recurrent layer (<c>nn.RNN</c>, <c>nn.GRU</c> or <c>nn.LSTM</c>, batch first) read by a
/// linear layer after the last step: <c>[batch, steps, input]</c> → one number per sequence <c>[batch]</c>.
/// The same shape for all three cells, so an experiment can compare them with everything else equal.
/// </summary>
/// <remarks>
/// state_dict keys: <c>rnn.weight_ih_l0</c>, <c>rnn.weight_hh_l0</c>, <c>rnn.bias_ih_l0</c>,
/// <c>rnn.bias_hh_l0</c> (TorchSharp's names), <c>readout.weight</c>, <c>readout.bias</c>.
/// Introduced in 02-lstm-and-gru.
/// </remarks>
public sealed class SequenceRegressor : nn.Module<Tensor, Tensor>
{
    private readonly nn.Module rnn;
    private readonly Linear readout;

    /// <summary>A one-layer model with TorchSharp's default initialisation, drawn from torch's generator.</summary>
    public SequenceRegressor(RecurrentCell kind, int inputSize, int hiddenSize) : base(nameof(SequenceRegressor))
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(inputSize, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(hiddenSize, 1);
        Kind = kind;
        HiddenSize = hiddenSize;
        rnn = kind switch
        {
            RecurrentCell.Rnn => nn.RNN(inputSize, hiddenSize, batchFirst: true),
            RecurrentCell.Gru => nn.GRU(inputSize, hiddenSize, batchFirst: true),
            RecurrentCell.Lstm => nn.LSTM(inputSize, hiddenSize, batchFirst: true),
            _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "Expected Rnn, Gru or Lstm."),
        };
        readout = nn.Linear(hiddenSize, 1);
        RegisterComponents();
    }

    /// <summary>The cell this model uses.</summary>
    public RecurrentCell Kind { get; }

    /// <summary>Size of the hidden state.</summary>
    public int HiddenSize { get; }

    /// <summary>The fused recurrent layer (an <c>RNN</c>, <c>GRU</c> or <c>LSTM</c>), e.g. to copy its weights.</summary>
    public nn.Module Recurrent => rnn;

    /// <summary>The prediction after the last step, <c>[batch]</c>.</summary>
    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        var states = States(input);                                               // [batch, steps, hidden]
        return scope.MoveToOuter(readout.call(states.select(1, -1)).squeeze(1));
    }

    /// <summary>The hidden state after every step, <c>[batch, steps, hidden]</c>.</summary>
    public Tensor States(Tensor input)
    {
        if (input.dim() != 3)
            throw new ArgumentException(
                $"Expected input of shape [batch, steps, features], got [{string.Join(", ", input.shape)}].", nameof(input));
        return rnn switch
        {
            RNN r => Dispose1(r.call(input)),
            GRU g => Dispose1(g.call(input)),
            LSTM l => Dispose2(l.call(input)),
            _ => throw new InvalidOperationException("Unreachable: the recurrent layer is an RNN, GRU or LSTM."),
        };

        static Tensor Dispose1((Tensor Output, Tensor H) r)
        {
            r.H.Dispose();
            return r.Output;
        }

        static Tensor Dispose2((Tensor Output, Tensor H, Tensor C) r)
        {
            r.H.Dispose();
            r.C.Dispose();
            return r.Output;
        }
    }

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            rnn.Dispose();
            readout.Dispose();
        }
        base.Dispose(disposing);
    }
}
