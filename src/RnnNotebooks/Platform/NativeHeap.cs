using System.Diagnostics;
using System.Runtime.InteropServices;

namespace RnnNotebooks.Platform;

/// <summary>
/// The process's memory as the operating system sees it, and a way to hand the C heap's free pages back to it.
/// </summary>
/// <remarks>
/// libtorch allocates tensors with the C library's <c>malloc</c>. On Linux (glibc) memory freed by a tensor stays
/// in the heap for reuse, and with tensors of ever-changing sizes (utterances and strings of different lengths) the
/// free pieces do not all fit the next requests, so a long training run's resident memory creeps up although
/// nothing is leaked: over 20 epochs of lesson 05's recognizer the live tensors stayed at 134, the C heap's memory in
/// use at about 120 MB, and its free memory grew from 280 to 690 MB (docs/troubleshooting.md, "Resident memory climbs during a long training run").
/// <see cref="Trim"/> (glibc's <c>malloc_trim</c>) returns the free pages; <see cref="Training.Trainer"/> does it
/// between epochs and when training ends. That lowers what a process holds between epochs and after training (by
/// about 0.6 GB after that run); within an epoch the heap touches most of those pages again, so the peak still
/// creeps, more slowly.
/// <para>Within an epoch the opposite matters. Each training step frees tens of megabytes of activations, gradients
/// and oneDNN workspaces and allocates them again in the next. By default glibc maps large blocks on their own and
/// unmaps them when they are freed (its mmap threshold stops at 32 MB, and one layer's LSTM workspace for 32 × 100
/// characters is 26 MB), and it shrinks the heap's top when more than its trim threshold is free; the next step gets
/// the memory back as fresh zero-filled pages, one page fault per 4 KB. Training the 2×512 character model of lesson
/// 03 took about 75,000 page faults a second and spent 29 % of its CPU time in the kernel. With
/// <see cref="KeepFreedMemory"/> the blocks come from the heap and stay there for the next step: under 1,000 faults
/// a second, under 1 % in the kernel, and 2.7 times the tokens per second on the same machine, with the same losses
/// (docs/results.md, "The memory each training step frees"). <see cref="Trim"/> still returns the free pages between
/// epochs. <see cref="TorchRuntime.Prepare"/> calls it once per process.</para>
/// Introduced in 05-speech-recognition.
/// </remarks>
public static partial class NativeHeap
{
    static int unavailable;   // 1 once malloc_trim turned out not to exist here (not glibc)
    static int trims;

    /// <summary>How many times <see cref="Trim"/> made the call in this process.</summary>
    internal static int Trims => Volatile.Read(ref trims);

    /// <summary>
    /// Returns the C heap's free pages to the operating system (glibc's <c>malloc_trim(0)</c>). Nothing is freed that
    /// is in use, so this is always safe; it costs a few milliseconds, and pages the heap needs again are faulted back
    /// in as it touches them.
    /// </summary>
    /// <returns>True if the call was made (Linux with glibc); false where there is no such call (other systems, musl).</returns>
    public static bool Trim()
    {
        if (!OperatingSystem.IsLinux() || Volatile.Read(ref unavailable) == 1) return false;
        try
        {
            MallocTrim(0);
            Interlocked.Increment(ref trims);
            return true;
        }
        catch (Exception e) when (e is EntryPointNotFoundException or DllNotFoundException)
        {
            Volatile.Write(ref unavailable, 1);
            return false;
        }
    }

    /// <summary>The environment variable that leaves glibc's thresholds alone when set to <c>0</c>.</summary>
    public const string Variable = "RNN_HEAP_KEEP";

    /// <summary>Free memory the heap may keep at its top before it shrinks.</summary>
    public const int TrimThreshold = 1 << 30;

    /// <summary>Extra memory the heap asks for whenever it grows, so that it grows seldom.</summary>
    public const int TopPad = 256 << 20;

    /// <summary>
    /// Makes glibc keep the memory that tensors free for the next allocations instead of returning it to the kernel
    /// at once, unless <see cref="Variable"/> is <c>0</c> (<c>mallopt</c>: no block mapped on its own, where the heap
    /// can serve it; <see cref="TrimThreshold"/>; <see cref="TopPad"/>). Resident memory then stays near its peak within
    /// an epoch; <see cref="Trim"/> still hands the free pages back. A thread other than the main one allocates from a
    /// heap of at most 64 MB, so its larger blocks are still mapped on their own.
    /// </summary>
    /// <returns>True if the thresholds were set (Linux with glibc); false where they were left alone.</returns>
    public static bool KeepFreedMemory()
    {
        if (!OperatingSystem.IsLinux() || Environment.GetEnvironmentVariable(Variable) == "0") return false;
        try
        {
            return Mallopt(MmapMaxParameter, 0) == 1
                & Mallopt(TrimThresholdParameter, TrimThreshold) == 1
                & Mallopt(TopPadParameter, TopPad) == 1;
        }
        catch (Exception e) when (e is EntryPointNotFoundException or DllNotFoundException)
        {
            return false;
        }
    }

    /// <summary>The process's resident memory (RSS) in bytes.</summary>
    public static long ResidentBytes()
    {
        using var process = Process.GetCurrentProcess();
        process.Refresh();
        return process.WorkingSet64;
    }

    [LibraryImport("libc", EntryPoint = "malloc_trim")]
    private static partial int MallocTrim(nuint pad);

    // glibc's malloc.h: M_TRIM_THRESHOLD, M_TOP_PAD, M_MMAP_MAX.
    const int TrimThresholdParameter = -1, TopPadParameter = -2, MmapMaxParameter = -4;

    [LibraryImport("libc", EntryPoint = "mallopt")]
    private static partial int Mallopt(int parameter, int value);
}
