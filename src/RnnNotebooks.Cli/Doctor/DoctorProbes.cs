using RnnNotebooks.Platform;

namespace RnnNotebooks.Cli.Doctor;

/// <summary>Everything <see cref="Checkup"/> reads from the machine, one replaceable function per fact, so a test can
/// describe another machine (<c>probes with { Machine = … }</c>) and the checks stay plain functions of the facts.</summary>
public sealed record DoctorProbes
{
    /// <summary>The clone of the course (the folder with <c>RnnNotebooks.sln</c>).</summary>
    public required string RepoRoot { get; init; }

    /// <summary>The NuGet global packages folder.</summary>
    public required string NuGetPackages { get; init; }

    /// <summary>Where downloaded datasets go.</summary>
    public required string DatasetCache { get; init; }

    public required Func<MachineInfo> Machine { get; init; }

    /// <summary>The GNU C library's version, or null where the C library is another (or not Linux).</summary>
    public required Func<string?> Glibc { get; init; }

    /// <summary>The version names the C++ runtime defines (<c>GLIBCXX_3.4.30</c>, …), or null when there is none.</summary>
    public required Func<IReadOnlySet<string>?> LibStdCxxVersions { get; init; }

    /// <summary>What TorchSharp's native library needs from the C and C++ runtimes (empty: the file was not found).</summary>
    public required Func<IReadOnlyList<VersionNeed>> TorchSharpNeeds { get; init; }

    /// <summary>Whether <c>RNN_GLIBCXX_FIX=0</c> turned the course's GLIBCXX fix off.</summary>
    public required bool GlibcxxFixOff { get; init; }

    /// <summary>Loads TorchSharp and computes with a tensor; returns a description, throws when it cannot.</summary>
    public required Func<string> LoadTorch { get; init; }

    public required Func<long> TotalMemory { get; init; }

    /// <summary>The text of <c>tools/setup-cell.csx</c>, or null when it is missing.</summary>
    public required Func<string?> SetupCell { get; init; }

    /// <summary>When a file was last written, or null when it does not exist.</summary>
    public required Func<string, DateTime?> WriteTime { get; init; }

    /// <summary>The newest source file of the library (relative path) and when it changed.</summary>
    public required Func<(string Path, DateTime Changed)?> NewestLibrarySource { get; init; }

    /// <summary>Whether a package version is complete in the NuGet cache (id, version).</summary>
    public required Func<string, string, bool> PackageRestored { get; init; }

    /// <summary>Whether a file can be created in a folder (or, when it does not exist yet, in the folder that would hold it).</summary>
    public required Func<string, bool> CanWrite { get; init; }

    /// <summary>dotnet-repl's version in <c>.config/dotnet-tools.json</c>, or null.</summary>
    public required Func<string?> ReplPinned { get; init; }

    /// <summary>The global <c>Microsoft.dotnet-interactive</c> tool's version, or null.</summary>
    public required Func<string?> InteractiveInstalled { get; init; }

    /// <summary>Whether Jupyter has a <c>.net-csharp</c> kernel.</summary>
    public required Func<bool> JupyterKernel { get; init; }

    /// <summary>Every dataset: present and verified, or where it would come from and whether that answers.</summary>
    public required Func<IReadOnlyList<DatasetState>> Datasets { get; init; }

    /// <summary>Free bytes on the disk that holds a path (null: unknown).</summary>
    public required Func<string, long?> FreeBytes { get; init; }

    /// <summary>Runs notebook 00 headless in quick mode.</summary>
    public required Func<NotebookRun> RunNotebook00 { get; init; }

    /// <summary>The facts of this machine, for the clone at <paramref name="repoRoot"/>; <paramref name="log"/> gets the
    /// notebook run's progress.</summary>
    public static DoctorProbes ForThisMachine(string repoRoot, Action<string> log) => new()
    {
        RepoRoot = repoRoot,
        NuGetPackages = TorchRuntime.NuGetPackagesDirectory,
        DatasetCache = Data.Datasets.CacheDirectory,
        Machine = ThisMachine.Describe,
        Glibc = ThisMachine.GlibcVersion,
        LibStdCxxVersions = ThisMachine.LibStdCxxVersions,
        TorchSharpNeeds = ThisMachine.TorchSharpNeeds,
        GlibcxxFixOff = Environment.GetEnvironmentVariable(TorchRuntime.GlibcxxVariable) == "0",
        LoadTorch = ThisMachine.LoadTorch,
        TotalMemory = () => GC.GetGCMemoryInfo().TotalAvailableMemoryBytes,
        SetupCell = () => ThisMachine.ReadIfExists(Path.Combine(repoRoot, "tools", "setup-cell.csx")),
        WriteTime = path => File.Exists(path) ? File.GetLastWriteTimeUtc(path) : null,
        NewestLibrarySource = () => ThisMachine.NewestSource(repoRoot),
        PackageRestored = (id, version) =>
            File.Exists(Path.Combine(TorchRuntime.NuGetPackagesDirectory, id.ToLowerInvariant(), version.ToLowerInvariant(), ".nupkg.metadata")),
        CanWrite = ThisMachine.CanWrite,
        ReplPinned = () => ThisMachine.PinnedTool(repoRoot, "dotnet-repl"),
        InteractiveInstalled = ThisMachine.InteractiveVersion,
        JupyterKernel = ThisMachine.HasJupyterKernel,
        Datasets = ThisMachine.Datasets,
        FreeBytes = ThisMachine.FreeBytes,
        RunNotebook00 = () => CourseRunner.Run(new CourseRunOptions(repoRoot, Quick: true, Only: ["00"],
            OutputDirectory: Path.Combine(repoRoot, "artifacts", "doctor", "notebooks"), Build: false), log).Notebooks[0],
    };
}
