using RnnNotebooks.Platform;
using TorchSharp;

namespace RnnNotebooks.Notebook;

/// <summary>What <see cref="Course.Setup"/> set up, shown as the setup cell's output.</summary>
/// <param name="Mode">"quick" or "full" (see <see cref="CourseMode"/>).</param>
/// <param name="Seed">The seed every random source was set from.</param>
/// <param name="Threads">Threads torch computes with.</param>
/// <param name="Device">Where tensors live by default.</param>
/// <param name="TorchSharp">TorchSharp and libtorch versions.</param>
/// <param name="Native">What the native-loading fixes found and did.</param>
public sealed record CourseSession(string Mode, int Seed, int Threads, string Device, string TorchSharp, NativeReport Native)
{
    /// <summary>One line for the setup cell's output; the native fixes were already announced on their own line.</summary>
    public override string ToString() =>
        $"{Mode} mode · seed {Seed} · {Threads} thread{(Threads == 1 ? "" : "s")} · {Device} · {TorchSharp}";
}

/// <summary>The one call every notebook's setup cell makes.</summary>
/// <remarks>Introduced in 00-getting-started.</remarks>
public static class Course
{
    /// <summary>
    /// Keeps signals off the calling thread outside a notebook (<see cref="ComputeSignals"/>), makes TorchSharp load (native fixes, said once in the output with how to turn them off), lets Plotly charts render in the kernel, registers the tensor
    /// formatter, applies the thread policy and seeds every random source. Call it before any <c>torch</c> call.
    /// </summary>
    /// <param name="seed">One seed for torch and every <see cref="Random"/> the library creates.</param>
    /// <param name="threads">Threads for torch; null applies the library's policy (see <c>Training.Threads</c>).</param>
    public static CourseSession Setup(int seed = 42, int? threads = null)
    {
        // A lesson run as an app: keep Ctrl-Z/fg and Ctrl-C from interrupting libtorch on this thread (see ComputeSignals).
        // Not in a notebook: the kernel runs cells on threads of its own, and VS Code stops a cell with a message, not a signal.
        if (!Host.IsNotebook) ComputeSignals.BlockOnThisThread();
        var native = TorchRuntime.Prepare();
        TorchRuntime.AnnounceOnce(Console.Out);
        FSharpCoreRedirect.Install();
        if (Host.IsNotebook)
        {
            TensorFormatter.Register();
            Html.Register();
            SilenceScriptWarnings();
        }

        var threadCount = Training.Threads.Apply(threads);
        Training.Seeds.Set(seed);
        var device = Training.Devices.Default;
        var versions = $"TorchSharp {typeof(torch).Assembly.GetName().Version?.ToString(3)}, libtorch {torch.__version__}";
        return new CourseSession(CourseMode.Name, seed, threadCount, device.ToString(), versions, native);
    }

    /// <summary>
    /// Stops the notebook's C# kernel from printing compiler warnings under every cell. Jupyter shows them (dotnet-repl
    /// hides them), and the ones a lesson gets are noise: CS1701 because TorchSharp was built against .NET 8's
    /// System.Runtime.Numerics, CS8632 because script cells have no nullable context, and <c>#pragma</c> or
    /// <c>#nullable</c> in one cell does not carry to the next. The same cells compile warning-free as the lesson's
    /// app, where warnings are errors, so nothing is lost.
    /// </summary>
    /// <remarks>
    /// The kernel (.NET Interactive, frozen at its last release) keeps its Roslyn <c>ScriptOptions</c> in a private
    /// field; it is set through reflection, and left alone if that field is not there.
    /// </remarks>
    static void SilenceScriptWarnings()
    {
        var kernel = Microsoft.DotNet.Interactive.KernelInvocationContext.Current?.HandlingKernel;
        var field = kernel?.GetType().GetField("_scriptOptions", System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Instance);
        var options = field?.GetValue(kernel);
        var withWarningLevel = options?.GetType().GetMethod("WithWarningLevel", [typeof(int)]);
        if (withWarningLevel is not null) field!.SetValue(kernel, withWarningLevel.Invoke(options, [0]));
    }

    /// <summary>The folder with <c>RnnNotebooks.sln</c>, found by walking up from <paramref name="start"/>.</summary>
    public static string FindRepoRoot(string? start = null) =>
        TryFindRepoRoot(start) ?? throw new DirectoryNotFoundException(
            $"No RnnNotebooks.sln in {start ?? Directory.GetCurrentDirectory()} or any folder above it. " +
            "Run this from inside a clone of the course.");

    /// <summary>The folder with <c>RnnNotebooks.sln</c> above <paramref name="start"/>, or null outside a clone.</summary>
    public static string? TryFindRepoRoot(string? start = null)
    {
        for (var dir = new DirectoryInfo(start ?? Directory.GetCurrentDirectory()); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "RnnNotebooks.sln"))) return dir.FullName;
        return null;
    }
}
