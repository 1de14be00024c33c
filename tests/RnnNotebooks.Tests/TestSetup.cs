using System.Runtime.CompilerServices;
using RnnNotebooks.Platform;

namespace RnnNotebooks.Tests;

static class TestSetup
{
    /// <summary>Runs before any test touches TorchSharp, exactly as a notebook's setup cell does.</summary>
    [ModuleInitializer]
    internal static void Initialize() => TorchRuntime.Prepare();
}
