namespace RnnNotebooks.Tests.Cli;

/// <summary>
/// One hostile-but-fair call of <c>rnn</c> and what it must answer: the exit code, and a phrase the output (stdout and
/// stderr) must contain. The reliability classes hold these as tables, one per command group, so the next round of
/// hostile testing starts from them.
/// </summary>
/// <remarks>The cases need no dataset and start no training: they fail in parsing or in the options' validation, or on a
/// missing file.</remarks>
public sealed record CliCase(string[] Args, int Code, string Phrase)
{
    /// <summary>A folder no test creates.</summary>
    public static readonly string Missing = Path.Combine(Path.GetTempPath(), "rnn-no-such-folder-7f3a");

    public override string ToString() => string.Join(' ', Args);

    public static CliCase Of(int code, string phrase, params string[] args) => new(args, code, phrase);

    /// <summary>Runs the case and checks its answer; an error never shows a stack trace.</summary>
    public void Check()
    {
        var (code, output, error) = CliRun.Invoke(Args);
        var all = output + error;
        Assert.True(code == Code, $"rnn {this}: exit code {code}, expected {Code}.\n{all}");
        Assert.Contains(Phrase, all);
        Assert.DoesNotContain("   at ", error);
        if (Code == 0 && Args.Any(a => a is "-h" or "--help")) Assert.Contains("Usage:", output);
    }

    public static TheoryData<CliCase> Table(params CliCase[] cases)
    {
        var data = new TheoryData<CliCase>();
        foreach (var c in cases) data.Add(c);
        return data;
    }
}
