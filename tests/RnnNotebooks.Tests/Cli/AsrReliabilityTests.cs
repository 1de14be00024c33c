namespace RnnNotebooks.Tests.Cli;

/// <summary>Bad input to <c>rnn asr</c> (issue 33's cases): help on every subcommand, numbers read the invariant way and
/// finite, a missing file or model named.</summary>
[Collection("ProcessState")]
public sealed class AsrReliabilityTests
{
    static readonly string[] Train = ["asr", "train"];
    static readonly string[] Transcribe = ["asr", "transcribe", "--checkpoint", CliCase.Missing];

    public static TheoryData<CliCase> Cases => CliCase.Table(
        CliCase.Of(0, "transcribe", "asr", "--help"),
        CliCase.Of(0, "--ensemble", "asr", "train", "-h"),
        CliCase.Of(0, "--speaker", "asr", "eval", "-h"),
        CliCase.Of(0, "--each", "asr", "transcribe", "-h"),
        CliCase.Of(0, "--rounds", "asr", "adapt", "-h"),
        CliCase.Of(2, "usage: rnn asr", "asr"),
        CliCase.Of(2, "'average'", "asr", "average"),
        CliCase.Of(2, "'--dropout'", [.. Train, "--dropout", "NaN"]),     // the recipe's dropout and learning rate are not options;
        CliCase.Of(2, "'--lr'", [.. Train, "--lr", "Infinity"]),          // AcousticModelOptions and AsrTrainingOptions validate them
        CliCase.Of(2, "--minutes 0,5", [.. Train, "--minutes", "0,5"]),
        CliCase.Of(2, "--threads 1000", [.. Train, "--threads", "1000"]),
        CliCase.Of(2, "--threads -1", [.. Train, "--threads", "-1"]),
        CliCase.Of(2, "--subsampling 3", [.. Train, "--subsampling", "3"]),
        CliCase.Of(2, "--ensemble 0", [.. Train, "--ensemble", "0"]),
        CliCase.Of(2, "must be positive", [.. Train, "--hidden", "0"]),
        CliCase.Of(2, "'--speed'", [.. Train, "--speed", "0.3"]),
        CliCase.Of(2, "'--average-best'", [.. Train, "--average-best", "3"]),
        CliCase.Of(2, "--speaker", "asr", "eval", "--checkpoint", CliCase.Missing),
        CliCase.Of(2, "--strings must be positive", "asr", "eval", "--checkpoint", CliCase.Missing, "--speaker", "theo", "--strings", "0"),
        CliCase.Of(2, "--normalize", "asr", "eval", "--checkpoint", CliCase.Missing, "--speaker", "theo", "--normalize", "global"),
        CliCase.Of(2, "FILE.wav", Transcribe),
        CliCase.Of(2, "unknown option --new-recordings", [.. Transcribe, "a.wav", "--new-recordings"]),
        CliCase.Of(2, "--decoding", [.. Transcribe, "--decoding", "viterbi", "a.wav"]),
        CliCase.Of(2, "--combine", [.. Transcribe, "--combine", "average", "a.wav"]),
        CliCase.Of(2, "--speeds 0.9,x", [.. Transcribe, "--speeds", "0.9,x", "a.wav"]),
        CliCase.Of(2, "--adapt -1", [.. Transcribe, "--adapt", "-1", "a.wav"]),
        CliCase.Of(2, "--balance 0.5", [.. Transcribe, "--adapt", "5", "--balance", "0.5", "a.wav"]),
        CliCase.Of(2, "give --adapt ROUNDS too", [.. Transcribe, "--balance", "1.25", "a.wav"]),
        CliCase.Of(2, "cannot be combined with --each", [.. Transcribe, "--adapt", "5", "--each", "a.wav"]),
        CliCase.Of(1, CliCase.Missing, [.. Transcribe, "a.wav"]),
        CliCase.Of(2, "--out", "asr", "adapt", "--checkpoint", CliCase.Missing, "a.wav"),
        CliCase.Of(2, "--rounds 0", "asr", "adapt", "--checkpoint", CliCase.Missing, "--out", "x", "--rounds", "0", "a.wav"),
        CliCase.Of(2, "leads to the --checkpoint folder", "asr", "adapt", "--checkpoint", CliCase.Missing, "--out", CliCase.Missing, "a.wav"));

    [Theory]
    [MemberData(nameof(Cases))]
    public void BadInput_GetsAClearAnswer(CliCase c) => c.Check();
}
