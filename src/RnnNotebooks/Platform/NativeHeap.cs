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
/// creeps, more slowly. Introduced in 05-speech-recognition.
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

    /// <summary>The process's resident memory (RSS) in bytes.</summary>
    public static long ResidentBytes()
    {
        using var process = Process.GetCurrentProcess();
        process.Refresh();
        return process.WorkingSet64;
    }

    [LibraryImport("libc", EntryPoint = "malloc_trim")]
    private static partial int MallocTrim(nuint pad);
}
