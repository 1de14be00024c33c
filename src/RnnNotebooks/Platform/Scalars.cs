using TorchSharp;

namespace RnnNotebooks.Platform;

/// <summary>
/// Scalars that live as long as the process, for operations run at every decoder step.
/// </summary>
/// <remarks>
/// An implicit conversion such as <c>x.add(y)</c> (alpha 1) or <c>masked_fill(m, -∞)</c> makes a new
/// <see cref="Scalar"/> that nothing disposes. TorchSharp 0.107 reads its native handle and then calls libtorch;
/// if the finalizer thread frees that Scalar during the call, libtorch reads freed memory. It is rare (one crash,
/// "Expected false to be true … toFloat", in many hours of training) but it kills a long run, so the hot paths
/// pass these instead. Upstream: dotnet/TorchSharp pull requests 1434 and 1496.
/// Introduced in 04-machine-translation.
/// </remarks>
public static class Scalars
{
    /// <summary>1, e.g. the alpha of <c>add(tensor, alpha)</c>.</summary>
    public static readonly Scalar One = 1.0.ToScalar();

    /// <summary>0, e.g. the value of <c>fill_</c>.</summary>
    public static readonly Scalar Zero = 0.0.ToScalar();

    /// <summary>−∞, e.g. the fill value of masked positions before a softmax.</summary>
    public static readonly Scalar NegativeInfinity = double.NegativeInfinity.ToScalar();

    /// <summary>1e-5, added to a feature variance before its square root (lesson 05's normalisation, run for every
    /// clip: two crashes, "Unknown scalar type" in <c>square()</c>, in about forty runs of speed voting).</summary>
    public static readonly Scalar VarianceFloor = 1e-5.ToScalar();
}
