using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using System.Xml.Linq;
using RnnNotebooks.Cli;
using RnnNotebooks.Notebook;

namespace RnnNotebooks.Tests.Notebook;

/// <summary>The committed notebooks: clean, with the shared setup cell and versions that match the build.</summary>
public partial class NotebookFileTests
{
    static readonly string Root = Course.FindRepoRoot(AppContext.BaseDirectory);

    public static TheoryData<string> Notebooks() =>
        new(CourseRunner.Discover(Root).Select(p => Path.GetFileName(p)));

    static JsonNode Load(string file) => JsonNode.Parse(File.ReadAllText(Path.Combine(Root, "notebooks", file)))!;

    static string Source(JsonNode? cell) =>
        cell?["source"] is JsonArray lines ? string.Concat(lines.Select(l => (string?)l)) : (string?)cell?["source"] ?? "";

    [Theory]
    [MemberData(nameof(Notebooks))]
    public void Notebook_IsCommittedWithoutOutputs(string file)
    {
        foreach (var cell in Load(file)["cells"]!.AsArray().Where(c => (string?)c!["cell_type"] == "code"))
        {
            Assert.Empty(cell!["outputs"]!.AsArray());
            Assert.Null(cell["execution_count"]?.GetValue<int?>());
        }
    }

    [Theory]
    [MemberData(nameof(Notebooks))]
    public void Notebook_HasMetadataThatVsCodeJupyterAndDotnetReplAccept(string file)
    {
        var nb = Load(file);
        Assert.Equal(".net-csharp", (string?)nb["metadata"]!["kernelspec"]!["name"]);
        Assert.Equal("polyglot-notebook", (string?)nb["metadata"]!["language_info"]!["name"]);
        Assert.All(nb["cells"]!.AsArray().Where(c => (string?)c!["cell_type"] == "code"),
            c => Assert.Equal("csharp", (string?)c!["metadata"]!["polyglot_notebook"]!["kernelName"]));
    }

    [Theory]
    [MemberData(nameof(Notebooks))]
    public void Notebook_OpensWithTheSharedSetupCell(string file)
    {
        var firstCode = Load(file)["cells"]!.AsArray().First(c => (string?)c!["cell_type"] == "code");
        var expected = File.ReadAllText(Path.Combine(Root, "tools", "setup-cell.csx")).Trim();
        Assert.Equal(expected.ReplaceLineEndings("\n"), Source(firstCode).Trim().ReplaceLineEndings("\n"));
    }

    [Fact]
    public void SetupCell_PinsTheSameVersionsAsDirectoryPackagesProps()
    {
        var pinned = XDocument.Load(Path.Combine(Root, "Directory.Packages.props"))
            .Descendants("PackageVersion")
            .ToDictionary(e => (string)e.Attribute("Include")!, e => (string)e.Attribute("Version")!, StringComparer.OrdinalIgnoreCase);
        var setup = File.ReadAllText(Path.Combine(Root, "tools", "setup-cell.csx"));

        var references = NuGetReference().Matches(setup);
        Assert.NotEmpty(references);
        foreach (Match m in references)
        {
            var (package, version) = (m.Groups[1].Value, m.Groups[2].Value);
            Assert.True(pinned.TryGetValue(package, out var expected), $"{package} is loaded by notebooks but not pinned in Directory.Packages.props");
            Assert.Equal(expected, version);
        }
    }

    [GeneratedRegex(@"#r ""nuget: *([^,""]+), *([^""]+)""")]
    private static partial Regex NuGetReference();
}
