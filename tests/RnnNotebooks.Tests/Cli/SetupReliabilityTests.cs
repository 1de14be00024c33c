namespace RnnNotebooks.Tests.Cli;

/// <summary>Bad input to <c>rnn doctor</c>, <c>rnn pack</c> and <c>rnn docs</c>: help that checks, packs and writes nothing
/// (also on the hidden <c>docs</c>), stray words and unknown values named.</summary>
[Collection("ProcessState")]
public sealed class SetupReliabilityTests
{
    static readonly string Pack = Path.Combine(CliCase.Missing, "pack");

    public static TheoryData<CliCase> Cases => CliCase.Table(
        CliCase.Of(0, "--no-run", "doctor", "-h"),
        CliCase.Of(2, "'--bogus'", "doctor", "--bogus"),
        CliCase.Of(2, "'extra'", "doctor", "extra"),
        CliCase.Of(0, "--datasets", "pack", "-h"),
        CliCase.Of(0, "--datasets", "pack", Pack, "--help"),
        CliCase.Of(2, "'DIR' missing", "pack"),
        CliCase.Of(2, "'extra'", "pack", Pack, "extra"),
        CliCase.Of(2, "'--forse'", "pack", Pack, "--forse"),
        CliCase.Of(2, "--os amiga", "pack", Pack, "--os", "amiga"),
        CliCase.Of(2, "--datasets nope", "pack", Pack, "--datasets", "nope"),
        CliCase.Of(2, "--datasets nope", "pack", "--datasets", "nope", Pack),   // DIR after the option is not a dataset name
        CliCase.Of(2, "--datasets nope: no such dataset", "pack", "--datasets", "fsdd,nope", Pack),
        CliCase.Of(0, "cli", "docs", "-h"),
        CliCase.Of(0, "--out", "docs", "cli", "--help"),
        CliCase.Of(2, "usage: rnn docs cli", "docs"),
        CliCase.Of(2, "'--bogus'", "docs", "cli", "--bogus"));

    [Theory]
    [MemberData(nameof(Cases))]
    public void BadInput_GetsAClearAnswer(CliCase c)
    {
        c.Check();
        Assert.False(Directory.Exists(Pack), "a rejected or help-only pack command must write nothing");
    }
}
