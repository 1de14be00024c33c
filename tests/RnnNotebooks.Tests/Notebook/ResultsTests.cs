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
