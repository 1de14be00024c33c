using static TorchSharp.torch;

namespace RnnNotebooks.Models;

/// <summary>
/// The state a recurrent layer starts from or ends with: <c>H</c> (and for an LSTM <c>C</c>), each
/// <c>[layers · directions, batch, hidden]</c>, ordered layer 0 forward, layer 0 backward, layer 1 forward, …
/// as in TorchSharp. Owns its tensors.
/// </summary>
/// <remarks>Introduced in 02-lstm-and-gru; carried across batches by the language models of 03-language-modeling.</remarks>
public sealed record RecurrentState(Tensor H, Tensor? C = null) : IDisposable
{
    /// <summary>The same values cut from the autograd graph (what truncated backpropagation carries over).</summary>
    public RecurrentState Detach() => new(H.detach(), C?.detach());

    /// <summary>Takes both tensors out of every dispose scope: the caller owns them and must dispose them.</summary>
    public RecurrentState DetachFromDisposeScope()
    {
        H.DetachFromDisposeScope();
        C?.DetachFromDisposeScope();
        return this;
    }

    /// <summary>Moves both tensors to the enclosing dispose scope.</summary>
    public RecurrentState MoveToOuterDisposeScope()
    {
        H.MoveToOuterDisposeScope();
        C?.MoveToOuterDisposeScope();
        return this;
    }

    /// <summary>Frees both tensors.</summary>
    public void Dispose()
    {
        H.Dispose();
        C?.Dispose();
    }
}
