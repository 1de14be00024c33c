namespace RnnNotebooks.Models;

/// <summary>Which recurrent cell a model uses.</summary>
/// <remarks>Introduced in 02-lstm-and-gru.</remarks>
public enum CellKind
{
    /// <summary>The vanilla (Elman) cell: <c>h_t = tanh(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh)</c>.</summary>
    Rnn,
    /// <summary>Gated recurrent unit: reset and update gates, one state.</summary>
    Gru,
    /// <summary>Long short-term memory: input, forget and output gates, a hidden state and a cell state.</summary>
    Lstm,
}
