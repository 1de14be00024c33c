using RnnNotebooks.Notebook;

namespace RnnNotebooks.Tests.Notebook;

[Collection("ProcessState")]
public class ResultsTests : IDisposable
{
    readonly string file = Path.Combine(Path.GetTempPath(), $"results-{Guid.NewGuid():N}.json");
    readonly string? previous = Environment.GetEnvironmentVariable(Results.FileVariable);

    public ResultsTests()
    {
        Results.Clear();
        Environment.SetEnvironmentVariable(Results.FileVariable, file);
    }

    public void Dispose()
    {
        Environment.SetEnvironmentVariable(Results.FileVariable, previous);
        Results.Clear();
        File.Delete(file);
    }

    [Fact]
    public void Record_WritesEveryResultToTheRunnersFile_LatestValueWins()
    {
        Results.Record("val_bpc", 1.75, "bits/char");
        Results.Record("autograd_max_error", 0);
        Results.Record("val_bpc", 1.5, "bits/char");

        Assert.Equal([new HeadlineResult("val_bpc", 1.5, "bits/char"), new HeadlineResult("autograd_max_error", 0)],
            Results.ReadFile(file));
        Assert.Empty(Directory.GetFiles(Path.GetDirectoryName(file)!, Path.GetFileName(file) + ".*.tmp"));
    }

    [Fact]
    public void ExerciseChecks_RecordTheirVerdictsBesideTheResults_LatestVerdictWins()
    {
        Exercise.CheckNumber("Exercise 1", null, 2, 1e-9, "two");
        Exercise.CheckNumber("Exercise 2", 3, 2, 1e-9, "count again");
        Results.Record("loss", 0.5);
        Exercise.CheckNumber("Exercise 1", 2, 2, 1e-9, "two");
        Exercise.CheckCode<int>("Exercise 3", () => throw new NotImplementedException(), _ => null, "h");

        var file = Results.Read(this.file);

        Assert.Equal([new HeadlineResult("loss", 0.5)], file.Results);
        Assert.Equal(["Exercise 1", "Exercise 2", "Exercise 3"], file.Exercises.Select(v => v.Exercise));
        Assert.Equal([Verdict.Right, Verdict.Wrong, Verdict.NotAnswered], file.Exercises.Select(v => v.Verdict));
        Assert.Null(file.Exercises[0].Hint);
        Assert.Contains("count again", file.Exercises[1].Hint);
        Assert.Equal(file.Exercises, Results.Exercises);
        var json = File.ReadAllText(this.file);
        Assert.Contains("\"verdict\": \"not-answered\"", json);
        Assert.Contains("\"verdict\": \"wrong\"", json);
    }

    [Fact]
    public void Record_RejectsNamelessAndNonFiniteResults()
    {
        Assert.Throws<ArgumentException>(() => Results.Record(" ", 1));
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => Results.Record("loss", double.NaN));
        Assert.Contains("'loss'", e.Message);
    }

    [Fact]
    public void ReadFile_Corrupt_SaysWhichFile()
    {
        File.WriteAllText(file, "[{\"name\": \"x\", ");
        var e = Assert.Throws<InvalidDataException>(() => Results.ReadFile(file));
        Assert.Contains(file, e.Message);
    }
}
