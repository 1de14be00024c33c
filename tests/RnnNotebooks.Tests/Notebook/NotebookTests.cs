using RnnNotebooks.Cli;
using RnnNotebooks.Notebook;

namespace RnnNotebooks.Tests.Notebook;

/// <summary>Executes every lesson headless in quick mode, as CI and a learner's first run do: the notebook under
/// dotnet-repl, and the file-based app from the same source under <c>dotnet run</c>.</summary>
[Collection(NotebookCollection.Name)]
[Trait("Category", "Notebook")]
public class NotebookTests
{
    static readonly string Root = Course.FindRepoRoot(AppContext.BaseDirectory);

    public static TheoryData<string> Notebooks() =>
        new(CourseRunner.Discover(Root).Select(p => Path.GetFileNameWithoutExtension(p)));

    [Theory]
    [MemberData(nameof(Notebooks))]
    public void Notebook_RunsTopToBottomInQuickMode_WithNoErrorOutput(string name) => RunsInQuickMode(name, LessonHost.Notebook);

    public static TheoryData<string> Apps() =>
        new(CourseRunner.Discover(Root, host: LessonHost.App).Select(p => Path.GetFileNameWithoutExtension(p)));

    [Theory]
    [MemberData(nameof(Apps))]
    public void App_RunsTopToBottomInQuickMode_AndExitsZero(string name) => RunsInQuickMode(name, LessonHost.App);

    static void RunsInQuickMode(string name, LessonHost host)
    {
        var report = CourseRunner.Run(new CourseRunOptions(
            Root, Quick: true, Only: [name],
            OutputDirectory: Path.Combine(Root, "artifacts", "test-run", host == LessonHost.App ? "apps" : "notebooks"),
            Build: NotebookCollection.BuildOnce(), Host: host));

        var run = Assert.Single(report.Notebooks);
        Assert.True(run.Passed, $"{name} ({host}) failed (output: {run.ExecutedPath}):\n{string.Join("\n", run.Errors)}");
        Assert.NotEmpty(run.Results);
    }

    [Fact]
    public void Course_HasAnAppForEveryNotebook()
    {
        Assert.Equal(
            CourseRunner.Discover(Root).Select(Path.GetFileNameWithoutExtension),
            CourseRunner.Discover(Root, host: LessonHost.App).Select(Path.GetFileNameWithoutExtension));
    }

    [Fact]
    public void Course_HasAGettingStartedNotebook()
    {
        Assert.Contains(CourseRunner.Discover(Root), p => Path.GetFileName(p) == "00-getting-started.ipynb");
    }
}

[CollectionDefinition(Name, DisableParallelization = true)]
public class NotebookCollection
{
    public const string Name = "Notebooks";
    static int built;

    /// <summary>True the first time (build the library once per test run), false after.</summary>
    public static bool BuildOnce() => Interlocked.Exchange(ref built, 1) == 0;
}
