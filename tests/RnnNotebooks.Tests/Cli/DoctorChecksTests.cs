using System.Text.Json;
using System.Text.RegularExpressions;
using System.Xml.Linq;
using RnnNotebooks.Cli.Doctor;
using RnnNotebooks.Notebook;
using RnnNotebooks.Platform;

namespace RnnNotebooks.Tests.Cli;

/// <summary>The verdicts of <c>rnn doctor</c>'s checks, and the facts about the repository and its packages they rely on.</summary>
public class DoctorChecksTests
{
    static readonly string Root = Course.FindRepoRoot(AppContext.BaseDirectory);

    static readonly HashSet<string> Gcc12 = ["GLIBCXX_3.4.29", "GLIBCXX_3.4.30", "CXXABI_1.3.13"];

    [Fact]
    public void SupportedPlatforms_AreTheOnesLibtorchCpuDependsOn()
    {
        var nuspec = Path.Combine(TorchRuntime.NuGetPackagesDirectory, "libtorch-cpu", "2.10.0", "libtorch-cpu.nuspec");
        Assert.SkipUnless(File.Exists(nuspec), $"{nuspec} is not restored here.");

        var rids = XDocument.Load(nuspec).Descendants().Where(e => e.Name.LocalName == "dependency")
            .Select(e => ((string)e.Attribute("id")!)["libtorch-cpu-".Length..]).Order(StringComparer.Ordinal);

        Assert.Equal(PlatformChecks.SupportedRids.Order(StringComparer.Ordinal), rids);
    }

    [Fact]
    public void LibStdCxx_WithoutGlibcxx3432_Passes_ThroughTheCoursesWeakCopy_UnlessTheFixIsOff()
    {
        var ok = PlatformChecks.LibStdCxx(Gcc12, PlatformChecks.KnownNeeds, fixOff: false);
        Assert.Equal(CheckStatus.Ok, ok.Status);
        Assert.Contains("marked weak", ok.Message);

        var off = PlatformChecks.LibStdCxx(Gcc12, PlatformChecks.KnownNeeds, fixOff: true);
        Assert.Equal(CheckStatus.Fail, off.Status);
        Assert.Contains($"unset {TorchRuntime.GlibcxxVariable}", off.Fix!);
    }

    [Fact]
    public void LibStdCxx_OfGcc10_Fails_NamingWhatIsMissing()
    {
        HashSet<string> gcc10 = ["GLIBCXX_3.4.28", "CXXABI_1.3.12"];

        var check = PlatformChecks.LibStdCxx(gcc10, PlatformChecks.KnownNeeds, fixOff: false);

        Assert.Equal(CheckStatus.Fail, check.Status);
        Assert.Contains("GLIBCXX_3.4.30", check.Message);
        Assert.Contains("CXXABI_1.3.13", check.Message);
        Assert.DoesNotContain(TorchRuntime.NeededGlibcxx, check.Message);
        Assert.Contains("up to GLIBCXX_3.4.28", check.Message);
    }

    [Fact]
    public void LibStdCxx_WeakNeedsMayBeMissing()
    {
        IReadOnlyList<VersionNeed> needs = [new("libstdc++.so.6", "GLIBCXX_3.4.30", false), new("libstdc++.so.6", "GLIBCXX_3.4.40", true)];

        Assert.Equal(CheckStatus.Ok, PlatformChecks.LibStdCxx(Gcc12, needs, fixOff: true).Status);
    }

    [Theory]
    [InlineData("2.34", CheckStatus.Ok)]
    [InlineData("2.36", CheckStatus.Ok)]
    [InlineData("2.4", CheckStatus.Fail)]
    [InlineData("2.31", CheckStatus.Fail)]
    [InlineData(null, CheckStatus.Fail)]
    public void Glibc_ComparesVersionsNumerically(string? glibc, CheckStatus expected)
    {
        Assert.Equal(expected, PlatformChecks.Glibc(glibc, PlatformChecks.KnownNeeds).Status);
    }

    [Theory]
    [InlineData(1_000_000_000L, CheckStatus.Fail)]
    [InlineData(3_000_000_000L, CheckStatus.Warn)]
    [InlineData(8_000_000_000L, CheckStatus.Ok)]
    public void Memory_FailsUnder2Gb_WarnsUnder4(long bytes, CheckStatus expected)
    {
        Assert.Equal(expected, PlatformChecks.Memory(bytes).Status);
    }

    [Fact]
    public void Disk_FailsWhereLessIsFreeThanStillToCome()
    {
        var check = InstallChecks.Disk([("NuGet packages", "/nuget", 1_000_000_000, InstallChecks.RestoreBytes), ("datasets", "/data", 9_000_000_000, 0)]);

        Assert.Equal(CheckStatus.Fail, check.Status);
        Assert.Contains("/nuget", check.Message);
        Assert.DoesNotContain("/data", check.Message);
    }

    [Fact]
    public void Interactive_OtherVersion_Warns_WithTheCommandThatPinsIt()
    {
        var check = InstallChecks.Interactive("1.0.617701", kernelRegistered: true);

        Assert.Equal(CheckStatus.Warn, check.Status);
        Assert.Contains($"--version {InstallChecks.InteractiveVersion}", check.Fix!);
    }

    [Fact]
    public void SetupCell_References_AreReadFromTheCommittedCell()
    {
        var cell = SetupCellReferences.Parse(File.ReadAllText(Path.Combine(Root, "tools", "setup-cell.csx")));

        Assert.Contains(("TorchSharp-cpu", "0.107.0"), cell.Packages);
        Assert.Equal(["../artifacts/bin/RnnNotebooks/debug/RnnNotebooks.dll"], cell.Assemblies);
    }

    [Fact]
    public void Devcontainer_InstallsTheKernelVersionDoctorExpects()
    {
        var script = File.ReadAllText(Path.Combine(Root, ".devcontainer", "post-create.sh"));

        Assert.Contains($"Microsoft.dotnet-interactive --version {InstallChecks.InteractiveVersion}", script);
        Assert.Contains("dotnet interactive jupyter install", script);
    }

    [Fact]
    public void Devcontainer_PinsEveryExtensionsVersion_AndRunsAsLinuxAmd64()
    {
        var path = Path.Combine(Root, ".devcontainer", "devcontainer.json");
        using var json = JsonDocument.Parse(File.ReadAllText(path),
            new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
        var extensions = json.RootElement.GetProperty("customizations").GetProperty("vscode").GetProperty("extensions")
            .EnumerateArray().Select(e => e.GetString()!).ToList();

        Assert.NotEmpty(extensions);
        Assert.All(extensions, e => Assert.Matches(new Regex(@"^[\w-]+\.[\w-]+@\d+\.\d+\.\d+$"), e));
        var runArgs = json.RootElement.GetProperty("runArgs").EnumerateArray().Select(a => a.GetString()).ToList();
        Assert.Contains("--platform=linux/amd64", runArgs);
    }
}
