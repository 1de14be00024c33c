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
public sealed record CourseSession(string Mode, int Seed, int Threads, string Device, string TorchSharp, NativeReport Native);

/// <summary>The one call every notebook's setup cell makes.</summary>
/// <remarks>Introduced in 00-getting-started.</remarks>
public static class Course
{
    /// <summary>
    /// Makes TorchSharp load (native fixes, said once in the output with how to turn them off), lets Plotly charts render in the kernel, registers the tensor
    /// formatter, applies the thread policy and seeds every random source. Call it before any <c>torch</c> call.
    /// </summary>
    /// <param name="seed">One seed for torch and every <see cref="Random"/> the library creates.</param>
    /// <param name="threads">Threads for torch; null applies the library's policy (see <c>Training.Threads</c>).</param>
    public static CourseSession Setup(int seed = 42, int? threads = null)
    {
        var native = TorchRuntime.Prepare();
        TorchRuntime.AnnounceOnce(Console.Out);
        FSharpCoreRedirect.Install();
        if (LiveProgress.InNotebook)
        {
            TensorFormatter.Register();
            Html.Register();
        }

        var threadCount = Training.Threads.Apply(threads);
        Training.Seeds.Set(seed);
        var device = Training.Devices.Default;
        var versions = $"TorchSharp {typeof(torch).Assembly.GetName().Version?.ToString(3)}, libtorch {torch.__version__}";
        return new CourseSession(CourseMode.Name, seed, threadCount, device.ToString(), versions, native);
    }
}
