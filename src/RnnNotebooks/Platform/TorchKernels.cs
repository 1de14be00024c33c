using System.Runtime.InteropServices;

namespace RnnNotebooks.Platform;

/// <summary>
/// Switches libtorch's oneDNN (mkldnn) and NNPACK kernels, which TorchSharp exposes no setting for.
/// </summary>
/// <remarks>
/// oneDNN's fused LSTM is the faster path for training on batches, but it re-lays out the weights on every
/// call, so stepping a model one token at a time (text generation, greedy and beam decoding) is several times
/// slower with it than without. <see cref="WithoutOneDnn"/> turns it off for such a block and restores it after.
/// The switch is libtorch's process-wide <c>at::Context::setUserEnabledMkldnn</c>, reached through the C++
/// symbols of <c>libtorch_cpu.so</c>. Introduced in 00-getting-started.
/// </remarks>
public static unsafe class TorchKernels
{
    static readonly object Gate = new();
    static delegate* unmanaged<IntPtr> globalContext;
    static delegate* unmanaged<IntPtr, byte, void> setEnabled;
    static delegate* unmanaged<IntPtr, byte> isEnabled;
    static delegate* unmanaged<IntPtr, byte, void> setNnpack;
    static delegate* unmanaged<IntPtr, byte> isNnpack;

    /// <summary>The environment variable that, set to <c>0</c>, makes the library train GRUs with <c>nn.GRU</c>'s own kernels.</summary>
    public const string FusedGruVariable = "RNN_FUSED_GRU";

    /// <summary>
    /// Whether the library's models train their GRUs with <see cref="Models.FusedGru"/> (hand-written backward
    /// through time, same results as <c>nn.GRU</c> to rounding) instead of <c>nn.GRU</c>'s step-by-step
    /// autograd. True unless <c>RNN_FUSED_GRU=0</c>; settable, for comparisons.
    /// </summary>
    public static bool FusedGru { get; set; } = Environment.GetEnvironmentVariable(FusedGruVariable) != "0";

    /// <summary>Whether the switch is reachable here (libtorch loaded, Linux symbols found).</summary>
    public static bool IsAvailable => Bind();

    /// <summary>Whether libtorch may use oneDNN kernels (true by default).</summary>
    public static bool OneDnnEnabled
    {
        get => !Bind() || isEnabled(globalContext()) != 0;
        set
        {
            if (!Bind())
                throw new PlatformNotSupportedException(
                    "libtorch's oneDNN switch was not found in libtorch_cpu (only the Linux x64 build is supported).");
            setEnabled(globalContext(), value ? (byte)1 : (byte)0);
        }
    }

    /// <summary>Turns oneDNN off until the returned object is disposed, then restores the setting from before the
    /// first of the blocks that are still open.</summary>
    /// <remarks>The switch is process-wide while these blocks may overlap in any order (decoding on two threads):
    /// each block saving and restoring the setting on its own would let the first to end turn oneDNN back on under
    /// the other, and the last to end leave it off for good. So the blocks are counted and only the last restores.</remarks>
    /// <example><c>using (TorchKernels.WithoutOneDnn()) { … step the model token by token … }</c></example>
    public static IDisposable WithoutOneDnn()
    {
        if (!Bind()) return new Restore(false);
        lock (Counting)
        {
            if (openBlocks++ == 0)
            {
                enabledBeforeBlocks = OneDnnEnabled;
                nnpackBeforeBlocks = NnpackEnabled;
                OneDnnEnabled = false;
                NnpackEnabled = false;
            }
        }
        return new Restore(true);
    }

    static readonly object Counting = new();
    static int openBlocks;
    static bool enabledBeforeBlocks;
    static bool nnpackBeforeBlocks;

    /// <summary>Whether libtorch may try NNPACK for convolutions (true by default).</summary>
    /// <remarks>Without oneDNN, libtorch tries NNPACK for a convolution first; where NNPACK does not support the
    /// processor it prints "Could not initialize NNPACK! Reason: Unsupported hardware." on every call and falls back
    /// to its own kernels. <see cref="WithoutOneDnn"/> therefore turns NNPACK off too, which leaves the fallback and
    /// drops the warnings.</remarks>
    public static bool NnpackEnabled
    {
        get => !Bind() || isNnpack(globalContext()) != 0;
        set
        {
            if (!Bind())
                throw new PlatformNotSupportedException(
                    "libtorch's NNPACK switch was not found in libtorch_cpu (only the Linux x64 build is supported).");
            setNnpack(globalContext(), value ? (byte)1 : (byte)0);
        }
    }

    sealed class Restore(bool counted) : IDisposable
    {
        int disposed;

        public void Dispose()
        {
            if (!counted || Interlocked.Exchange(ref disposed, 1) == 1) return;
            lock (Counting)
                if (--openBlocks == 0)
                {
                    OneDnnEnabled = enabledBeforeBlocks;
                    NnpackEnabled = nnpackBeforeBlocks;
                }
        }
    }

    static bool Bind()
    {
        lock (Gate)
        {
            if (globalContext != null) return true;
            if (!OperatingSystem.IsLinux()) return false;
            TorchRuntime.Prepare();
            // Make sure libtorch is loaded (TorchSharp loads it lazily on the first torch call).
            _ = TorchSharp.torch.get_num_threads();
            if (!NativeLibrary.TryLoad("libtorch_cpu.so", typeof(TorchKernels).Assembly, null, out var lib)
                && !NativeLibrary.TryLoad("libtorch_cpu.so", out lib))
                return false;
            if (!NativeLibrary.TryGetExport(lib, "_ZN2at13globalContextEv", out var ctx)
                || !NativeLibrary.TryGetExport(lib, "_ZN2at7Context20setUserEnabledMkldnnEb", out var set)
                || !NativeLibrary.TryGetExport(lib, "_ZNK2at7Context17userEnabledMkldnnEv", out var get)
                || !NativeLibrary.TryGetExport(lib, "_ZN2at7Context20setUserEnabledNNPACKEb", out var setNn)
                || !NativeLibrary.TryGetExport(lib, "_ZNK2at7Context17userEnabledNNPACKEv", out var getNn))
                return false;
            setNnpack = (delegate* unmanaged<IntPtr, byte, void>)setNn;
            isNnpack = (delegate* unmanaged<IntPtr, byte>)getNn;
            setEnabled = (delegate* unmanaged<IntPtr, byte, void>)set;
            isEnabled = (delegate* unmanaged<IntPtr, byte>)get;
            globalContext = (delegate* unmanaged<IntPtr>)ctx;
            return true;
        }
    }
}
