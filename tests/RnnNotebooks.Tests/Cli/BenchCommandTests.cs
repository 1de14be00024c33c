using System.Security.Cryptography;
using RnnNotebooks.Notebook;

namespace RnnNotebooks.Tests.Cli;

/// <summary><c>rnn bench</c>'s command line: help never starts the benchmark.</summary>
[Collection("ProcessState")]
public class BenchCommandTests
{
    static string? Hash(string path) => File.Exists(path) ? Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(path))) : null;

    [Theory]
    [InlineData("-h")]
    [InlineData("--help")]
    [InlineData("--tiny", "--help")]
    public void Help_PrintsUsage_ExitsZero_AndWritesNoReport(params string[] args)
    {
        var report = Path.Combine(Course.FindRepoRoot(AppContext.BaseDirectory), "docs", "benchmarks.md");
        var before = Hash(report);

        var (code, output, err) = CliTests.Run(["bench", .. args]);

        Assert.Equal(0, code);
        Assert.Contains("rnn bench [options]", output);
        Assert.Contains("--no-pytorch", output);
        Assert.DoesNotContain("thr", err);             // no workload was measured
        Assert.Equal(before, Hash(report));
    }

    [Fact]
    public void StrayArgument_ExitsTwo_WithoutRunning()
    {
        var (code, _, err) = CliTests.Run("bench", "tiny");
        Assert.Equal(2, code);
        Assert.Contains("'tiny'", err);
        Assert.Contains("usage: rnn bench", err);
    }
}
