using TorchSharp;
using static TorchSharp.torch;

namespace RnnNotebooks.Training;

/// <summary>A copy of a module's weights (its state dict) to put back later, e.g. after trying an adaptation.</summary>
/// <remarks>The copies live outside every dispose scope until this object is disposed. Introduced in
/// 05-speech-recognition.</remarks>
public sealed class WeightSnapshot : IDisposable
{
    readonly nn.Module module;
    readonly Dictionary<string, Tensor> saved = [];

    /// <summary>Copies <paramref name="module"/>'s current weights.</summary>
    public WeightSnapshot(nn.Module module)
    {
        ArgumentNullException.ThrowIfNull(module);
        this.module = module;
        using (no_grad())
            foreach (var (name, tensor) in module.state_dict())
                saved[name] = tensor.clone().DetachFromDisposeScope();   // under no_grad: no graph, no extra handle
    }

    bool disposed;

    /// <summary>The copies, by state-dict name.</summary>
    internal IReadOnlyDictionary<string, Tensor> Weights => saved;

    /// <summary>Writes the copied weights back into the module; can be called any number of times.</summary>
    /// <exception cref="ObjectDisposedException">The snapshot was disposed.</exception>
    public void Restore()
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        using var noGrad = no_grad();
        foreach (var (name, tensor) in module.state_dict())
            tensor.copy_(saved[name]);
    }

    public void Dispose()
    {
        if (disposed) return;
        disposed = true;
        foreach (var t in saved.Values) t.Dispose();
        saved.Clear();
    }
}
