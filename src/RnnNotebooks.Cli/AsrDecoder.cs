using System.CommandLine;
using System.Globalization;
using RnnNotebooks.Speech;

namespace RnnNotebooks.Cli;

/// <summary>The options that choose how audio is decoded, shared by eval and transcribe.</summary>
sealed record AsrDecoder(Option<string[]> Checkpoints, Option<string> Combine, Option<string> Decoding, Option<int> AdaptRounds,
    Option<double?> Balance, Option<bool> Vote, Option<string> Speeds, Option<int> Threads)
{
    public static AsrDecoder AddTo(Command command)
    {
        var d = new AsrDecoder(AsrCommand.Checkpoints(), AsrCommand.Combine(), AsrCommand.DecodingOption(),
            CliOptions.Int("--adapt", "self-train on the voice's own audio first, no transcripts (rounds, e.g. 5; 0: none)", 0),
            AsrCommand.BalanceOption(),
            CliOptions.Flag("--vote", "recognise at nine speeds, 0.8-1.2, and keep the transcript most agree on"),
            new Option<string>("--speeds") { Description = "recognise at these speed factors (comma-separated, e.g. 0.9,1,1.1) and vote", HelpName = "LIST" },
            CliOptions.Threads());
        foreach (var o in new Option[] { d.Checkpoints, d.Combine, d.Decoding, d.AdaptRounds, d.Balance, d.Vote, d.Speeds, d.Threads }) command.Add(o);
        return d;
    }

    public CtcDecoding DecodingOf(ParseResult p) => AsrCommand.Decoding(p.GetValue(Decoding));

    /// <summary><c>--adapt ROUNDS</c> (with <c>--balance CAP</c>): null when absent or 0.</summary>
    public SpeakerAdaptationOptions? Adaptation(ParseResult p)
    {
        var rounds = p.GetValue(AdaptRounds);
        if (rounds < 0) throw new UsageException($"--adapt {rounds}: expected a number of self-training rounds, e.g. 5, or 0 for none.");
        var balance = AsrCommand.CheckBalance(p.GetValue(Balance));
        if (rounds == 0 && balance is not null)
            throw new UsageException("--balance chooses the pseudo-labels of adaptation; give --adapt ROUNDS too.");
        return rounds == 0 ? null : new SpeakerAdaptationOptions(Rounds: rounds, WordCap: balance);
    }

    /// <summary><c>--vote</c> (the default nine speeds) or <c>--speeds LIST</c>: null when neither is given.</summary>
    public IReadOnlyList<double>? SpeedsOf(ParseResult p)
    {
        var list = p.GetValue(Speeds);
        if (list is null) return p.GetValue(Vote) ? SpeedVoting.DefaultFactors : null;
        var factors = new List<double>();
        foreach (var part in list.Split(',', StringSplitOptions.TrimEntries))
            factors.Add(double.TryParse(part, NumberStyles.Float, CultureInfo.InvariantCulture, out var f) ? f
                : throw new UsageException($"--speeds {list}: '{part}' is not a number; give speed factors separated by commas, e.g. 0.9,1,1.1."));
        try { SpeedVoting.ValidateFactors(factors, "--speeds"); }
        catch (ArgumentException e) { throw new UsageException(e.Message.Split(" (Parameter")[0]); }
        return factors;
    }

    public void ApplyThreads(ParseResult p) => Training.Threads.Apply(AsrCommand.Threads(p.GetValue(Threads), Threads));
}
