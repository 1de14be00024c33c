using RnnNotebooks.Cli;
using RnnNotebooks.Notebook;
using RnnNotebooks.Tests.Notebook;

namespace RnnNotebooks.Tests.Cli;

[Collection(NotebookCollection.Name)]
public class CourseRunnerTests : IDisposable
{
    readonly DirectoryInfo repo = Directory.CreateTempSubdirectory("course-");

    // A throwaway course: the real tool manifest, and notebooks we write in each test.
    public CourseRunnerTests() => ScratchCourse.Populate(repo);

    public void Dispose() => repo.Delete(recursive: true);

    void WriteNotebook(string name, params string[] cells) =>
        File.WriteAllText(Path.Combine(repo.FullName, "notebooks", name + ".ipynb"), NotebookJson.Create(cells));

    [Fact]
    [Trait("Category", "Notebook")]
    public void Run_BrokenCell_FailsAndNamesTheCellAndError()
    {
        WriteNotebook("00-broken", "var x = 1 + 1;", "throw new InvalidOperationException(\"deliberately broken\");", "var y = 3;");

        var report = CourseRunner.Run(new CourseRunOptions(repo.FullName, Quick: true, Build: false), _ => { });

        var run = Assert.Single(report.Notebooks);
        Assert.False(run.Passed);
        Assert.False(report.AllPassed);
        Assert.Contains(run.Errors, e => e.StartsWith("cell 2:") && e.Contains("deliberately broken"));
        var markdown = File.ReadAllText(Path.Combine(repo.FullName, "artifacts", "results.md"));
        Assert.Contains("| 00-broken | **failed** |", markdown);
    }

    [Fact]
    [Trait("Category", "Notebook")]
    public void Run_CleanNotebook_PassesAndCollectsRecordedResults()
    {
        var dll = typeof(Results).Assembly.Location;
        WriteNotebook("00-clean",
            $"#r \"{dll}\"",
            "RnnNotebooks.Notebook.Results.Record(\"answer\", RnnNotebooks.CourseMode.IsQuick ? 42 : 0, \"units\")");

        var report = CourseRunner.Run(new CourseRunOptions(repo.FullName, Quick: true, Build: false), _ => { });

        var run = Assert.Single(report.Notebooks);
        Assert.True(run.Passed, string.Join("\n", run.Errors));
        Assert.Equal(new HeadlineResult("answer", 42, "units"), Assert.Single(run.Results));
        Assert.Contains("answer = 42 units", File.ReadAllText(Path.Combine(repo.FullName, "artifacts", "results.md")));
        Assert.True(File.Exists(Path.Combine(repo.FullName, "artifacts", "results.json")));
    }

    [Fact]
    [Trait("Category", "Notebook")]
    public void Run_App_ThatFails_IsReportedWithItsExitCodeAndLastLines()
    {
        File.WriteAllText(Path.Combine(repo.FullName, "notebooks", "00-failing.cs"), """
            #:property PublishAot=false
            Console.WriteLine("before the failure");
            throw new InvalidOperationException("deliberately broken");
            """);

        var report = CourseRunner.Run(new CourseRunOptions(repo.FullName, Quick: true, Build: false, Host: LessonHost.App), _ => { });

        var run = Assert.Single(report.Notebooks);
        Assert.False(run.Passed);
        Assert.NotEqual(0, run.ExitCode);
        Assert.Contains("deliberately broken", Assert.Single(run.Errors));
        Assert.Contains("before the failure", File.ReadAllText(run.LogPath));
        Assert.Equal("quick, as apps", report.Mode);
    }

    [Fact]
    public void Discover_UnknownName_ListsTheNotebooksThereAre()
    {
        WriteNotebook("00-first", "1");
        WriteNotebook("01-second", "2");
        File.WriteAllText(Path.Combine(repo.FullName, "notebooks", "scratch.ipynb"), "{}");

        Assert.Equal(["00-first", "01-second"], CourseRunner.Discover(repo.FullName).Select(Path.GetFileNameWithoutExtension));
        Assert.Equal(["01-second"], CourseRunner.Discover(repo.FullName, ["01"]).Select(Path.GetFileNameWithoutExtension));
        var e = Assert.Throws<ArgumentException>(() => CourseRunner.Discover(repo.FullName, ["07"]));
        Assert.Contains("00-first, 01-second", e.Message);
    }

    [Fact]
    public void NotebookErrors_ReportsErrorOutputsAndStderr_NotOrdinaryOutput()
    {
        var path = Path.Combine(repo.FullName, "executed.ipynb");
        File.WriteAllText(path, """
            {"cells": [
              {"cell_type": "code", "source": [], "outputs": [{"output_type": "stream", "name": "stdout", "text": ["fine\n"]}]},
              {"cell_type": "code", "source": [], "outputs": [{"output_type": "error", "ename": "Error", "evalue": "CS0103: x does not exist", "traceback": []}]},
              {"cell_type": "code", "source": [], "outputs": [{"output_type": "stream", "name": "stderr", "text": ["warning: ", "careful\n"]}]}
            ]}
            """);

        Assert.Equal(["cell 2: Error: CS0103: x does not exist", "cell 3 wrote to stderr: warning: careful"], NotebookErrors.Find(path));
    }
}
