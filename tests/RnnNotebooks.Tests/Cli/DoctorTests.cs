using System.Runtime.InteropServices;
using RnnNotebooks.Cli;
using RnnNotebooks.Cli.Doctor;
using RnnNotebooks.Notebook;
using RnnNotebooks.Platform;

namespace RnnNotebooks.Tests.Cli;

/// <summary><c>rnn doctor</c> on this machine, and on machines described by replacing one fact of a healthy one: the
/// failed check is named, with its fix, and the exit code is 1.</summary>
[Collection("ProcessState")]
public class DoctorTests
{
    static readonly string Root = Course.FindRepoRoot(AppContext.BaseDirectory);

    static DatasetState Good(string name) => new(name, true, $"/data/{name}", 3, 1_000_000, [], new Uri($"https://example.org/{name}/a.txt"), null);

    /// <summary>A machine on which every check passes; each test changes one fact.</summary>
    static DoctorProbes Healthy() => new()
    {
        RepoRoot = Root,
        NuGetPackages = "/home/student/.nuget/packages",
        DatasetCache = "/home/student/.cache/rnn-notebooks/datasets",
        Machine = () => new("linux", Architecture.X64, Architecture.X64),
        Glibc = () => "2.39",
        LibStdCxxVersions = () => new HashSet<string> { "GLIBCXX_3.4.29", "GLIBCXX_3.4.30", "GLIBCXX_3.4.32", "CXXABI_1.3.13" },
        TorchSharpNeeds = () => PlatformChecks.KnownNeeds,
        GlibcxxFixOff = false,
        LoadTorch = () => "TorchSharp computes here.",
        TotalMemory = () => 16_000_000_000,
        SetupCell = () => "#r \"nuget: TorchSharp-cpu, 0.107.0\"\n#r \"../artifacts/bin/RnnNotebooks/debug/RnnNotebooks.dll\"\n",
        WriteTime = _ => new DateTime(2026, 1, 2, 0, 0, 0, DateTimeKind.Utc),
        NewestLibrarySource = () => ("src/RnnNotebooks/Models/ScratchRnn.cs", new DateTime(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc)),
        PackageRestored = (_, _) => true,
        CanWrite = _ => true,
        ReplPinned = () => "0.3.259",
        InteractiveInstalled = () => InstallChecks.InteractiveVersion,
        JupyterKernel = () => true,
        Datasets = () => [Good("timemachine"), Good("fsdd")],
        FreeBytes = _ => 50_000_000_000,
        RunNotebook00 = () => new NotebookRun("00-getting-started", true, TimeSpan.FromSeconds(12), [], [], "out.ipynb", "out.log", 0),
    };

    static (int Code, string Output) Doctor(DoctorProbes probes, bool runNotebook = true)
    {
        var output = new StringWriter();
        var code = DoctorCommand.Run(probes, runNotebook, output);
        return (code, output.ToString());
    }

    static string Line(string output, string check) =>
        output.Split('\n').SingleOrDefault(l => l.Length > 6 && l[6..].StartsWith(check + " ", StringComparison.Ordinal))
            ?? throw new Xunit.Sdk.XunitException($"no line for the check '{check}' in:\n{output}");

    [Fact]
    public void Doctor_NoRun_ExitsZeroOnThisMachine()
    {
        var (code, output, error) = CliRun.Invoke("doctor", "--no-run");

        Assert.True(code == 0, $"rnn doctor --no-run exited with {code}:\n{output}{error}");
        foreach (var check in new[] { "platform", "torch", "library", "NuGet cache", "dotnet-repl", "disk" })
            Assert.StartsWith("ok ", Line(output, check));
        Assert.StartsWith("skip ", Line(output, "notebook 00"));
        Assert.Contains("0 failed", output);
    }

    [Fact]
    public void Env_IsDoctorWithoutTheNotebookRun()
    {
        var (code, output, error) = CliRun.Invoke("env");

        Assert.True(code == 0, $"rnn env exited with {code}:\n{output}{error}");
        Assert.StartsWith("ok ", Line(output, "platform"));
        Assert.Contains("not run (--no-run)", Line(output, "notebook 00"));
    }

    [Fact]
    [Trait("Category", "Slow")]
    public void Doctor_RunsNotebook00_AndExitsZeroOnThisMachine()
    {
        var (code, output, error) = CliRun.Invoke("doctor");

        Assert.True(code == 0, $"rnn doctor exited with {code}:\n{output}{error}");
        Assert.StartsWith("ok ", Line(output, "notebook 00"));
    }

    [Fact]
    public void HealthyMachine_PassesEveryCheck()
    {
        var (code, output) = Doctor(Healthy());

        Assert.Equal(0, code);
        Assert.DoesNotContain("\nwarn", output);
        Assert.DoesNotContain("\nFAIL", output);
        Assert.StartsWith("ok ", Line(output, "notebook 00"));
    }

    [Theory]
    [InlineData("linux", Architecture.Arm64, Architecture.Arm64, "linux-arm64", "devcontainer")]
    [InlineData("osx", Architecture.X64, Architecture.X64, "osx-x64", "Apple silicon")]
    [InlineData("osx", Architecture.X64, Architecture.Arm64, "Rosetta", "Arm64 (Apple silicon) .NET SDK")]
    [InlineData("win", Architecture.Arm64, Architecture.Arm64, "win-arm64", "x64 machine")]
    public void UnsupportedPlatform_Fails_NamingItAndTheFix_WithoutLoadingTorch(string os, Architecture process, Architecture hardware, string found, string fix)
    {
        var probes = Healthy() with
        {
            Machine = () => new(os, process, hardware),
            LoadTorch = () => throw new InvalidOperationException("TorchSharp must not be loaded on an unsupported platform."),
            RunNotebook00 = () => throw new InvalidOperationException("notebook 00 must not run after a failed check."),
        };

        var (code, output) = Doctor(probes);

        Assert.Equal(1, code);
        var line = Line(output, "platform");
        Assert.StartsWith("FAIL ", line);
        Assert.Contains(found, line);
        Assert.Contains("Fix: " , line);
        Assert.Contains(fix, line[line.IndexOf("Fix:", StringComparison.Ordinal)..]);
        Assert.StartsWith("skip ", Line(output, "torch"));
        Assert.StartsWith("skip ", Line(output, "notebook 00"));
        Assert.Contains("cannot run", output);
    }

    [Fact]
    public void LibraryNotBuilt_Fails_SayingWhereTheNotebooksLookAndHowToBuildIt()
    {
        var (code, output) = Doctor(Healthy() with { WriteTime = _ => null });

        Assert.Equal(1, code);
        var line = Line(output, "library");
        Assert.StartsWith("FAIL ", line);
        Assert.Contains("artifacts/bin/RnnNotebooks/debug/RnnNotebooks.dll", line);
        Assert.Contains("Fix: dotnet build src/RnnNotebooks", line);
    }

    [Fact]
    public void LibraryOlderThanItsSources_OnlyWarns()
    {
        var (code, output) = Doctor(Healthy() with { WriteTime = _ => new DateTime(2025, 1, 1, 0, 0, 0, DateTimeKind.Utc) });

        Assert.Equal(0, code);
        Assert.StartsWith("warn ", Line(output, "library"));
        Assert.Contains("ScratchRnn.cs", Line(output, "library"));
    }

    [Fact]
    public void MissingDataset_ThatCannotBeDownloaded_Fails_NamingItAndTheFix()
    {
        var missing = new DatasetState("fsdd", false, "/home/student/.cache/rnn-notebooks/datasets/fsdd", 2501, 22_000_000, [],
            new Uri("https://raw.githubusercontent.com/x/y/recordings/0_george_0.wav"), Reachable: false);

        var (code, output) = Doctor(Healthy() with { Datasets = () => [Good("timemachine"), missing] });

        Assert.Equal(1, code);
        var line = Line(output, "dataset fsdd");
        Assert.StartsWith("FAIL ", line);
        Assert.Contains("raw.githubusercontent.com cannot be reached", line);
        Assert.Contains("Fix: rnn data fetch fsdd", line);
        Assert.Contains(RnnNotebooks.Data.Datasets.DataDirVariable, line);
        Assert.StartsWith("ok ", Line(output, "dataset timemachine"));
    }

    [Fact]
    public void MissingDataset_ThatCanBeDownloaded_OnlyWarns()
    {
        var missing = new DatasetState("fsdd", false, "/cache/fsdd", 2501, 22_000_000, [], new Uri("https://example.org/fsdd/a.wav"), Reachable: true);

        var (code, output) = Doctor(Healthy() with { Datasets = () => [missing] });

        Assert.Equal(0, code);
        Assert.StartsWith("warn ", Line(output, "dataset fsdd"));
        Assert.Contains("rnn data fetch fsdd", Line(output, "dataset fsdd"));
    }

    [Fact]
    public void DatasetFailingItsChecksum_Fails()
    {
        var corrupt = Good("timemachine") with { Problems = ["timemachine.txt"] };

        var (code, output) = Doctor(Healthy() with { Datasets = () => [corrupt] });

        Assert.Equal(1, code);
        Assert.StartsWith("FAIL ", Line(output, "dataset timemachine"));
        Assert.Contains("timemachine.txt", Line(output, "dataset timemachine"));
    }

    [Fact]
    public void FailedNotebookRun_Fails_PointingAtItsLog()
    {
        var failed = new NotebookRun("00-getting-started", false, TimeSpan.FromSeconds(9), [], ["cell 3: DllNotFoundException: libtorch"],
            "out.ipynb", "/tmp/00-getting-started.log", 2);

        var (code, output) = Doctor(Healthy() with { RunNotebook00 = () => failed });

        Assert.Equal(1, code);
        Assert.Contains("DllNotFoundException", Line(output, "notebook 00"));
        Assert.Contains("/tmp/00-getting-started.log", Line(output, "notebook 00"));
    }

    [Fact]
    public void ReadOnlyNuGetCache_FailsOnlyWhenPackagesAreMissing()
    {
        var readOnly = Healthy() with { CanWrite = _ => false };
        Assert.Equal(0, Doctor(readOnly).Code);

        var (code, output) = Doctor(readOnly with { PackageRestored = (id, _) => id != "TorchSharp-cpu" });

        Assert.Equal(1, code);
        Assert.Contains("TorchSharp-cpu 0.107.0", Line(output, "NuGet cache"));
        Assert.Contains("NUGET_PACKAGES", Line(output, "NuGet cache"));
    }

    [Fact]
    public void OldGlibc_Fails_NamingTheVersionTorchSharpNeeds()
    {
        var (code, output) = Doctor(Healthy() with { Glibc = () => "2.31" });

        Assert.Equal(1, code);
        Assert.Contains("GLIBC_2.34", Line(output, "glibc"));
        Assert.StartsWith("skip ", Line(output, "torch"));
    }
}
