using System.Runtime.InteropServices;

namespace RnnNotebooks.Platform;

/// <summary>
/// Lets the Intel MKL inside libtorch choose its kernels by what an AMD processor can do, not by its vendor.
/// </summary>
/// <remarks>
/// <para>
/// libtorch's CPU build links oneMKL statically and does its float32 matrix products (and FFTs) through it. MKL
/// asks one internal function, <c>mkl_serv_intel_cpu_true</c>, whether the processor is an Intel one, and on
/// any other takes a generic code path whatever the processor supports. On this course's 2-core AMD EPYC
/// (AVX-512), idle, one thread, best of three (2026-11-26), it cost lesson 04's readout [704 × 256] · [256 × 7685]
/// about half its rate (57–61 against 108–110 GFLOP/s) and a 1024² product about a tenth (87–95 against 106–109).
/// </para>
/// <para>
/// <see cref="Apply"/> replaces that function's body with <c>return 1</c> (6 bytes of x86-64) before MKL's first
/// call — MKL caches its choice — so MKL picks kernels from the processor's feature flags, as it does on Intel.
/// It only does so on AMD processors running x86-64 Linux, and is switched off by the environment variable
/// <c>RNN_MKL_PATCH=0</c>. Where the code cannot be patched (e.g. a kernel that forbids writable code pages)
/// nothing changes and the status says why. The results are the same products in a different summation order;
/// the test suite (gradient checks, reference comparisons) runs with the patch applied.
/// </para>
/// Introduced in the performance work (docs/benchmarks.md).
/// </remarks>
public static unsafe class MklVendorCheck
{
    /// <summary>The environment variable that switches the patch off when set to <c>0</c>.</summary>
    public const string Variable = "RNN_MKL_PATCH";

    /// <summary>The MKL function that answers "is this an Intel processor?".</summary>
    public const string Function = "mkl_serv_intel_cpu_true";

    static readonly byte[] ReturnOne = [0xB8, 0x01, 0x00, 0x00, 0x00, 0xC3];   // mov eax, 1; ret

    /// <summary>The processor's vendor from <c>/proc/cpuinfo</c> (e.g. <c>AuthenticAMD</c>), or null.</summary>
    public static string? CpuVendor()
    {
        try
        {
            return File.ReadLines("/proc/cpuinfo")
                .Where(l => l.StartsWith("vendor_id", StringComparison.Ordinal))
                .Select(l => l[(l.IndexOf(':') + 1)..].Trim())
                .FirstOrDefault();
        }
        catch (IOException) { return null; }
        catch (UnauthorizedAccessException) { return null; }
    }

    /// <summary>What MKL's vendor check in <paramref name="libTorchCpu"/> answers now (true: "Intel"), or null
    /// when the library does not export it.</summary>
    public static bool? AnswersIntel(IntPtr libTorchCpu) =>
        libTorchCpu != IntPtr.Zero && NativeLibrary.TryGetExport(libTorchCpu, Function, out var function)
            ? ((delegate* unmanaged<int>)function)() == 1
            : null;

    /// <summary>
    /// Patches MKL's vendor check in <paramref name="libTorchCpu"/> (a handle from <see cref="NativeLibrary"/>) if
    /// this is an AMD processor, and returns what was done, for <see cref="NativeReport"/>.
    /// </summary>
    public static string Apply(IntPtr libTorchCpu)
    {
        if (Environment.GetEnvironmentVariable(Variable) == "0") return $"off ({Variable}=0)";
        if (!OperatingSystem.IsLinux() || RuntimeInformation.ProcessArchitecture != Architecture.X64)
            return "not needed (only x86-64 Linux is patched)";
        var vendor = CpuVendor();
        if (vendor != "AuthenticAMD") return $"not needed ({vendor ?? "unknown"} processor)";
        if (libTorchCpu == IntPtr.Zero || !NativeLibrary.TryGetExport(libTorchCpu, Function, out var function))
            return $"not possible: libtorch_cpu.so does not export {Function}";

        var check = (delegate* unmanaged<int>)function;
        if (check() == 1) return "patched (MKL takes its fast kernels on this AMD processor)";
        var pageSize = Environment.SystemPageSize;
        var start = function & ~(nint)(pageSize - 1);
        var length = (nuint)(2 * pageSize);                       // the 6 bytes may straddle a page boundary
        if (mprotect(start, length, ProtRead | ProtWrite | ProtExec) != 0)
            return $"not possible: the code page cannot be made writable (errno {Marshal.GetLastPInvokeError()})";
        try
        {
            ReturnOne.CopyTo(new Span<byte>((void*)function, ReturnOne.Length));
        }
        finally
        {
            mprotect(start, length, ProtRead | ProtExec);
        }
        return check() == 1
            ? "patched (MKL takes its fast kernels on this AMD processor)"
            : "not possible: the patched function still answers 0";
    }

    const int ProtRead = 1, ProtWrite = 2, ProtExec = 4;

    [DllImport("libc", SetLastError = true)]
    static extern int mprotect(IntPtr address, nuint length, int protection);
}
