using System.Reflection;
using System.Runtime.InteropServices;
using System.Text;
using TorchSharp;

namespace RnnNotebooks.Platform;

/// <summary>What <see cref="TorchRuntime.Prepare"/> found and did.</summary>
/// <param name="SystemLibStdCxx">Path of the C++ runtime this process uses (Linux), or null.</param>
/// <param name="SystemHasGlibcxx332">Whether that runtime provides <c>GLIBCXX_3.4.32</c>.</param>
/// <param name="Patched">The patched copy of <c>libLibTorchSharp.so</c> in the course's cache that TorchSharp
/// loads instead of its own (empty when none is needed).</param>
/// <param name="AlreadyFine">The library TorchSharp loads as it is (already weak, or the system does not need it).</param>
/// <param name="Preloaded">libtorch libraries loaded by full path before TorchSharp looked for them.</param>
/// <param name="MklDispatch">What <see cref="MklVendorCheck"/> did about MKL's code path on this processor.</param>
/// <param name="HeapKeepsFreedMemory">Whether <see cref="NativeHeap.KeepFreedMemory"/> set glibc's thresholds.</param>
public sealed record NativeReport(
    string? SystemLibStdCxx,
    bool SystemHasGlibcxx332,
    IReadOnlyList<string> Patched,
    IReadOnlyList<string> AlreadyFine,
    IReadOnlyList<string> Preloaded,
    string MklDispatch = "not applicable",
    bool HeapKeepsFreedMemory = false)
{
    /// <summary>One line saying which native fixes are in effect and how to turn each off, or null when none is.</summary>
    public string? Notice
    {
        get
        {
            var fixes = new List<string>();
            if (Patched.Count > 0)
                fixes.Add($"TorchSharp's native library is loaded from a copy with its {TorchRuntime.NeededGlibcxx} need marked weak " +
                    $"({Patched[0]}; the NuGet package is left as it is; {TorchRuntime.GlibcxxVariable}=0 turns this off)");
            if (MklDispatch.StartsWith("patched", StringComparison.Ordinal))
                fixes.Add($"MKL's processor-vendor check is patched in memory so this AMD processor gets its fast kernels ({MklVendorCheck.Variable}=0 turns this off)");
            if (HeapKeepsFreedMemory)
                fixes.Add($"the C heap keeps freed tensor memory for the next step ({NativeHeap.Variable}=0 turns this off)");
            return fixes.Count == 0 ? null : "native fixes: " + string.Join("; ", fixes) + ".";
        }
    }
}

/// <summary>
/// Makes TorchSharp's native libraries load on this machine, before the first <c>torch.*</c> call.
/// </summary>
/// <remarks>
/// Two fixes, both automatic and idempotent (see docs/troubleshooting.md):
/// <list type="number">
/// <item>Where the system libstdc++ lacks <c>GLIBCXX_3.4.32</c>, the <c>libLibTorchSharp.so</c> TorchSharp would
/// load (from the app's output folder, or the NuGet package in notebooks) is copied into the course's cache
/// folder with that one version need marked weak, and TorchSharp's native calls are bound to the copy
/// (<see cref="NativeLibrary.SetDllImportResolver"/>). The NuGet package cache, shared by every project on the
/// machine, is never written to.</item>
/// <item>libtorch's own libraries are loaded by full path from the app folder or the NuGet package, so a
/// libtorch installed system-wide (e.g. by Debian's python3-torch) cannot shadow them.</item>
/// </list>
/// Then, before libtorch computes anything, <see cref="MklVendorCheck"/> lets its MKL use fast kernels on AMD
/// processors, and libtorch is told not to try NNPACK for convolutions (<see cref="TorchKernels.NnpackEnabled"/>): on
/// x86-64 oneDNN takes nearly every convolution first, and where NNPACK cannot run (some virtual machines) each of the
/// others printed "Could not initialize NNPACK! Reason: Unsupported hardware." before falling back to the same kernel
/// this setting goes to directly. Last, glibc is told to keep the memory tensors free for the next training step
/// (<see cref="NativeHeap.KeepFreedMemory"/>).
/// Introduced in 00-getting-started.
/// </remarks>
public static class TorchRuntime
{
    /// <summary>The libstdc++ version that TorchSharp 0.107's native library asks for.</summary>
    public const string NeededGlibcxx = "GLIBCXX_3.4.32";

    /// <summary>The environment variable that switches the patched copy off when set to <c>0</c>.</summary>
    public const string GlibcxxVariable = "RNN_GLIBCXX_FIX";

    static readonly object Gate = new();
    static NativeReport? report;
    static bool announced;

    /// <summary>Writes <see cref="NativeReport.Notice"/> to <paramref name="writer"/> the first time it is called
    /// in this process after <see cref="Prepare"/>, when a fix is in effect; later calls write nothing.</summary>
    public static void AnnounceOnce(TextWriter writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        lock (Gate)
        {
            if (announced || report?.Notice is not { } notice) return;
            announced = true;
            writer.WriteLine(notice);
        }
    }

    /// <summary>The folder that holds the patched copies: <c>$XDG_CACHE_HOME/rnn-notebooks/native</c>, else
    /// <c>~/.cache/rnn-notebooks/native</c>.</summary>
    public static string NativeCacheDirectory =>
        Path.Combine(Path.GetDirectoryName(Data.Datasets.CacheDirectory)!, "native");

    /// <summary>The result of the first <see cref="Prepare"/>, or null before it ran.</summary>
    public static NativeReport? Report => report;

    /// <summary>Applies the native-loading fixes once per process; later calls return the first report.</summary>
    public static NativeReport Prepare()
    {
        NativeReport prepared;
        var first = false;
        lock (Gate)
        {
            if (report is null)
            {
                report = PrepareCore();
                first = true;
            }
            prepared = report;
        }
        // Outside the lock: TorchKernels binds (under its own lock) through Prepare, which now returns at once.
        if (first && OperatingSystem.IsLinux() && RuntimeInformation.ProcessArchitecture == Architecture.X64 && TorchKernels.IsAvailable)
            TorchKernels.NnpackEnabled = false;
        return prepared;
    }

    static NativeReport PrepareCore()
    {
        if (!OperatingSystem.IsLinux())
            return new NativeReport(null, true, [], [], []);

        var libstdcxx = FindLoadedLibStdCxx();
        var hasVersion = libstdcxx is null || FileContains(libstdcxx, NeededGlibcxx + "\0");

        var source = LibTorchSharpCopies().FirstOrDefault();
        var needsFix = !hasVersion && source is not null
            && ElfVersionNeeds.Read(source).Any(n => n.Version == NeededGlibcxx && !n.IsWeak)
            && Environment.GetEnvironmentVariable(GlibcxxVariable) != "0";
        var patched = needsFix ? new List<string> { PatchedCopy(source!, libstdcxx) } : [];
        var fine = needsFix || source is null ? new List<string>() : [source];

        var preloaded = PreloadLibTorch();
        if (patched.Count > 0) BindTo(patched[0]);
        var libTorchCpu = preloaded.FirstOrDefault(p => Path.GetFileName(p) == "libtorch_cpu.so") is { } path
            ? NativeLibrary.Load(path)
            : NativeLibrary.TryLoad("libtorch_cpu.so", typeof(torch).Assembly, null, out var handle) ? handle : IntPtr.Zero;
        return new NativeReport(libstdcxx, hasVersion, patched, fine, preloaded, MklVendorCheck.Apply(libTorchCpu),
            NativeHeap.KeepFreedMemory());
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

    /// <summary>A copy of <paramref name="source"/> with the <see cref="NeededGlibcxx"/> need marked weak, in
    /// <see cref="NativeCacheDirectory"/> under a folder named by the source's hash (made once, then reused).</summary>
    static string PatchedCopy(string source, string? libstdcxx)
    {
        string hash;
        using (var stream = File.OpenRead(source)) hash = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(stream))[..16];
        var copy = Path.Combine(NativeCacheDirectory, hash, Path.GetFileName(source));
        if (File.Exists(copy) && !ElfVersionNeeds.Read(copy).Any(n => n.Version == NeededGlibcxx && !n.IsWeak)) return copy;
        try
        {
            AtomicFile.Write(copy, temp =>
            {
                File.Copy(source, temp);
                ElfVersionNeeds.MakeWeak(temp, NeededGlibcxx);
            });
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new IOException(
                $"{copy}: TorchSharp's native library needs {NeededGlibcxx}, which this system's libstdc++ ({libstdcxx}) " +
                $"lacks, and the patched copy cannot be written there ({e.Message}). Make {NativeCacheDirectory} writable " +
                "(or set XDG_CACHE_HOME to a writable folder), or use a system with libstdc++ from GCC 13 or newer " +
                "(e.g. the devcontainer).", e);
        }
        return copy;
    }

    /// <summary>Makes every native call of TorchSharp go to the library at <paramref name="path"/>. The libtorch
    /// libraries it needs are already loaded (<see cref="PreloadLibTorch"/>), so the copy finds them by name
    /// although it lives in another folder.</summary>
    static void BindTo(string path)
    {
        var handle = NativeLibrary.Load(path);
        try
        {
            NativeLibrary.SetDllImportResolver(typeof(torch).Assembly, (name, _, _) =>
                name.Contains("LibTorchSharp", StringComparison.Ordinal) ? handle : IntPtr.Zero);
        }
        catch (InvalidOperationException e)
        {
            throw new InvalidOperationException(
                $"TorchSharp's native calls could not be bound to {path}: another resolver was set first ({e.Message}). " +
                "Call Course.Setup (or TorchRuntime.Prepare) before anything else touches TorchSharp.", e);
        }
    }

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
            // Notebooks: TorchSharp.dll lives in the package, its natives under runtimes/.
            Path.Combine(package, "runtimes", NativeRid, "native", lib),
        ];
        return candidates.Select(Path.GetFullPath).Distinct().Where(File.Exists);
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
