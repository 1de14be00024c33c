using System.Runtime.CompilerServices;
using RnnNotebooks.Platform;

// torch's random generator and thread count are process-wide: tests that seed or time them must not
// interleave with other tests, so the assembly runs one test class at a time.
[assembly: CollectionBehavior(DisableTestParallelization = true)]

namespace RnnNotebooks.Tests;

static class TestSetup
{
    /// <summary>Runs before any test touches TorchSharp, exactly as a notebook's setup cell does.</summary>
    /// <remarks>Not when the test runner only asks the assembly who it is (<c>-assemblyInfo</c>): loading libtorch
    /// makes that process slow to exit, and under load xunit.v3 3.x then prints a watchdog line after its JSON answer,
    /// which the runner cannot parse (xunit/xunit#3576), so the whole run reports no tests.</remarks>
    [ModuleInitializer]
    internal static void Initialize()
    {
        if (Environment.GetCommandLineArgs().Contains("-assemblyInfo", StringComparer.OrdinalIgnoreCase)) return;
        TorchRuntime.Prepare();
    }
}
