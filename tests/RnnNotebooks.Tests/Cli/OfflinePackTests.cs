using RnnNotebooks.Cli.Packing;
using RnnNotebooks.Data;
using RnnNotebooks.Notebook;
using RnnNotebooks.Tests.Data;
using RnnNotebooks.Tests.Notebook;

namespace RnnNotebooks.Tests.Cli;

/// <summary>
/// The pack does what it is for: a pack with lesson 00's dataset, built from this machine, runs notebook 00's app in
/// quick mode with the network off (a user and network namespace, <c>unshare -rn</c>) and an empty NuGet cache, so every
/// package comes from the pack's feed. About 4–5 minutes and 3 GB of temporary disk on two cores.
/// </summary>
[Collection("ProcessState")]
public sealed class OfflinePackTests : IDisposable
{
    readonly TempDirectory temp = new();

    public void Dispose() => temp.Dispose();

    const string Unshare = "/usr/bin/unshare";

    /// <summary>What lesson 00's app needs of a clone: the build settings, the library and its data, the app.</summary>
    static readonly string[] CloneParts =
        ["RnnNotebooks.sln", "Directory.Build.props", "Directory.Packages.props", "global.json", ".editorconfig", "src/RnnNotebooks", "data",
         "notebooks/00-getting-started.cs"];

    [Fact]
    [Trait("Category", "Slow")]
    public void Notebook00App_RunsFromAPack_WithTheNetworkOff_AndAnEmptyNuGetCache()
    {
        Assert.SkipUnless(OperatingSystem.IsLinux() && File.Exists(Unshare) && ExternalTools.Run(Unshare, ["-rn", "true"], TimeSpan.FromSeconds(30), temp.Path).ExitCode == 0,
            "needs Linux with util-linux's unshare and user namespaces (`unshare -rn true` must work)");
        RequiredData.Dataset("timemachine");
        var root = Course.FindRepoRoot(AppContext.BaseDirectory);
        var pack = temp.Combine("pack");
        // The app restores what the solution restores; the notebook kernel's extra packages are in the NuGet cache only
        // after a notebook has run on this machine, which a fresh CI machine may not have done yet when this test starts.
        PackBuilder.Build(new PackOptions(pack, "linux-x64", ["timemachine"], RepoRoot: root, FeaturesDirectory: temp.Combine("no-features"),
            NotebookKernelPackages: false));

        var clone = temp.Combine("clone");
        foreach (var part in CloneParts) CopyInto(root, clone, part);
        var cache = temp.Combine("nuget-cache");
        var environment = new Dictionary<string, string?>
        {
            [OfflinePack.Variable] = pack,
            ["NUGET_PACKAGES"] = cache,
            ["XDG_CACHE_HOME"] = temp.Combine("xdg"),
            ["RNN_QUICK"] = "1",
            [Datasets.DataDirVariable] = null,
            ["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1",
            ["DOTNET_NOLOGO"] = "1",
            // No build server may outlive the run: it would hold the output pipes open.
            ["MSBUILDDISABLENODEREUSE"] = "1",
            ["DOTNET_CLI_USE_MSBUILD_SERVER"] = "0",
            ["UseSharedCompilation"] = "false",
        };

        var (code, output) = ExternalTools.Run(Unshare, ["-rn", "dotnet", "run", "notebooks/00-getting-started.cs"], TimeSpan.FromMinutes(25), clone, environment);

        Assert.True(code == 0, $"exit code {code}:\n{Tail(output)}");
        Assert.Matches(@"timemachine\s+True\s.*\sPack\s", output);
        Assert.Contains("learned y =", output);
        Assert.True(Directory.Exists(Path.Combine(cache, "torchsharp", "0.107.0")), "TorchSharp was not restored into the empty cache");
        Assert.DoesNotContain("NU1301", output);
    }

    static void CopyInto(string root, string clone, string part)
    {
        var source = Path.Combine(root, part);
        if (File.Exists(source))
        {
            Directory.CreateDirectory(Path.GetDirectoryName(Path.Combine(clone, part))!);
            File.Copy(source, Path.Combine(clone, part));
            return;
        }
        foreach (var file in Directory.GetFiles(source, "*", SearchOption.AllDirectories))
        {
            var target = Path.Combine(clone, Path.GetRelativePath(root, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }
    }

    static string Tail(string output) => output.Length <= 4000 ? output : "…" + output[^4000..];
}
