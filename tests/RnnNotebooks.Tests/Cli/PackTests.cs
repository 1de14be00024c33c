using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using RnnNotebooks.Captioning;
using RnnNotebooks.Cli.Packing;
using RnnNotebooks.Data;
using RnnNotebooks.Tests.Data;
using RnnNotebooks.Vision;

namespace RnnNotebooks.Tests.Cli;

/// <summary>
/// <c>rnn pack</c> on a made-up clone and packages folder: which packages it takes, the layout, the checksums, refusing
/// a folder in use. They run in the ProcessState collection: packing locates datasets, which reads RNN_DATA_DIR and RNN_PACK.
/// </summary>
[Collection("ProcessState")]
public sealed class PackTests : IDisposable
{
    readonly TempDirectory temp = new();
    readonly EnvironmentVariableScope noPack = new(OfflinePack.Variable, null);

    public void Dispose()
    {
        noPack.Dispose();
        temp.Dispose();
    }

    string Packages => temp.Combine("packages");

    /// <summary>A package in the fake global packages folder: a .nupkg of made-up bytes, NuGet's SHA-512 record, a .nuspec.</summary>
    void AddPackage(string id, string version, string dependencies = "")
    {
        var folder = Path.Combine(Packages, id.ToLowerInvariant(), version.ToLowerInvariant());
        Directory.CreateDirectory(folder);
        var bytes = Encoding.UTF8.GetBytes($"package {id} {version}");
        var nupkg = Path.Combine(folder, $"{id.ToLowerInvariant()}.{version.ToLowerInvariant()}.nupkg");
        File.WriteAllBytes(nupkg, bytes);
        File.WriteAllText(nupkg + ".sha512", Convert.ToBase64String(SHA512.HashData(bytes)));
        File.WriteAllText(Path.Combine(folder, id.ToLowerInvariant() + ".nuspec"), $"""
            <?xml version="1.0" encoding="utf-8"?>
            <package xmlns="http://schemas.microsoft.com/packaging/2013/05/nuspec.xsd">
              <metadata><id>{id}</id><version>{version}</version><dependencies>{dependencies}</dependencies></metadata>
            </package>
            """);
    }

    /// <summary>A clone with one restored project using <paramref name="packages"/>, a tool manifest, and a setup cell
    /// whose notebook packages are <paramref name="notebookPackages"/>.</summary>
    string Clone(IEnumerable<(string Id, string Version)> packages, IEnumerable<(string Id, string Version)> notebookPackages)
    {
        var root = temp.Combine("clone");
        Directory.CreateDirectory(Path.Combine(root, "src", "Lib"));
        File.WriteAllText(Path.Combine(root, "RnnNotebooks.sln"),
            "Project(\"{FAE04EC0-301F-11D3-BF4B-00C04F79EFBC}\") = \"Lib\", \"src\\Lib\\Lib.csproj\", \"{60E18A69-7272-457A-B65B-1E0E41747240}\"\nEndProject\n");
        var assets = new
        {
            version = 3,
            libraries = packages.ToDictionary(p => $"{p.Id}/{p.Version}", p => (object)new { type = "package", path = $"{p.Id.ToLowerInvariant()}/{p.Version}" }),
            packageFolders = new Dictionary<string, object> { [Packages + "/"] = new { } },
        };
        Directory.CreateDirectory(Path.Combine(root, "artifacts", "obj", "Lib"));
        File.WriteAllText(Path.Combine(root, "artifacts", "obj", "Lib", "project.assets.json"), JsonSerializer.Serialize(assets));
        Directory.CreateDirectory(Path.Combine(root, ".config"));
        File.WriteAllText(Path.Combine(root, ".config", "dotnet-tools.json"),
            """{ "version": 1, "isRoot": true, "tools": { "dotnet-repl": { "version": "0.3.259", "commands": ["dotnet-repl"] } } }""");
        AddPackage("dotnet-repl", "0.3.259");
        Directory.CreateDirectory(Path.Combine(root, "tools"));
        File.WriteAllText(Path.Combine(root, "tools", "setup-cell.csx"),
            string.Concat(notebookPackages.Select(p => $"#r \"nuget: {p.Id}, {p.Version}\"\n")) + "#r \"../artifacts/bin/Lib.dll\"\n");
        return root;
    }

    string StandardClone()
    {
        AddPackage("TorchSharp-cpu", "0.107.0", """<group targetFramework="net8.0"><dependency id="libtorch-cpu-linux-x64" version="2.10.0" /></group>""");
        AddPackage("libtorch-cpu-linux-x64", "2.10.0");
        AddPackage("Plotly.NET", "6.0.0");
        return Clone([("TorchSharp-cpu", "0.107.0"), ("libtorch-cpu-linux-x64", "2.10.0")], [("Plotly.NET", "6.0.0")]);
    }

    PackOptions Options(string root, string target, IReadOnlyList<string>? datasets = null, bool force = false, string os = "linux-x64") =>
        new(target, os, datasets ?? [], force, root, Packages, ToolStore: temp.Combine("no-tool-store"), FeaturesDirectory: temp.Combine("features"));

    static Dictionary<string, string> Sums(string pack) =>
        File.ReadAllLines(Path.Combine(pack, OfflinePack.ChecksumsFile)).Select(l => l.Split("  ", 2)).ToDictionary(p => p[1], p => p[0]);

    [Fact]
    public void Build_WritesFeedConfigReadmeAndChecksums_OfEveryFile()
    {
        var root = StandardClone();
        var target = temp.Combine("pack");

        var result = PackBuilder.Build(Options(root, target));

        Assert.Equal(
            ["dotnet-repl.0.3.259.nupkg", "libtorch-cpu-linux-x64.2.10.0.nupkg", "plotly.net.6.0.0.nupkg", "torchsharp-cpu.0.107.0.nupkg"],
            Directory.GetFiles(Path.Combine(target, OfflinePack.NuGetFolder)).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        var files = Directory.GetFiles(target, "*", SearchOption.AllDirectories)
            .Select(f => Path.GetRelativePath(target, f).Replace('\\', '/')).Where(f => f != OfflinePack.ChecksumsFile).Order(StringComparer.Ordinal);
        var sums = Sums(target);
        Assert.Equal(files, sums.Keys.Order(StringComparer.Ordinal));
        foreach (var (file, sha) in sums)
            Assert.Equal(sha, Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(Path.Combine(target, file)))));
        Assert.Contains("<clear />", File.ReadAllText(Path.Combine(target, "nuget.config")));
        Assert.Contains("export RNN_PACK=", File.ReadAllText(Path.Combine(target, "README.txt")));
        Assert.Equal("linux-x64", JsonDocument.Parse(File.ReadAllText(Path.Combine(target, OfflinePack.InfoFile))).RootElement.GetProperty("os").GetString());
        Assert.Equal((3, 1), (result.Packages.Count, result.Tools.Count));
        Assert.Empty(Directory.GetDirectories(temp.Path, ".pack.*"));
    }

    [Fact]
    public void Build_WithADataset_CopiesItUnderDatasets_AndRnnPackFindsItThere()
    {
        var location = RequiredData.Dataset("timemachine");
        var target = temp.Combine("pack");

        PackBuilder.Build(Options(StandardClone(), target, datasets: ["timemachine"]));

        var copy = Path.Combine(target, OfflinePack.DatasetsFolder, "timemachine", "timemachine.txt");
        Assert.Equal(File.ReadAllBytes(location.PathOf("timemachine.txt")), File.ReadAllBytes(copy));
        Assert.Contains("datasets/timemachine/timemachine.txt", Sums(target).Keys);
        using var pack = new EnvironmentVariableScope(OfflinePack.Variable, target);
        using var noDataDir = new EnvironmentVariableScope(Datasets.DataDirVariable, null);
        var found = Datasets.Locate("timemachine");
        Assert.Equal((LocationKind.Pack, Path.GetDirectoryName(copy)!, true), (found.Kind, found.Directory, found.IsPresent));
        Assert.True(Datasets.Verify("timemachine").IsValid);
    }

    [Fact]
    public void Build_ForWindows_WritesPowerShellInstructions()
    {
        AddPackage("libtorch-cpu-win-x64", "2.10.0");
        var root = Clone([("libtorch-cpu-win-x64", "2.10.0")], []);
        var target = temp.Combine("pack");

        PackBuilder.Build(Options(root, target, os: "win-x64"));

        var readme = File.ReadAllText(Path.Combine(target, "README.txt"));
        Assert.Contains("$env:RNN_PACK", readme);
        Assert.Contains("\r\n", readme);
    }

    [Fact]
    public void Build_WithoutTheChosenSystemsLibtorch_FailsNamingIt()
    {
        var root = StandardClone();

        var error = Assert.Throws<IOException>(() => PackBuilder.Build(Options(root, temp.Combine("pack"), os: "osx-arm64")));

        Assert.Contains("libtorch-cpu-osx-arm64", error.Message);
        Assert.False(Directory.Exists(temp.Combine("pack")));
    }

    [Fact]
    public void Build_PackageMissingFromTheCache_FailsNamingIt_AndWritesNothing()
    {
        var root = StandardClone();
        Directory.Delete(Path.Combine(Packages, "plotly.net"), recursive: true);

        var error = Assert.Throws<IOException>(() => PackBuilder.Build(Options(root, temp.Combine("pack"))));

        Assert.Contains("Plotly.NET 6.0.0", error.Message);
        Assert.Contains("nothing was written", error.Message);
        Assert.False(Directory.Exists(temp.Combine("pack")));
    }

    [Fact]
    public void Build_DamagedPackage_FailsAgainstNuGetsSha512_AndLeavesNoTempFolder()
    {
        var root = StandardClone();
        File.AppendAllText(Path.Combine(Packages, "plotly.net", "6.0.0", "plotly.net.6.0.0.nupkg"), "!");

        var error = Assert.Throws<InvalidDataException>(() => PackBuilder.Build(Options(root, temp.Combine("pack"))));

        Assert.Contains("plotly.net.6.0.0.nupkg", error.Message);
        Assert.Contains("SHA-512", error.Message);
        Assert.False(Directory.Exists(temp.Combine("pack")));
        Assert.Empty(Directory.GetDirectories(temp.Path, ".pack.*"));
    }

    [Fact]
    public void Build_RemovesTheTempFolderOfAKilledPack_ButNotALiveOnes_OrAnotherTargets()
    {
        // A pack killed while copying (Ctrl-C twice, SIGKILL) leaves .TARGET.PID.GUID.tmp/ beside the target.
        var root = StandardClone();
        using var live = TestProcesses.Live();
        try
        {
            string Leftover(string target, int pid)
            {
                var folder = TestProcesses.TempName(temp.Combine(target), pid);
                Directory.CreateDirectory(Path.Combine(folder, "nuget"));
                File.WriteAllText(Path.Combine(folder, "nuget", "half.nupkg"), "half a copy");
                return folder;
            }
            var dead = Leftover(".pack", TestProcesses.EndedId());
            var fresh = Leftover(".pack", live.Id);
            var other = Leftover(".other-pack", TestProcesses.EndedId());

            PackBuilder.Build(Options(root, temp.Combine("pack")));

            Assert.False(Directory.Exists(dead), "the temp folder of an ended pack");
            Assert.True(Directory.Exists(fresh), "a live pack's temp folder must be kept");
            Assert.True(Directory.Exists(other), "only this target's temp names are touched");
            Assert.Equal(2, Directory.GetDirectories(temp.Path, ".*.tmp").Length);
        }
        finally
        {
            live.Kill();
            live.WaitForExit();
        }
    }

    [Fact]
    public void Build_NonEmptyTarget_IsRefused_ThenReplacedWithForce()
    {
        var root = StandardClone();
        var target = temp.Combine("pack");
        Directory.CreateDirectory(target);
        File.WriteAllText(Path.Combine(target, "notes.txt"), "a teacher's file");

        var error = Assert.Throws<IOException>(() => PackBuilder.Build(Options(root, target)));
        Assert.Contains("--force", error.Message);
        Assert.True(File.Exists(Path.Combine(target, "notes.txt")));

        PackBuilder.Build(Options(root, target, force: true));
        Assert.False(File.Exists(Path.Combine(target, "notes.txt")));
        Assert.True(File.Exists(Path.Combine(target, OfflinePack.ChecksumsFile)));
    }

    [Fact]
    public void Build_Force_NeverReplacesTheClone()
    {
        var root = StandardClone();

        var error = Assert.Throws<IOException>(() => PackBuilder.Build(Options(root, temp.Path, force: true)));

        Assert.Contains("clone", error.Message);
        Assert.True(File.Exists(Path.Combine(root, "RnnNotebooks.sln")));
    }

    [Fact]
    public void Closure_TakesTheLowestCachedVersionInRange_TheNearestFrameworkGroup_AndPrunesFrameworkPackages()
    {
        AddPackage("A", "1.0.0", """
            <group targetFramework=".NETStandard2.0"><dependency id="B" version="1.0.0" /><dependency id="System.Memory" version="4.5.5" /></group>
            <group targetFramework="net8.0"><dependency id="B" version="[1.5.0, 3.0.0)" /><dependency id="System.Memory" version="4.5.5" /></group>
            <group targetFramework="net11.0"><dependency id="Future" version="1.0.0" /></group>
            """);
        foreach (var v in new[] { "1.0.0", "1.5.0-beta.2", "1.5.0", "2.0.0", "3.0.0" }) AddPackage("B", v);

        var (packages, missing) = NuGetPackages.Closure([new PackageId("A", "1.0.0")], Packages,
            new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase) { ["System.Memory"] = "5.0.0" });

        Assert.Equal(["A 1.0.0", "B 1.5.0"], packages.Select(p => p.ToString()).Order(StringComparer.Ordinal));
        Assert.Empty(missing);
    }

    [Fact]
    public void Closure_DependencyNotInTheCache_IsReportedWithWhoNeedsIt()
    {
        AddPackage("A", "1.0.0", """<dependency id="Gone" version="2.0.0" />""");

        var (_, missing) = NuGetPackages.Closure([new PackageId("A", "1.0.0")], Packages);

        Assert.Equal(["Gone 2.0.0 (needed by A 1.0.0)"], missing);
    }

    [Theory]
    [InlineData("#r \"nuget: TorchSharp-cpu, 0.107.0\"")]
    [InlineData("\"#r \\\"nuget: TorchSharp-cpu, 0.107.0\\\"\\n\",")]
    public void NotebookReferences_ReadsNuGetDirectives_InSourcesAndNotebookJson(string line) =>
        Assert.Equal([new PackageId("TorchSharp-cpu", "0.107.0")], NuGetPackages.NotebookReferences($"using X;\n{line}\n#r \"lib.dll\""));

    [Fact]
    public void ReadAssets_ListsOnlyPackages_AndTheFolderTheRestoreUsed()
    {
        var path = temp.Combine("project.assets.json");
        File.WriteAllText(path, """
            { "libraries": { "A/1.0.0": { "type": "package" }, "Lib/1.0.0": { "type": "project" } },
              "packageFolders": { "/home/x/.nuget/packages/": {} } }
            """);

        var (packages, folder) = NuGetPackages.ReadAssets(path);

        Assert.Equal([new PackageId("A", "1.0.0")], packages);
        Assert.Equal("/home/x/.nuget/packages/", folder);
    }

    [Fact]
    public void Command_UnknownDataset_IsAUsageErrorNamingTheOption()
    {
        var (code, _, err) = CliRun.Invoke("pack", temp.Combine("pack"), "--datasets", "timemachine,nope");

        Assert.Equal(2, code);
        Assert.Contains("--datasets nope", err);
        Assert.False(Directory.Exists(temp.Combine("pack")));
    }

    [Fact]
    public void CaptionFeatures_NotInTheClonesCache_AreReadFromThePack_WithoutEncodingAnImage()
    {
        using var encoder = new ResNet18Encoder(threads: 1);
        var name = "pack-test-" + Guid.NewGuid().ToString("N")[..8];
        string[] images = ["a.jpg", "b.jpg"];
        var packed = temp.Combine("pack", OfflinePack.FeaturesFolder, name + ".features");
        FeatureCache.LoadOrBuild(packed, encoder.Fingerprint, images, image => Enumerable.Repeat(image == "a.jpg" ? 1f : 2f, 49 * 512).ToArray());
        using var pack = new EnvironmentVariableScope(OfflinePack.Variable, temp.Combine("pack"));

        var features = CaptionFeatures.LoadOrBuild(temp.Combine("no-photos-here"), images, name);

        Assert.Equal(images, features.Images);
        Assert.False(File.Exists(Path.Combine(FeatureCache.DefaultDirectory, name + ".features")));
    }

    [Fact]
    public void RnnPackPointingNowhere_IsADatasetErrorNamingTheVariable()
    {
        using var pack = new EnvironmentVariableScope(OfflinePack.Variable, temp.Combine("not-there"));

        var error = Assert.Throws<DatasetException>(() => Datasets.Locate("timemachine"));

        Assert.Contains("RNN_PACK", error.Message);
    }

    [Fact]
    public void DataDirVariable_WinsOverThePack()
    {
        var fixture = FixtureDataset.Create();
        var envDir = fixture.WriteTo(temp.Combine("env"));
        fixture.WriteTo(temp.Combine("pack", OfflinePack.DatasetsFolder));
        using var dataDir = new EnvironmentVariableScope(Datasets.DataDirVariable, temp.Combine("env"));
        using var pack = new EnvironmentVariableScope(OfflinePack.Variable, temp.Combine("pack"));

        var location = Datasets.Locate(fixture.Info, new DatasetOptions(SearchFrom: temp.Path, SearchRoot: temp.Path, CacheDirectory: temp.Combine("cache")));

        Assert.Equal((LocationKind.EnvironmentVariable, envDir), (location.Kind, location.Directory));
        Directory.Delete(envDir, recursive: true);
        var fromPack = Datasets.Locate(fixture.Info, new DatasetOptions(SearchFrom: temp.Path, SearchRoot: temp.Path, CacheDirectory: temp.Combine("cache")));
        Assert.Equal((LocationKind.Pack, true), (fromPack.Kind, fromPack.IsPresent));
    }
}
