namespace RnnNotebooks.Tests.Cli;

/// <summary>Bad input to <c>rnn caption</c>: <c>-h</c> extracts and trains nothing, values out of range exit 2 naming the
/// option before any photo is read.</summary>
[Collection("ProcessState")]
public sealed class CaptionReliabilityTests
{
    static readonly string[] Train = ["caption", "train"];

    public static TheoryData<CliCase> Cases => CliCase.Table(
        CliCase.Of(0, "features", "caption", "--help"),
        CliCase.Of(0, "--cache", "caption", "features", "-h"),
        CliCase.Of(0, "--minutes", "caption", "train", "-h"),
        CliCase.Of(0, "--length-alpha", "caption", "eval", "-h"),
        CliCase.Of(0, "IMAGE", "caption", "run", "-h"),
        CliCase.Of(2, "usage: rnn caption", "caption"),
        CliCase.Of(2, "--data coco", "caption", "features", "--data", "coco"),
        CliCase.Of(2, "--dropout NaN", [.. Train, "--dropout", "NaN"]),
        CliCase.Of(2, "--dropout 1.5", [.. Train, "--dropout", "1.5"]),
        CliCase.Of(2, "--lr Infinity", [.. Train, "--lr", "Infinity"]),
        CliCase.Of(2, "--minutes 0,5", [.. Train, "--minutes", "0,5"]),
        CliCase.Of(2, "--minutes 0", [.. Train, "--minutes", "0"]),
        CliCase.Of(2, "--threads 1000", [.. Train, "--threads", "1000"]),
        CliCase.Of(2, "--hidden 0", [.. Train, "--hidden", "0"]),
        CliCase.Of(2, "--min-count 0", [.. Train, "--min-count", "0"]),
        CliCase.Of(2, "--max-images 0", [.. Train, "--max-images", "0"]),
        CliCase.Of(2, "--decay 0", [.. Train, "--decay", "0"]),
        CliCase.Of(2, "--attention hard", [.. Train, "--attention", "hard"]),
        // Options of experiments that were measured and not adopted are gone (docs/experiments/06-image-captioning.md).
        CliCase.Of(2, "'--output-layer'", [.. Train, "--output-layer", "deep"]),
        CliCase.Of(2, "'--schedule'", [.. Train, "--schedule", "hold-cosine"]),
        CliCase.Of(2, "'--decay-fraction'", [.. Train, "--decay-fraction", "0.5"]),
        CliCase.Of(2, "contradict", [.. Train, "--force", "--resume"]),
        CliCase.Of(2, "--checkpoint", "caption", "eval"),
        CliCase.Of(2, "--length-alpha -1", "caption", "eval", "--checkpoint", CliCase.Missing, "--length-alpha", "-1"),
        CliCase.Of(2, "--split val", "caption", "eval", "--checkpoint", CliCase.Missing, "--split", "val"),
        CliCase.Of(2, "--beam 0", "caption", "run", "--checkpoint", CliCase.Missing, "--beam", "0", "a.jpg"),
        CliCase.Of(2, "IMAGE", "caption", "run", "--checkpoint", CliCase.Missing),
        CliCase.Of(2, "unknown option --bean", "caption", "run", "--checkpoint", CliCase.Missing, "--bean", "a.jpg"),
        CliCase.Of(1, CliCase.Missing, "caption", "run", "--checkpoint", CliCase.Missing, "a.jpg"));

    [Theory]
    [MemberData(nameof(Cases))]
    public void BadInput_GetsAClearAnswer(CliCase c) => c.Check();
}
