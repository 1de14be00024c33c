using System.Runtime.InteropServices;
using RnnNotebooks.Platform;

namespace RnnNotebooks.Tests.Platform;

public class NativeHeapTests
{
    const int Block = 96 << 10;    // below glibc's smallest threshold for mapping a block on its own (128 KB)
    const int Blocks = 1024;       // 96 MB

    [Fact]
    public void Trim_ReturnsFreeHeapPagesToTheSystem()
    {
        if (!OperatingSystem.IsLinux())
        {
            Assert.False(NativeHeap.Trim());   // no malloc_trim elsewhere: the call says so instead of failing
            return;
        }
        // 96 MB in blocks the heap hands out one after another, then every other one freed: 48 MB of holes, each
        // between two blocks still in use, so the heap cannot give them back by shrinking from its end and keeps them
        // for reuse; only malloc_trim returns their pages.
        var blocks = new IntPtr[Blocks];
        for (var i = 0; i < Blocks; i++)
        {
            blocks[i] = Marshal.AllocHGlobal(Block);
            Touch(blocks[i], Block);
        }
        try
        {
            for (var i = 1; i < Blocks; i += 2)
            {
                Marshal.FreeHGlobal(blocks[i]);
                blocks[i] = IntPtr.Zero;
            }
            var before = NativeHeap.ResidentBytes();
            Assert.True(NativeHeap.Trim());
            var after = NativeHeap.ResidentBytes();
            var holes = Blocks / 2 * (long)Block;
            Assert.True(before - after >= holes / 2,
                $"RSS went from {before / 1e6:F0} to {after / 1e6:F0} MB; expected at least half of the {holes / 1e6:F0} MB of holes back.");
        }
        finally
        {
            foreach (var b in blocks)
                if (b != IntPtr.Zero) Marshal.FreeHGlobal(b);
        }
    }

    [Fact]
    public void KeepFreedMemory_SetsGlibcsThresholds_WhereThereIsGlibc()
    {
        // Idempotent: TorchRuntime.Prepare has made the same calls in this process. glibc's mallopt returns 1 for each
        // setting it accepts (0 for an unknown parameter or a value out of its range), so a wrong constant fails here.
        Assert.Equal(OperatingSystem.IsLinux(), NativeHeap.KeepFreedMemory());
        if (OperatingSystem.IsLinux())
            Assert.True(TorchRuntime.Prepare().HeapKeepsFreedMemory || Environment.GetEnvironmentVariable(NativeHeap.Variable) == "0");
    }

    [Fact]
    public void ResidentBytes_GrowsWhenPagesAreTouched()
    {
        var before = NativeHeap.ResidentBytes();
        const int bytes = 64 << 20;
        var big = Marshal.AllocHGlobal(bytes);
        try
        {
            Touch(big, bytes);
            Assert.True(NativeHeap.ResidentBytes() - before >= bytes / 2);
        }
        finally
        {
            Marshal.FreeHGlobal(big);
        }
    }

    static void Touch(IntPtr memory, int bytes)
    {
        var page = new byte[4096];
        Array.Fill(page, (byte)1);
        for (var offset = 0; offset + page.Length <= bytes; offset += page.Length)
            Marshal.Copy(page, 0, memory + offset, page.Length);
    }
}
