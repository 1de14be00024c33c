using RnnNotebooks.Cli;
using RnnNotebooks.Cli.Lessons;
using RnnNotebooks.Notebook;
using RnnNotebooks.Tests.Notebook;

namespace RnnNotebooks.Tests.Cli;

/// <summary><c>rnn course --grade</c> on real submissions of the lessons: the student edition, the instructor edition,
/// and the instructor edition with one answer broken.</summary>
[Collection(NotebookCollection.Name)]
[Trait("Category", "Notebook")]
public sealed class CourseGraderTests
{
    static readonly string Root = Course.FindRepoRoot(AppContext.BaseDirectory);

    /// <summary>The instructor edition as a student hands it in: written for <c>notebooks/</c>, the folder a
    /// submission runs from, so it refers to the library as the student edition does.</summary>
    static string InstructorNotebook(string lesson) =>
        LessonBuilder.GenerateInstructor(Root, Path.Combine(Root, "notebooks")).Single(f => f.RelativePath == lesson + ".ipynb").Content;

    static string Submissions(string name)
    {
        var dir = Path.Combine(Root, "artifacts", "test-run", "submissions", name);
        if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
        Directory.CreateDirectory(dir);
        return dir;
    }

    static void HandIn(string submissions, string student, string lesson, string notebook)
    {
        Directory.CreateDirectory(Path.Combine(submissions, student));
        File.WriteAllText(Path.Combine(submissions, student, lesson + ".ipynb"), notebook);
    }

    [Fact]
    public void Grade_SolvedGetsFullMarks_UnsolvedNone_AndAWrongAnswerIsMarkedWrong()
    {
        const string lesson = "00-getting-started";
        var solved = InstructorNotebook(lesson);
        const string step = "return (w - lr * dw, b - lr * db);";
        Assert.Contains(step, solved);
        var submissions = Submissions("lesson-00");
        HandIn(submissions, "solved", lesson, solved);
        HandIn(submissions, "unsolved", lesson, File.ReadAllText(Path.Combine(Root, "notebooks", lesson + ".ipynb")));
        HandIn(submissions, "wrong", lesson, solved.Replace(step, "return (w + lr * dw, b + lr * db);"));
        var csv = Path.Combine(submissions, "..", "lesson-00-grades.csv");

        var (code, stdout, stderr) = CliRun.Invoke(
            ["course", "--grade", submissions, "--out", csv, .. NotebookCollection.BuildOnce() ? Array.Empty<string>() : ["--no-build"]]);

        Assert.True(code == 0, stderr);
        var rows = File.ReadAllLines(csv);
        Assert.Equal(CourseGrader.CsvHeader, rows[0]);
        Assert.Equal(
            [
                "solved,00-getting-started,Exercise 1,right,",
                "solved,00-getting-started,Exercise 2,right,",
                "unsolved,00-getting-started,Exercise 1,not-answered,",
                "unsolved,00-getting-started,Exercise 2,not-answered,",
                "wrong,00-getting-started,Exercise 1,right,",
            ],
            rows[1..6]);
        Assert.StartsWith("wrong,00-getting-started,Exercise 2,wrong,", rows[6]);
        Assert.Contains("Hint:", rows[6]);
        Assert.Equal(
            [
                "solved,(all),(total),2 of 2 right,1 notebook",
                "unsolved,(all),(total),0 of 2 right,1 notebook",
                "wrong,(all),(total),1 of 2 right,1 notebook",
            ],
            rows[7..]);
        Assert.Contains("solved: 2 of 2 exercises right in 1 notebook", stdout);
    }

    public static TheoryData<string> Lessons() =>
        new(CourseRunner.Discover(Root).Select(p => Path.GetFileNameWithoutExtension(p)));

    [Theory]
    [MemberData(nameof(Lessons))]
    public void InstructorEdition_RunsCleanInQuickMode_WithEveryExerciseRight(string lesson)
    {
        var submissions = Submissions("instructor-" + lesson);
        HandIn(submissions, "instructor", lesson, InstructorNotebook(lesson));

        var report = CourseGrader.Grade(new GradeOptions(Root, submissions, Path.Combine(submissions, "grades.csv"),
            Build: NotebookCollection.BuildOnce()), _ => { });

        Assert.DoesNotContain(report.Rows, r => r.Exercise == "(notebook)" && Fail($"{lesson} failed: {r.Detail}"));
        Assert.DoesNotContain(report.Rows, r => r.Exercise == "(missing)" && Fail($"{lesson}: {r.Detail}"));
        var verdicts = report.Rows.Where(r => !r.Exercise.StartsWith('(')).ToList();
        var exercises = LessonSource.LoadAll(Root).Single(l => l.Name == lesson).Cells.Count(c => c.IsExercise);
        if (exercises == 0 && verdicts.Any(r => r.Verdict != "right"))
            Assert.Skip($"{lesson} has exercise checks but no '// TODO:' cells with '%% solution' twins yet (docs/authoring.md).");
        Assert.All(verdicts, r => Assert.True(r.Verdict == "right", $"{lesson} {r.Exercise}: {r.Verdict} {r.Detail}"));
        Assert.Equal(exercises, verdicts.Count);
    }

    static bool Fail(string message) => throw new Xunit.Sdk.XunitException(message);
}

/// <summary>The usage errors of <c>--grade</c>, which stop before any notebook runs.</summary>
[Collection("ProcessState")]
public sealed class CourseGraderUsageTests : IDisposable
{
    readonly DirectoryInfo dir = Directory.CreateTempSubdirectory("submissions-");

    public void Dispose() => dir.Delete(recursive: true);

    [Fact]
    public void Grade_MissingFolder_IsAUsageError_NamingIt()
    {
        var missing = Path.Combine(dir.FullName, "nowhere");
        var (code, _, stderr) = CliRun.Invoke("course", "--grade", missing, "--no-build");
        Assert.Equal(2, code);
        Assert.Contains($"--grade {missing}: no such folder", stderr);
    }

    [Fact]
    public void Grade_EmptyFolder_IsAUsageError_ExplainingTheLayout()
    {
        File.WriteAllText(Path.Combine(dir.FullName, "00-getting-started.ipynb"), "{}");
        Directory.CreateDirectory(Path.Combine(dir.FullName, "alice"));
        var (code, _, stderr) = CliRun.Invoke("course", "--grade", dir.FullName, "--no-build");
        Assert.Equal(2, code);
        Assert.Contains("no submissions found", stderr);
        Assert.Contains("alice/00-getting-started.ipynb", stderr);
        Assert.Contains("found 1 notebook directly in the folder", stderr);
    }

    [Fact]
    public void Grade_WithFullOrTheAppHost_IsAUsageError()
    {
        Assert.Equal(2, CliRun.Invoke("course", "--grade", dir.FullName, "--full").Code);
        Assert.Equal(2, CliRun.Invoke("course", "--grade", dir.FullName, "--host", "app").Code);
    }

    [Fact]
    public void Csv_QuotesFieldsWithCommasAndQuotes_AndEndsWithEachStudentsTotal()
    {
        var csv = CourseGrader.ToCsv(
            [new("bob", "01-vanilla-rnn", "Exercise 1", "wrong", "the norm is \"3\", expected 2")],
            [new("bob", 0, 3, 1, 1)]);
        Assert.Equal(
            CourseGrader.CsvHeader + "\n" +
            "bob,01-vanilla-rnn,Exercise 1,wrong,\"the norm is \"\"3\"\", expected 2\"\n" +
            "bob,(all),(total),0 of 3 right,\"1 notebook, 1 failed to run\"\n",
            csv);
    }
}
