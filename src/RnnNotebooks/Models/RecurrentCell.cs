namespace RnnNotebooks.Models;

/// <summary>Which recurrent cell a model uses: the one cell type of every model, benchmark and lesson.</summary>
/// <remarks>Serialised by name (<c>"lstm"</c>, <c>"gru"</c>, <c>"rnn"</c>), so checkpoints do not depend on the order.
/// Introduced in 02-lstm-and-gru.</remarks>
public enum RecurrentCell
{
    /// <summary>Long short-term memory: input, forget and output gates, a hidden state and a cell state (TorchSharp's <c>nn.LSTM</c>).</summary>
    Lstm,
    /// <summary>Gated recurrent unit: reset and update gates, one state (TorchSharp's <c>nn.GRU</c>).</summary>
    Gru,
    /// <summary>The vanilla (Elman) cell: <c>h_t = tanh(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh)</c> (TorchSharp's <c>nn.RNN</c>).</summary>
    Rnn,
}
