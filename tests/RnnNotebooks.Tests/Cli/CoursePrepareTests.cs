using RnnNotebooks.Cli;
using RnnNotebooks.Notebook;
using RnnNotebooks.Tests.Notebook;

namespace RnnNotebooks.Tests.Cli;

/// <summary>A throwaway course for <c>rnn course --prepare</c>: the real tool manifest and notebooks each test writes.</summary>
sealed class ScratchCourse : IDisposable
{
    public readonly DirectoryInfo Repo = Directory.CreateTempSubdirectory("course-prepare-");

    public ScratchCourse() => Populate(Repo);

    /// <summary>Makes <paramref name="repo"/> a course without lessons: the solution marker, the real tool manifest, an empty notebooks folder.</summary>
    public static void Populate(DirectoryInfo repo)
    {
        var root = Course.FindRepoRoot(AppContext.BaseDirectory);
        File.WriteAllText(Path.Combine(repo.FullName, "RnnNotebooks.sln"), "");
        Directory.CreateDirectory(Path.Combine(repo.FullName, ".config"));
        File.Copy(Path.Combine(root, ".config", "dotnet-tools.json"), Path.Combine(repo.FullName, ".config", "dotnet-tools.json"));
        Directory.CreateDirectory(Path.Combine(repo.FullName, "notebooks"));
    }

    public string Prepared => Path.Combine(Repo.FullName, "prepared");

    public void WriteNotebook(string name, params string[] cells) =>
        File.WriteAllText(Path.Combine(Repo.FullName, "notebooks", name + ".ipynb"), NotebookJson.Create(cells));

    public void Dispose() => Repo.Delete(recursive: true);
}

/// <summary>What <c>--prepare</c> accepts and refuses before it runs anything.</summary>
[Collection("ProcessState")]
public sealed class CoursePrepareArgumentTests : IDisposable
{
    readonly ScratchCourse course = new();

    public CoursePrepareArgumentTests()
    {
        course.WriteNotebook("00-plain", "var x = 1;");
        course.WriteNotebook("03-trains", "var m = RnnNotebooks.Notebook.Pretrained.OrTrain(\"03-model\", () => 1, (t, d) => { }, d => 2);");
    }

    public void Dispose() => course.Dispose();

    CourseRunOptions Preparing(bool replace = false, params string[] only) =>
        new(course.Repo.FullName, Quick: false, only, Build: false, PrepareDirectory: course.Prepared, ReplacePrepared: replace);

    [Fact]
    public void Prepare_WithQuick_IsAUsageError()
    {
        var (code, _, err) = CliTests.Run("course", "--prepare", course.Prepared, "--quick", "--no-build");
        Assert.Equal(2, code);
        Assert.Contains("--prepare trains the full-mode models", err);
    }

    [Fact]
    public void Force_WithoutPrepare_IsAUsageError()
    {
        var (code, _, err) = CliTests.Run("course", "--force", "--no-build");
        Assert.Equal(2, code);
        Assert.Contains("give --prepare DIR too", err);
    }

    [Fact]
    public void Prepare_ExistingPreparedModel_IsRefusedBeforeAnythingRuns_UnlessForced()
    {
        Directory.CreateDirectory(Path.Combine(course.Prepared, "03-model"));
        var lines = new List<string>();

        var e = Assert.Throws<IOException>(() => CourseRunner.Run(Preparing(), lines.Add));

        Assert.Contains(course.Prepared, e.Message);
        Assert.Contains("03-model", e.Message);
        Assert.Contains("--force", e.Message);
        Assert.Empty(lines);
    }

    [Fact]
    public void Prepare_NamedLessonWithoutAPreparedModel_IsRefused_SayingWhich()
    {
        var e = Assert.Throws<ArgumentException>(() => CourseRunner.Run(Preparing(false, "00", "03"), _ => { }));
        Assert.Contains("00-plain", e.Message);
        Assert.DoesNotContain("03-trains", e.Message);
    }

    [Fact]
    public void HasPreparedModels_FindsTheLessonsThatCallOrTrain()
    {
        var notebooks = CourseRunner.Discover(course.Repo.FullName);
        Assert.Equal(["03-trains"], notebooks.Where(CourseRunner.HasPreparedModels).Select(Path.GetFileNameWithoutExtension));
    }
}

/// <summary>A lesson run by <c>--prepare</c> saves its model; run again with <c>RNN_PRETRAINED</c>, it loads it.</summary>
[Collection(NotebookCollection.Name)]
public sealed class CoursePrepareRunTests : IDisposable
{
    readonly ScratchCourse course = new();

    public void Dispose() => course.Dispose();

    [Fact]
    [Trait("Category", "Notebook")]
    public void PreparedModel_IsSavedByPrepare_AndLoadedWithPretrained()
    {
        // Training gives 2.5; loading adds 1, so the recorded value shows which path the cell took.
        course.WriteNotebook("03-tiny",
            $"#r \"nuget: TorchSharp-cpu, 0.107.0\"\n#r \"{typeof(Pretrained).Assembly.Location}\"\nRnnNotebooks.Notebook.Course.Setup(seed: 1);",
            """
            var v = RnnNotebooks.Notebook.Pretrained.OrTrain("03-tiny-model", () => 2.5,
                (t, dir) => System.IO.File.WriteAllText(System.IO.Path.Combine(dir, "v.txt"), t.ToString("R")),
                dir => double.Parse(System.IO.File.ReadAllText(System.IO.Path.Combine(dir, "v.txt"))) + 1);
            RnnNotebooks.Notebook.Results.Record("v", v);
            """);

        var prepared = CourseRunner.Run(new CourseRunOptions(course.Repo.FullName, Quick: false, Build: false,
            PrepareDirectory: course.Prepared), _ => { });

        var run = Assert.Single(prepared.Notebooks);
        Assert.True(run.Passed, string.Join("\n", run.Errors));
        Assert.Equal(2.5, Assert.Single(run.Results).Value);
        Assert.True(File.Exists(Path.Combine(course.Prepared, "03-tiny-model", Pretrained.ManifestFile)));

        var previous = Environment.GetEnvironmentVariable(Pretrained.Variable);
        Environment.SetEnvironmentVariable(Pretrained.Variable, course.Prepared);
        try
        {
            var loaded = CourseRunner.Run(new CourseRunOptions(course.Repo.FullName, Quick: false, Build: false), _ => { });
            var second = Assert.Single(loaded.Notebooks);
            Assert.True(second.Passed, string.Join("\n", second.Errors));
            Assert.Equal(3.5, Assert.Single(second.Results).Value);
            var executed = File.ReadAllText(second.ExecutedPath);
            Assert.Contains("Loaded the prepared model", executed);
            Assert.Contains("this cell did not train", executed);
        }
        finally
        {
            Environment.SetEnvironmentVariable(Pretrained.Variable, previous);
        }
    }
}
