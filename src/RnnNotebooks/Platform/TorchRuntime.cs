using System.Reflection;
using System.Runtime.InteropServices;
using System.Text;
using TorchSharp;

namespace RnnNotebooks.Platform;

/// <summary>What <see cref="TorchRuntime.Prepare"/> found and did.</summary>
/// <param name="SystemLibStdCxx">Path of the C++ runtime this process uses (Linux), or null.</param>
/// <param name="SystemHasGlibcxx332">Whether that runtime provides <c>GLIBCXX_3.4.32</c>.</param>
/// <param name="Patched">Copies of <c>libLibTorchSharp.so</c> that were patched now.</param>
/// <param name="AlreadyFine">Copies that needed nothing (already weak, or the system does not need it).</param>
/// <param name="Preloaded">libtorch libraries loaded by full path before TorchSharp looked for them.</param>
/// <param name="MklDispatch">What <see cref="MklVendorCheck"/> did about MKL's code path on this processor.</param>
public sealed record NativeReport(
    string? SystemLibStdCxx,
    bool SystemHasGlibcxx332,
    IReadOnlyList<string> Patched,
    IReadOnlyList<string> AlreadyFine,
    IReadOnlyList<string> Preloaded,
    string MklDispatch = "not applicable");

/// <summary>
/// Makes TorchSharp's native libraries load on this machine, before the first <c>torch.*</c> call.
/// </summary>
/// <remarks>
/// Two fixes, both automatic and idempotent (see docs/troubleshooting.md):
/// <list type="number">
/// <item>Where the system libstdc++ lacks <c>GLIBCXX_3.4.32</c>, every copy of <c>libLibTorchSharp.so</c>
/// that TorchSharp may load (the app's output folder, the NuGet package, the folder TorchSharp
/// consolidates natives into for notebooks) gets that one version need marked weak.</item>
/// <item>libtorch's own libraries are loaded by full path from the app folder or the NuGet package, so a
/// libtorch installed system-wide (e.g. by Debian's python3-torch) cannot shadow them.</item>
/// </list>
/// Then, before libtorch computes anything, <see cref="MklVendorCheck"/> lets its MKL use fast kernels on AMD
/// processors.
/// Introduced in 00-getting-started.
/// </remarks>
public static class TorchRuntime
{
    /// <summary>The libstdc++ version that TorchSharp 0.107's native library asks for.</summary>
    public const string NeededGlibcxx = "GLIBCXX_3.4.32";

    static readonly object Gate = new();
    static NativeReport? report;

    /// <summary>The result of the first <see cref="Prepare"/>, or null before it ran.</summary>
    public static NativeReport? Report => report;

    /// <summary>Applies the native-loading fixes once per process; later calls return the first report.</summary>
    public static NativeReport Prepare()
    {
        lock (Gate)
        {
            return report ??= PrepareCore();
        }
    }

    static NativeReport PrepareCore()
    {
        if (!OperatingSystem.IsLinux())
            return new NativeReport(null, true, [], [], []);

        var libstdcxx = FindLoadedLibStdCxx();
        var hasVersion = libstdcxx is null || FileContains(libstdcxx, NeededGlibcxx + "\0");

        var patched = new List<string>();
        var fine = new List<string>();
        foreach (var copy in LibTorchSharpCopies())
        {
            if (hasVersion || !ElfVersionNeeds.Read(copy).Any(n => n.Version == NeededGlibcxx && !n.IsWeak))
            {
                fine.Add(copy);
                continue;
            }
            try
            {
                if (ElfVersionNeeds.MakeWeak(copy, NeededGlibcxx)) patched.Add(copy); else fine.Add(copy);
            }
            catch (UnauthorizedAccessException e)
            {
                throw new IOException(
                    $"{copy}: needs {NeededGlibcxx}, which this system's libstdc++ ({libstdcxx}) lacks, and the file " +
                    $"is not writable, so it cannot be patched ({e.Message}). Make the NuGet cache writable for " +
                    "this user, or use a system with libstdc++ from GCC 13 or newer (e.g. the devcontainer).", e);
            }
        }

        var preloaded = PreloadLibTorch();
        var libTorchCpu = preloaded.FirstOrDefault(p => Path.GetFileName(p) == "libtorch_cpu.so") is { } path
            ? NativeLibrary.Load(path)
            : NativeLibrary.TryLoad("libtorch_cpu.so", typeof(torch).Assembly, null, out var handle) ? handle : IntPtr.Zero;
        return new NativeReport(libstdcxx, hasVersion, patched, fine, preloaded, MklVendorCheck.Apply(libTorchCpu));
    }

    /// <summary>The NuGet global packages folder: <c>$NUGET_PACKAGES</c> or <c>~/.nuget/packages</c>.</summary>
    public static string NuGetPackagesDirectory =>
        Environment.GetEnvironmentVariable("NUGET_PACKAGES") is { Length: > 0 } p
            ? p
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");

    static string TorchSharpVersion =>
        typeof(torch).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion
            .Split('+')[0] ?? typeof(torch).Assembly.GetName().Version!.ToString(3);

    const string LibTorchVersion = "2.10.0";
    const string NativeRid = "linux-x64";

    static IEnumerable<string> LibTorchSharpCopies()
    {
        const string lib = "libLibTorchSharp.so";
        var torchDir = Path.GetDirectoryName(typeof(torch).Assembly.Location) ?? AppContext.BaseDirectory;
        var package = Path.Combine(NuGetPackagesDirectory, "torchsharp", TorchSharpVersion);
        string[] candidates =
        [
            Path.Combine(AppContext.BaseDirectory, "runtimes", NativeRid, "native", lib),
            Path.Combine(AppContext.BaseDirectory, lib),
            Path.Combine(torchDir, lib),
            // Notebooks: TorchSharp.dll lives in the package; natives are consolidated into lib/<tfm>/cpu.
            Path.Combine(torchDir, "cpu", lib),
            Path.Combine(package, "runtimes", NativeRid, "native", lib),
        ];
        var consolidated = Directory.Exists(Path.Combine(package, "lib"))
            ? Directory.GetDirectories(Path.Combine(package, "lib")).Select(d => Path.Combine(d, "cpu", lib))
            : [];
        return candidates.Concat(consolidated).Select(Path.GetFullPath).Distinct().Where(File.Exists);
    }

    static List<string> PreloadLibTorch()
    {
        // Order matters: each library needs the ones before it.
        string[] names = ["libc10.so", "libtorch_cpu.so", "libtorch.so"];
        string[] dirs =
        [
            Path.Combine(AppContext.BaseDirectory, "runtimes", NativeRid, "native"),
            AppContext.BaseDirectory,
            Path.Combine(NuGetPackagesDirectory, $"libtorch-cpu-{NativeRid}", LibTorchVersion, "runtimes", NativeRid, "native"),
        ];
        var dir = dirs.FirstOrDefault(d => names.All(n => File.Exists(Path.Combine(d, n))));
        if (dir is null) return [];

        var loaded = new List<string>();
        foreach (var name in names)
        {
            var path = Path.Combine(dir, name);
            NativeLibrary.Load(path);
            loaded.Add(path);
        }
        return loaded;
    }

    static string? FindLoadedLibStdCxx()
    {
        static string? FromMaps() =>
            File.ReadLines("/proc/self/maps")
                .Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries))
                .Where(f => f.Length >= 6 && Path.GetFileName(f[5]).StartsWith("libstdc++.so", StringComparison.Ordinal))
                .Select(f => f[5])
                .FirstOrDefault();

        var path = FromMaps();
        if (path is null && NativeLibrary.TryLoad("libstdc++.so.6", out _)) path = FromMaps();
        return path;
    }

    static bool FileContains(string path, string text)
    {
        var needle = Encoding.ASCII.GetBytes(text);
        return File.ReadAllBytes(path).AsSpan().IndexOf(needle) >= 0;
    }
}
