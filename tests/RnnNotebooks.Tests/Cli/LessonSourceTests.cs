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

    const string Exercise = """
        %% md
        # Demo
        %% setup
        %% code
        int MyDouble(int x)
        {
            throw new NotImplementedException(); // TODO: twice x
        }
        Check(MyDouble);
        %% solution
        int MyDouble(int x)
        {
            return 2 * x;
        }
        Check(MyDouble);
        %% md
        The end.
        """;

    [Fact]
    public void Parse_SolutionCell_BelongsToTheExerciseBeforeIt()
    {
        var lesson = LessonSource.Parse("09-demo", Exercise, "09-demo.txt");

        Assert.Equal([CellKind.Markdown, CellKind.Setup, CellKind.Code, CellKind.Markdown], lesson.Cells.Select(c => c.Kind));
        Assert.Contains("// TODO: twice x", lesson.Cells[2].Text);
        Assert.Contains("return 2 * x;", lesson.Cells[2].Solution);
        Assert.Empty(lesson.MissingSolutions);
    }

    [Fact]
    public void StudentEdition_LeavesSolutionsOut_InstructorEdition_PutsThemInPlaceOfTheStubs()
    {
        var lesson = LessonSource.Parse("09-demo", Exercise, "09-demo.txt");
        var withoutSolution = LessonSource.Parse("09-demo", Exercise[..Exercise.IndexOf("%% solution", StringComparison.Ordinal)] + "%% md\nThe end.", "09-demo.txt");
        Assert.Single(withoutSolution.MissingSolutions);

        Assert.Equal(NotebookWriter.Write(withoutSolution, "var session = 1;"), NotebookWriter.Write(lesson, "var session = 1;"));
        Assert.Equal(AppWriter.Write(withoutSolution, "var session = 1;"), AppWriter.Write(lesson, "var session = 1;"));
        Assert.DoesNotContain("2 * x", NotebookWriter.Write(lesson, "var session = 1;"));

        var instructor = lesson.WithSolutions();
        Assert.Equal(lesson.Cells.Count, instructor.Cells.Count);
        Assert.Contains("return 2 * x;", NotebookWriter.Write(instructor, "var session = 1;"));
        Assert.DoesNotContain("TODO", NotebookWriter.Write(instructor, "var session = 1;"));
        var app = AppWriter.Write(instructor, "var session = 1;", instructorRoot: "../repo");
        Assert.StartsWith("#:project ../repo/src/RnnNotebooks/RnnNotebooks.csproj\n", app);
        Assert.Contains("return 2 * x;", app);
    }

    [Theory]
    [InlineData("%% md\n# Demo\n%% setup\n%% solution\nShow(1);\n", 4)]                                     // after the setup cell
    [InlineData("%% md\n# Demo\n%% setup\n%% code\nShow(1);\n%% solution\nShow(2);\n", 6)]                   // after a cell with no TODO
    [InlineData("%% setup\n%% code\nF(); // TODO: x\n%% solution\nG();\n%% solution\nH();\n", 6)]        // a second solution
    [InlineData("%% setup\n%% code\nF(); // TODO: x\n%% md\nText.\n%% solution\nG();\n", 6)]             // not directly after
    public void Parse_SolutionCellNotAfterAnExercise_NamesTheFileAndLine(string text, int line)
    {
        var e = Assert.Throws<InvalidDataException>(() => LessonSource.Parse("09-demo", text, "tools/notebook-sources/09-demo.txt"));
        Assert.Contains($"tools/notebook-sources/09-demo.txt:{line}:", e.Message);
        Assert.Contains("'%% solution'", e.Message);
    }

    [Fact]
    public void Parse_SolutionStillHoldingATodo_IsAnError()
    {
        var e = Assert.Throws<InvalidDataException>(() =>
            LessonSource.Parse("09-demo", "%% setup\n%% code\nF(); // TODO: x\n%% solution\nG(); // TODO: y\n", "09-demo.txt"));
        Assert.Contains("09-demo.txt:4:", e.Message);
    }

    [Fact]
    public void EveryExercise_HasASolutionTwin()
    {
        var missing = LessonSource.LoadAll(Root).SelectMany(l => l.MissingSolutions).ToList();
        Assert.True(missing.Count == 0, "Exercise cells without a '%% solution' cell (see docs/authoring.md):\n" + string.Join("\n", missing));
    }

    [Fact]
    public void InstructorEdition_HasEveryLesson_SolvedAndReachingTheLibraryFromWhereItIsWritten()
    {
        var outDir = Path.Combine(Root, "artifacts", "instructor");
        var files = LessonBuilder.GenerateInstructor(Root, outDir);

        Assert.Equal(LessonBuilder.Generate(Root).Select(f => Path.GetFileName(f.RelativePath)), files.Select(f => f.RelativePath));
        Assert.All(files, f => Assert.DoesNotContain(LessonSource.TodoMarker, f.Content));
        var notebook = files.Single(f => f.RelativePath == "00-getting-started.ipynb").Content;
        Assert.Contains("#r \\\"../../artifacts/bin/RnnNotebooks/debug/RnnNotebooks.dll\\\"", notebook);
        Assert.StartsWith("#:project ../../src/RnnNotebooks/RnnNotebooks.csproj\n", files.Single(f => f.RelativePath == "00-getting-started.cs").Content);
    }
}
