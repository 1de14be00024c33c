namespace RnnNotebooks.Tests.Cli;

/// <summary>Bad input to <c>rnn data</c>, <c>rnn course</c> and <c>rnn notebooks</c>: help that fetches and runs nothing,
/// unknown datasets and options named.</summary>
[Collection("ProcessState")]
public sealed class DataReliabilityTests
{
    public static TheoryData<CliCase> Cases => CliCase.Table(
        CliCase.Of(0, "fetch", "data", "--help"),
        CliCase.Of(0, "--all", "data", "fetch", "-h"),
        CliCase.Of(0, "NAME", "data", "verify", "-h"),
        CliCase.Of(2, "usage: rnn data", "data"),
        CliCase.Of(2, "'get'", "data", "get", "fsdd"),
        CliCase.Of(2, "name one or more datasets", "data", "verify"),
        CliCase.Of(2, "name one or more datasets", "data", "fetch"),
        CliCase.Of(2, "--all goes with fetch alone", "data", "fetch", "--all", "fsdd"),
        CliCase.Of(2, "unknown option --all", "data", "verify", "--all"),
        CliCase.Of(1, "Unknown dataset 'nope'", "data", "verify", "nope"),
        CliCase.Of(1, "Unknown dataset 'nope'", "data", "fetch", "nope"),
        CliCase.Of(0, "--host", "course", "-h"),
        CliCase.Of(2, "contradict", "course", "--quick", "--full", "--no-build"),
        CliCase.Of(2, "--host browser", "course", "--host", "browser", "--no-build"),
        CliCase.Of(2, "unknown option --quik", "course", "--quik"),
        CliCase.Of(0, "--check", "notebooks", "build", "-h"),
        CliCase.Of(2, "usage: rnn notebooks", "notebooks"),
        CliCase.Of(2, "'rebuild'", "notebooks", "rebuild"));

    [Theory]
    [MemberData(nameof(Cases))]
    public void BadInput_GetsAClearAnswer(CliCase c) => c.Check();
}
