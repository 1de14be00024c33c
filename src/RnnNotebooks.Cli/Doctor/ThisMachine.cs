using System.Runtime.InteropServices;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using RnnNotebooks.Data;
using RnnNotebooks.Platform;
using TorchSharp;

namespace RnnNotebooks.Cli.Doctor;

/// <summary>The real probes behind <see cref="DoctorProbes.ForThisMachine"/>.</summary>
static partial class ThisMachine
{
    public static MachineInfo Describe() => new(
        OperatingSystem.IsLinux() ? "linux" : OperatingSystem.IsWindows() ? "win" : OperatingSystem.IsMacOS() ? "osx"
            : RuntimeInformation.OSDescription.Split(' ')[0].ToLowerInvariant(),
        RuntimeInformation.ProcessArchitecture, RuntimeInformation.OSArchitecture);

    public static string? GlibcVersion()
    {
        if (!OperatingSystem.IsLinux()) return null;
        try
        {
            return Marshal.PtrToStringAnsi(GnuGetLibcVersion());
        }
        catch (Exception e) when (e is EntryPointNotFoundException or DllNotFoundException)
        {
            return null;   // musl and other C libraries have no gnu_get_libc_version
        }
    }

    // DllImport rather than LibraryImport: the latter needs unsafe code enabled for the whole CLI.
    [DllImport("libc", EntryPoint = "gnu_get_libc_version")]
    static extern nint GnuGetLibcVersion();

    /// <summary>The <c>GLIBCXX_*</c> and <c>CXXABI_*</c> names in the libstdc++ this process loads.</summary>
    public static IReadOnlySet<string>? LibStdCxxVersions()
    {
        if (!OperatingSystem.IsLinux() || !NativeLibrary.TryLoad("libstdc++.so.6", out _)) return null;
        var path = File.ReadLines("/proc/self/maps")
            .Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .Where(f => f.Length >= 6 && Path.GetFileName(f[5]).StartsWith("libstdc++.so", StringComparison.Ordinal))
            .Select(f => f[5]).FirstOrDefault();
        if (path is null) return null;
        var text = System.Text.Encoding.Latin1.GetString(File.ReadAllBytes(path));
        return VersionName().Matches(text).Select(m => m.Groups[1].Value).ToHashSet(StringComparer.Ordinal);
    }

    [GeneratedRegex(@"(?<=\0)((?:GLIBCXX|CXXABI)_\d+(?:\.\d+)+)(?=\0)")]
    private static partial Regex VersionName();

    /// <summary>The version needs of the <c>libLibTorchSharp.so</c> TorchSharp loads: the app's copy, else the NuGet package's.</summary>
    public static IReadOnlyList<VersionNeed> TorchSharpNeeds()
    {
        const string lib = "libLibTorchSharp.so";
        var version = typeof(torch).Assembly.GetName().Version!.ToString(3);
        var file = new[]
        {
            Path.Combine(AppContext.BaseDirectory, "runtimes", "linux-x64", "native", lib),
            Path.Combine(TorchRuntime.NuGetPackagesDirectory, "torchsharp", version, "runtimes", "linux-x64", "native", lib),
        }.FirstOrDefault(File.Exists);
        return file is null ? [] : ElfVersionNeeds.Read(file);
    }

    public static string LoadTorch()
    {
        var native = TorchRuntime.Prepare();
        using var ones = torch.ones(3);
        using var sum = ones.sum();
        var value = sum.item<float>();
        if (value != 3f) throw new InvalidOperationException($"torch.ones(3).sum() gave {value}, not 3.");
        var fix = native.Patched.Count > 0 ? $"; loaded through the patched copy {native.Patched[0]}" : "";
        var heap = native.HeapKeepsFreedMemory ? "; the C heap keeps freed tensor memory for the next step" : "";
        return $"TorchSharp {typeof(torch).Assembly.GetName().Version?.ToString(3)} with libtorch {torch.__version__} computes here; " +
            $"{torch.get_num_threads()} thread(s) on {Environment.ProcessorCount} cores; MKL {native.MklDispatch}{fix}{heap}.";
    }

    public static string? ReadIfExists(string path) => File.Exists(path) ? File.ReadAllText(path) : null;

    public static (string Path, DateTime Changed)? NewestSource(string repoRoot)
    {
        var dir = Path.Combine(repoRoot, "src", "RnnNotebooks");
        if (!Directory.Exists(dir)) return null;
        var sep = Path.DirectorySeparatorChar;
        var newest = Directory.EnumerateFiles(dir, "*", SearchOption.AllDirectories)
            .Where(f => f.EndsWith(".cs", StringComparison.Ordinal) || f.EndsWith(".csproj", StringComparison.Ordinal))
            .Where(f => !f.Contains($"{sep}obj{sep}", StringComparison.Ordinal) && !f.Contains($"{sep}bin{sep}", StringComparison.Ordinal))
            .Select(f => (Path: f, Changed: File.GetLastWriteTimeUtc(f)))
            .MaxBy(f => f.Changed);
        return newest.Path is null ? null : (Path.GetRelativePath(repoRoot, newest.Path).Replace('\\', '/'), newest.Changed);
    }

    public static bool CanWrite(string directory)
    {
        var dir = new DirectoryInfo(directory);
        while (!dir.Exists && dir.Parent is not null) dir = dir.Parent;
        var probe = Path.Combine(dir.FullName, $".rnn-doctor-{Environment.ProcessId}");
        try
        {
            File.WriteAllText(probe, "");
            File.Delete(probe);
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    public static string? PinnedTool(string repoRoot, string tool)
    {
        var manifest = Path.Combine(repoRoot, ".config", "dotnet-tools.json");
        if (!File.Exists(manifest)) return null;
        return (string?)JsonNode.Parse(File.ReadAllText(manifest))?["tools"]?[tool]?["version"];
    }

    /// <summary>The highest version of the global tool in <c>~/.dotnet/tools/.store</c> (or under <c>DOTNET_CLI_HOME</c>).</summary>
    public static string? InteractiveVersion()
    {
        var home = Environment.GetEnvironmentVariable("DOTNET_CLI_HOME") is { Length: > 0 } h ? h : Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        var store = Path.Combine(home, ".dotnet", "tools", ".store", "microsoft.dotnet-interactive");
        return Directory.Exists(store)
            ? Directory.GetDirectories(store).Select(Path.GetFileName).OfType<string>()
                .OrderBy(v => v, Comparer<string>.Create(PlatformChecks.Compare)).LastOrDefault()
            : null;
    }

    /// <summary>Looks for <c>kernels/.net-csharp/kernel.json</c> where Jupyter keeps user and system kernels.</summary>
    public static bool HasJupyterKernel()
    {
        var home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        var dataHome = Environment.GetEnvironmentVariable("XDG_DATA_HOME") is { Length: > 0 } x ? x : Path.Combine(home, ".local", "share");
        string?[] roots =
        [
            Environment.GetEnvironmentVariable("JUPYTER_DATA_DIR"),
            Path.Combine(dataHome, "jupyter"),
            Path.Combine(home, "Library", "Jupyter"),
            Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.ApplicationData), "jupyter"),
            "/usr/local/share/jupyter",
            "/usr/share/jupyter",
        ];
        return roots.Any(r => !string.IsNullOrEmpty(r) && File.Exists(Path.Combine(r, "kernels", ".net-csharp", "kernel.json")));
    }

    public static IReadOnlyList<DatasetState> Datasets()
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        var hosts = new Dictionary<string, bool>(StringComparer.OrdinalIgnoreCase);   // most datasets share a host: ask each once
        return [.. Data.Datasets.Status().Select(s =>
        {
            var info = Data.Datasets.Get(s.Name);
            var problems = s.IsPresent ? Data.Datasets.Verify(s.Name).Problems.Select(p => p.Path).ToList() : [];
            var source = info.CanDownload ? info.Files.FirstOrDefault(f => f.Url is not null)?.Url : null;
            bool? reachable = s.IsPresent || source is null ? null
                : hosts.TryGetValue(source.Host, out var known) ? known : hosts[source.Host] = Reachable(http, source);
            return new DatasetState(s.Name, s.IsPresent, s.Directory, s.Files, s.Bytes, problems, source, reachable);
        })];
    }

    static bool Reachable(HttpClient http, Uri url)
    {
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Head, url);
            using var response = http.Send(request, HttpCompletionOption.ResponseHeadersRead);
            return true;   // any answer, even an error status, means the host is there
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException or IOException)
        {
            return false;
        }
    }

    public static long? FreeBytes(string path)
    {
        var dir = new DirectoryInfo(path);
        while (!dir.Exists && dir.Parent is not null) dir = dir.Parent;
        try
        {
            return new DriveInfo(dir.FullName).AvailableFreeSpace;
        }
        catch (Exception e) when (e is IOException or ArgumentException or UnauthorizedAccessException)
        {
            return null;
        }
    }
}
