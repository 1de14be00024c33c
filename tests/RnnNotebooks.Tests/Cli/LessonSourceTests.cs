using RnnNotebooks.Cli.Lessons;
using RnnNotebooks.Notebook;

namespace RnnNotebooks.Tests.Cli;

/// <summary>One source per lesson: the committed notebook and app are exactly what the source gives.</summary>
public class LessonSourceTests
{
    static readonly string Root = Course.FindRepoRoot(AppContext.BaseDirectory);

    [Fact]
    public void EveryNotebookAndApp_IsWhatItsSourceGives()
    {
        var generated = LessonBuilder.Generate(Root);
        Assert.Equal(2 * LessonSource.LoadAll(Root).Count, generated.Count);

        var stale = LessonBuilder.Stale(Root);
        Assert.True(stale.Count == 0,
            "Committed files differ from their sources in tools/notebook-sources; run " +
            "'dotnet run --project src/RnnNotebooks.Cli -- notebooks build' and commit the result:\n" +
            string.Join("\n", stale.Select(f => f.RelativePath)));
    }

    [Fact]
    public void App_MovesUsingsToTheTop_TypesToTheEnd_AndProseIntoComments()
    {
        var lesson = LessonSource.Parse("09-demo", """
            %% md
            # Demo
            %% setup
            %% code
            using RnnNotebooks.Text;   // for Vocabulary
            var n = 1;
            record Pair(int A, int B);
            Show(new Pair(n, 2));
            %% code
            using (torch.no_grad()) { Show(n); }
            """, "09-demo.txt");

        var app = AppWriter.Write(lesson, "// notebook only\n#r \"nuget: X, 1.0\"\nusing System.IO;\nvar session = 1;");

        var lines = app.Split('\n');
        Assert.Equal(AppWriter.ProjectDirective, lines[0]);
        var firstCell = Array.IndexOf(lines, "// %% [markdown]");
        Assert.Contains("using System.IO;", lines[..firstCell]);
        Assert.Contains("using RnnNotebooks.Text;   // for Vocabulary", lines[..firstCell]);
        Assert.Equal("// # Demo", lines[firstCell + 1]);
        Assert.DoesNotContain(lines, l => l.StartsWith("#r", StringComparison.Ordinal) || l == "// notebook only");
        Assert.Contains("using (torch.no_grad()) { Show(n); }", lines);
        Assert.True(Array.IndexOf(lines, "record Pair(int A, int B);") > Array.IndexOf(lines, "using (torch.no_grad()) { Show(n); }"));
    }

    [Fact]
    public void Notebook_KeepsCellsAsWritten_AndExpandsTheSetupCell()
    {
        var lesson = LessonSource.Parse("09-demo", "%% md\n# \"Demo\"\n%% setup\n%% code\nusing RnnNotebooks.Text;\nShow(1);\n", "09-demo.txt");

        var json = System.Text.Json.Nodes.JsonNode.Parse(NotebookWriter.Write(lesson, "var session = 1;"))!;

        var cells = json["cells"]!.AsArray();
        Assert.Equal(["markdown", "code", "code"], cells.Select(c => (string?)c!["cell_type"]));
        Assert.Equal("# \"Demo\"", (string?)cells[0]!["source"]![0]);
        Assert.Equal("var session = 1;", (string?)cells[1]!["source"]![0]);
        Assert.Equal(["using RnnNotebooks.Text;\n", "Show(1);"], cells[2]!["source"]!.AsArray().Select(l => (string?)l));
    }

    [Fact]
    public void Parse_UnknownCellKind_NamesTheFileAndLine()
    {
        var e = Assert.Throws<InvalidDataException>(() => LessonSource.Parse("09-demo", "%% md\ntext\n%% python\n", "tools/notebook-sources/09-demo.txt"));
        Assert.Contains("tools/notebook-sources/09-demo.txt:3", e.Message);
        Assert.Contains("'%% python'", e.Message);
    }
}
