namespace RnnNotebooks.Tests.Cli;

/// <summary>Bad input to <c>rnn bench</c>, <c>rnn env</c> and the root command: help runs no benchmark, unknown words exit 2
/// naming them.</summary>
[Collection("ProcessState")]
public sealed class BenchReliabilityTests
{
    public static TheoryData<CliCase> Cases => CliCase.Table(
        CliCase.Of(0, "lm", "-h"),
        CliCase.Of(0, "bench", "--help"),
        CliCase.Of(2, "Usage:", []),
        CliCase.Of(2, "'trian'", "trian"),
        CliCase.Of(2, "'--verbose'", "--verbose"),
        CliCase.Of(0, "--no-pytorch", "bench", "-h"),
        CliCase.Of(0, "--no-pytorch", "bench", "--tiny", "--help"),
        CliCase.Of(2, "'tiny'", "bench", "tiny"),
        CliCase.Of(2, "--threads 0,x", "bench", "--tiny", "--no-pytorch", "--threads", "0,x"),
        CliCase.Of(2, "--python", "bench", "--tiny", "--python", Path.Combine(CliCase.Missing, "python3")),
        CliCase.Of(0, "Usage:", "env", "-h"),
        CliCase.Of(2, "'--all'", "env", "--all"));

    [Theory]
    [MemberData(nameof(Cases))]
    public void BadInput_GetsAClearAnswer(CliCase c) => c.Check();
}
