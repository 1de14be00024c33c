using System.Diagnostics;

namespace RnnNotebooks.Tests;

/// <summary>Process numbers for tests of what a killed writer leaves behind.</summary>
static class TestProcesses
{
    /// <summary>The number of a process that has ended: it names no live process for the test's short life.</summary>
    public static int EndedId()
    {
        using var ended = Process.Start("true")!;
        ended.WaitForExit();
        return ended.Id;
    }

    /// <summary>A live process (kill it when done) that started before this call returned.</summary>
    public static Process Live()
    {
        var live = Process.Start("sleep", "60")!;
        Thread.Sleep(50);
        return live;
    }

    /// <summary>A temp name as the library's atomic writes make them: <c>TARGET.PID.GUID.tmp</c>.</summary>
    public static string TempName(string target, int pid) => $"{target}.{pid}.{Guid.NewGuid():N}.tmp";
}
