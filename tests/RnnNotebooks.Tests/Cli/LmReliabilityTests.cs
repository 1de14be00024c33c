namespace RnnNotebooks.Tests.Cli;

/// <summary>Bad input to <c>rnn lm</c> (issue 33's cases and their neighbours): help that starts nothing, numbers read the
/// invariant way and checked once by the library, the prompt never dropped.</summary>
[Collection("ProcessState")]
public sealed class LmReliabilityTests
{
    static readonly string[] Train = ["lm", "train", "--data", "tinyshakespeare"];

    public static TheoryData<CliCase> Cases => CliCase.Table(
        CliCase.Of(0, "train", "lm", "--help"),
        CliCase.Of(0, "--data", "lm", "train", "-h"),
        CliCase.Of(0, "--data", [.. Train, "--minutes", "30", "--help"]),
        CliCase.Of(0, "--prompt", "lm", "sample", "-h"),
        CliCase.Of(2, "usage: rnn lm", "lm"),
        CliCase.Of(2, "'fly'", "lm", "fly"),
        CliCase.Of(2, "--data", "lm", "train"),
        CliCase.Of(2, "--minutes 0,5", [.. Train, "--minutes", "0,5"]),
        CliCase.Of(2, "--lr NaN", [.. Train, "--lr", "NaN"]),
        CliCase.Of(2, "--lr Infinity", [.. Train, "--lr", "Infinity"]),
        CliCase.Of(2, "--dropout NaN", [.. Train, "--dropout", "NaN"]),
        CliCase.Of(2, "--dropout 1.5", [.. Train, "--dropout", "1.5"]),
        CliCase.Of(2, "--threads 1000", [.. Train, "--threads", "1000"]),
        CliCase.Of(2, "--threads -1", [.. Train, "--threads", "-1"]),
        CliCase.Of(2, "--hidden 0", [.. Train, "--hidden", "0"]),
        CliCase.Of(2, "--hidden 1.5", [.. Train, "--hidden", "1.5"]),
        CliCase.Of(2, "--epochs 0", [.. Train, "--epochs", "0"]),
        CliCase.Of(2, "--level byte", [.. Train, "--level", "byte"]),
        CliCase.Of(2, "--cell", [.. Train, "--cell", "transformer"]),
        CliCase.Of(2, "contradict", [.. Train, "--tie", "--no-tie"]),
        CliCase.Of(2, "contradict", [.. Train, "--force", "--resume"]),
        CliCase.Of(2, "goes with --schedule hold-cosine", [.. Train, "--decay-fraction", "0.5"]),
        CliCase.Of(2, "--decay-fraction 0", [.. Train, "--schedule", "hold-cosine", "--decay-fraction", "0"]),
        CliCase.Of(2, "'--epoch'", [.. Train, "--epoch", "3"]),
        CliCase.Of(2, "--checkpoint", "lm", "eval", "--text", "x"),
        CliCase.Of(1, "no such file", "lm", "eval", "--checkpoint", CliCase.Missing, "--text", Path.Combine(CliCase.Missing, "t.txt")),
        CliCase.Of(2, "--temperature -1", "lm", "sample", "--checkpoint", CliCase.Missing, "--temperature", "-1"),
        CliCase.Of(2, "--top-k 0", "lm", "sample", "--checkpoint", CliCase.Missing, "--top-k", "0"),
        CliCase.Of(2, "--length -5", "lm", "sample", "--checkpoint", CliCase.Missing, "--length", "-5"),
        CliCase.Of(2, "unknown option --temprature", "lm", "sample", "--checkpoint", CliCase.Missing, "--temprature"),
        CliCase.Of(2, "give the prompt once", "lm", "sample", "--checkpoint", CliCase.Missing, "--prompt", "A", "ROMEO:"),
        // The prompt given as a word is taken, not dropped: the command goes on to the (missing) checkpoint.
        CliCase.Of(1, CliCase.Missing, "lm", "sample", "--checkpoint", CliCase.Missing, "ROMEO:"));

    [Theory]
    [MemberData(nameof(Cases))]
    public void BadInput_GetsAClearAnswer(CliCase c) => c.Check();
}
