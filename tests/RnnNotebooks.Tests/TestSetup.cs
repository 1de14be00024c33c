using System.Runtime.CompilerServices;
using RnnNotebooks.Platform;

// torch's random generator and thread count are process-wide: tests that seed or time them must not
// interleave with other tests, so the assembly runs one test class at a time.
[assembly: Xunit.v3.Parallelization(Mode = Xunit.Sdk.ParallelMode.None)]

namespace RnnNotebooks.Tests;

static class TestSetup
{
    /// <summary>Runs before any test touches TorchSharp, exactly as a notebook's setup cell does.</summary>
    [ModuleInitializer]
    internal static void Initialize() => TorchRuntime.Prepare();
}
