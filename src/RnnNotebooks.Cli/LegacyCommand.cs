using System.CommandLine;

namespace RnnNotebooks.Cli;

/// <summary>A command still parsing its own words (CliArgs) inside the System.CommandLine tree.</summary>
static class LegacyCommand
{
    public static Command Build(string name, string description, Func<string[], int> run)
    {
        var words = new Argument<string[]>("ARGS") { Arity = ArgumentArity.ZeroOrMore, CaptureRemainingTokens = true };
        var command = new Command(name, description) { words };
        command.SetAction(p => run(p.GetValue(words) ?? []));
        return command;
    }
}
