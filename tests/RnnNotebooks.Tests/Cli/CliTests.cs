namespace RnnNotebooks.Tests.Cli;

/// <summary>The <c>rnn</c> command's contract: exit 0 on success, 1 on bad input, 2 on a usage mistake.</summary>
[Collection("ProcessState")]
public class CliTests
{
    internal static (int Code, string Out, string Err) Run(params string[] args) => CliRun.Invoke(args);

    [Fact]
    public void Help_ListsTheCommands_AndExitsZero()
    {
        var (code, output, _) = Run("--help");
        Assert.Equal(0, code);
        foreach (var command in new[] { "course", "data", "lm", "translate", "metrics", "asr", "caption", "bench", "doctor", "env" })
            Assert.Contains($"\n  {command} ", output);
        Assert.DoesNotContain("\n  docs ", output);     // the generator of docs/cli.md is hidden
    }

    [Fact]
    public void NoArguments_PrintsHelp_AndExitsTwo() => Assert.Equal(2, Run().Code);

    [Fact]
    public void Course_UnknownHost_ExitsTwo_AndNamesTheChoices()
    {
        var (code, _, err) = Run("course", "--host", "browser", "--no-build");
        Assert.Equal(2, code);
        Assert.Contains("--host browser", err);
        Assert.Contains("'app'", err);
    }

    [Fact]
    public void Notebooks_Check_PassesOnTheCommittedFiles()
    {
        var (code, _, err) = Run("notebooks", "build", "--check");
        Assert.True(code == 0, err);
    }

    [Fact]
    public void UnknownCommand_ExitsTwo_AndSaysWhich()
    {
        var (code, _, err) = Run("trian");
        Assert.Equal(2, code);
        Assert.Contains("'trian'", err);
        Assert.DoesNotContain("Required command", err);
    }

    [Fact]
    public void UnknownOption_ExitsTwo_AndShowsUsage()
    {
        var (code, _, err) = Run("course", "--quik");
        Assert.Equal(2, code);
        Assert.Contains("unknown option --quik", err);
        Assert.Contains("usage: rnn course", err);
    }

    [Fact]
    public void ContradictoryFlags_ExitTwo() => Assert.Equal(2, Run("course", "--quick", "--full").Code);

    [Fact]
    public void DataVerify_UnknownDataset_ExitsOne_AndListsTheKnownOnes()
    {
        var (code, _, err) = Run("data", "verify", "nope");
        Assert.Equal(1, code);
        Assert.Contains("Unknown dataset 'nope'", err);
        Assert.Contains("tinyshakespeare", err);
        Assert.DoesNotContain("(Parameter", err);
    }

    [Fact]
    public void DataList_ShowsEveryRegisteredDataset()
    {
        var (code, output, _) = Run("data", "list");
        Assert.Equal(0, code);
        foreach (var name in RnnNotebooks.Data.Datasets.Names) Assert.Contains(name, output);
    }
}
