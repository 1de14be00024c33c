namespace RnnNotebooks.Tests.Cli;

/// <summary>Bad input to <c>rnn translate</c> and <c>rnn metrics</c>: usage mistakes exit 2 naming the option, missing files
/// exit 1 naming the file.</summary>
[Collection("ProcessState")]
public sealed class TranslateReliabilityTests
{
    static readonly string[] Train = ["translate", "train", "--data", "fra-eng"];

    public static TheoryData<CliCase> Cases => CliCase.Table(
        CliCase.Of(0, "train", "translate", "-h"),
        CliCase.Of(0, "--attention", "translate", "train", "--help"),
        CliCase.Of(0, "--beam", "translate", "eval", "-h"),
        CliCase.Of(0, "--beam", "translate", "run", "-h"),
        CliCase.Of(2, "usage: rnn translate", "translate"),
        CliCase.Of(2, "'nope'", "translate", "train", "--data", "nope"),
        CliCase.Of(2, "--lr NaN", [.. Train, "--lr", "NaN"]),
        CliCase.Of(2, "--lr Infinity", [.. Train, "--lr", "Infinity"]),
        CliCase.Of(2, "--dropout NaN", [.. Train, "--dropout", "NaN"]),
        CliCase.Of(2, "--minutes 0,5", [.. Train, "--minutes", "0,5"]),
        CliCase.Of(2, "--minutes 0", [.. Train, "--minutes", "0"]),
        CliCase.Of(2, "--threads 1000", [.. Train, "--threads", "1000"]),
        CliCase.Of(2, "--hidden 0", [.. Train, "--hidden", "0"]),
        CliCase.Of(2, "--max-pairs 0", [.. Train, "--max-pairs", "0"]),
        CliCase.Of(2, "--src", [.. Train, "--src", "deu"]),
        CliCase.Of(2, "--attention", [.. Train, "--attention", "cosine"]),
        CliCase.Of(2, "contradict", [.. Train, "--force", "--resume"]),
        CliCase.Of(2, "--beam 0", "translate", "eval", "--checkpoint", CliCase.Missing, "--beam", "0"),
        CliCase.Of(2, "--split dev", "translate", "eval", "--checkpoint", CliCase.Missing, "--split", "dev"),
        CliCase.Of(2, "--checkpoint", "translate", "run"),
        CliCase.Of(1, CliCase.Missing, "translate", "eval", "--checkpoint", CliCase.Missing),
        CliCase.Of(0, "--refs", "metrics", "bleu", "-h"),
        CliCase.Of(2, "usage: rnn metrics", "metrics"),
        CliCase.Of(2, "--refs", "metrics", "bleu", "--hyps", "h.txt"),
        CliCase.Of(2, "--tokenize intl", "metrics", "bleu", "--hyps", "h.txt", "--refs", "r.txt", "--tokenize", "intl"),
        CliCase.Of(1, "no such file", "metrics", "bleu", "--hyps", Path.Combine(CliCase.Missing, "h.txt"), "--refs", "r.txt"));

    [Theory]
    [MemberData(nameof(Cases))]
    public void BadInput_GetsAClearAnswer(CliCase c) => c.Check();
}
