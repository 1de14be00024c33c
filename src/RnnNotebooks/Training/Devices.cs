using TorchSharp;
using static TorchSharp.torch;

namespace RnnNotebooks.Training;

/// <summary>Which device to train on: the GPU when there is one, else the CPU.</summary>
/// <remarks>Introduced in 00-getting-started.</remarks>
public static class Devices
{
    /// <summary>CUDA device 0 when <c>torch.cuda.is_available()</c>, otherwise the CPU.</summary>
    public static Device Default => torch.cuda.is_available() ? torch.CUDA : torch.CPU;

    /// <summary>
    /// The device named by <paramref name="preference"/>: null, empty or <c>"auto"</c> give
    /// <see cref="Default"/>; <c>"cpu"</c>, <c>"cuda"</c> and <c>"cuda:N"</c> name one explicitly.
    /// </summary>
    /// <exception cref="InvalidOperationException">CUDA was asked for but is not available.</exception>
    /// <exception cref="ArgumentException">The name is not one of the above.</exception>
    public static Device Pick(string? preference)
    {
        var name = preference?.Trim().ToLowerInvariant();
        if (string.IsNullOrEmpty(name) || name == "auto") return Default;
        if (name == "cpu") return torch.CPU;
        if (name == "cuda" || name.StartsWith("cuda:", StringComparison.Ordinal))
        {
            if (!torch.cuda.is_available())
                throw new InvalidOperationException(
                    $"Device '{preference}' was asked for, but CUDA is not available here (this build uses " +
                    "TorchSharp-cpu, or no GPU/driver was found). Use \"cpu\" or \"auto\".");
            if (name == "cuda") return torch.CUDA;
            if (!int.TryParse(name.AsSpan(5), out var index) || index < 0 || index >= torch.cuda.device_count())
                throw new ArgumentException(
                    $"Device '{preference}': expected cuda:0 … cuda:{torch.cuda.device_count() - 1}.", nameof(preference));
            return torch.device(DeviceType.CUDA, index);
        }
        throw new ArgumentException(
            $"Device '{preference}': expected \"auto\", \"cpu\", \"cuda\" or \"cuda:N\".", nameof(preference));
    }
}
