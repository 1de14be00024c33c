using System.CommandLine;
using System.CommandLine.Help;
using System.CommandLine.Parsing;
using RnnNotebooks.Platform;

namespace RnnNotebooks.Cli;

/// <summary>The <c>rnn</c> command: the course's pipelines at longer budgets, and the course runner.</summary>
/// <remarks>
/// System.CommandLine parses and types the arguments and prints help; the options records of the library validate them.
/// Exit codes: 0 done, 1 a runtime failure (a missing file, bad data), 2 a usage mistake (parse error or a value the library
/// rejects, named by its option), 130 stopped by Ctrl-C (<see cref="CtrlC"/>).
/// </remarks>
static class Cli
{
    /// <summary>The exit code of a usage mistake.</summary>
    public const int UsageError = 2;

    /// <summary>The whole command tree; built afresh for every run, so nothing carries over between calls in one process.</summary>
    public static Command Tree()
    {
        var root = new Command("rnn", "The RnnNotebooks course from the command line.") { new HelpOption() };
        root.Add(DoctorCommand.Build());
        root.Add(DoctorCommand.BuildEnvAlias());
        root.Add(CourseCommand.Build());
        root.Add(NotebooksCommand.Build());
        root.Add(DataCommand.Build());
        root.Add(PackCommand.Build());
        root.Add(LmCommand.Build());
        root.Add(TranslateCommand.Build());
        root.Add(MetricsCommand.Build());
        root.Add(AsrCommand.Build());
        root.Add(CaptionCommand.Build());
        root.Add(BenchCommand.Build());
        root.Add(DocsCommand.Build());
        RejectOptionsAsArguments(root);
        return root;
    }

    /// <summary>A command that takes words (files, names, a prompt) would take a misspelt option such as <c>--quik</c> as
    /// one of them; every such word starting with a dash is an unknown option instead.</summary>
    static void RejectOptionsAsArguments(Command command)
    {
        foreach (var argument in command.Arguments)
            argument.Validators.Add(r =>
            {
                foreach (var token in r.Tokens.Where(t => t.Value.Length > 1 && t.Value.StartsWith('-')))
                    r.AddError($"unknown option {token.Value}.");
            });
        foreach (var sub in command.Subcommands) RejectOptionsAsArguments(sub);
    }

    public static int Run(string[] args)
    {
        var root = Tree();
        var config = new InvocationConfiguration
        {
            Output = Console.Out,
            Error = Console.Error,
            EnableDefaultExceptionHandler = false,     // Run reports failures itself, without a stack trace
            ProcessTerminationTimeout = null,          // Ctrl-C belongs to the training commands (CtrlC)
        };
        if (args.Length == 0)
        {
            root.Parse(["--help"]).Invoke(config);
            return UsageError;
        }
        var parsed = root.Parse(args);
        var name = CommandPath(parsed.CommandResult.Command);
        if (parsed.Action is HelpAction)
        {
            // Help leaves hidden commands out, even the one it was asked about (rnn docs -h printed nothing); the
            // tree is built for this run alone, so showing it here changes nothing else.
            parsed.CommandResult.Command.Hidden = false;
            return parsed.Invoke(config);
        }
        if (parsed.Errors.Count > 0)
        {
            // A misspelt subcommand also reports that none was given; the unknown word is the news.
            var misspelt = parsed.UnmatchedTokens.Count > 0;
            foreach (var error in parsed.Errors)
                if (!(misspelt && error.SymbolResult is CommandResult { Command: { Action: null, Subcommands.Count: > 0 } }
                      && !parsed.UnmatchedTokens.Any(error.Message.Contains)))
                    Console.Error.WriteLine($"{name}: {error.Message}");
            PrintUsage(parsed.CommandResult.Command);
            return UsageError;
        }
        try
        {
            if (!DoctorCommand.LoadsTorchItself(parsed.CommandResult.Command))
            {
                TorchRuntime.Prepare();
                TorchRuntime.AnnounceOnce(Console.Error);   // stderr: stdout may be JSON or transcripts for a pipe
            }
            return parsed.Invoke(config);
        }
        catch (UsageException e)
        {
            Console.Error.WriteLine($"{name}: {e.Message}");
            PrintUsage(parsed.CommandResult.Command);
            return UsageError;
        }
        catch (Exception e) when (e is IOException or InvalidDataException or UnauthorizedAccessException or ArgumentException
                                      or InvalidOperationException or NotSupportedException)
        {
            Console.Error.WriteLine($"{name}: {MessageOf(e)}");
            return 1;
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            Console.Error.WriteLine($"{name}: unexpected {e.GetType().Name}: {MessageOf(e)} (a bug: please report it with the command that caused it).");
            return 1;
        }
    }

    static void PrintUsage(Command command)
    {
        var name = CommandPath(command);
        Console.Error.WriteLine(command.Subcommands.Count > 0
            ? $"usage: {name} {string.Join('|', command.Subcommands.Where(c => !c.Hidden).Select(c => c.Name))} [options]"
            : $"usage: {DocsCommand.Synopsis(command)}");
        Console.Error.WriteLine($"'{name} -h' explains every option.");
    }

    /// <summary>"rnn lm train" for the command <c>train</c> under <c>lm</c>.</summary>
    public static string CommandPath(Command command)
    {
        var names = new List<string>();
        for (Symbol? s = command; s is Command c; s = s.Parents.FirstOrDefault()) names.Insert(0, c.Name);
        return string.Join(' ', names);
    }

    /// <summary>The message without .NET's "(Parameter 'x')" suffix, and with the library's advice to call
    /// <c>Datasets.Ensure("x")</c> or <c>Datasets.Verify("x")</c> given as the commands that do the same: neither
    /// means anything to a command-line user.</summary>
    internal static string MessageOf(Exception e)
    {
        var message = e is ArgumentException { ParamName: { } p } a ? a.Message.Replace($" (Parameter '{p}')", "") : e.Message;
        message = System.Text.RegularExpressions.Regex.Replace(message, @"Datasets\.Ensure\(""([^""]+)""\)", "`rnn data fetch $1`");
        return System.Text.RegularExpressions.Regex.Replace(message, @"Datasets\.Verify\(""([^""]+)""\)", "`rnn data verify $1`");
    }

    /// <summary>Runs the library's check of an options record; a property it rejects becomes a usage error naming its option
    /// (<paramref name="optionOf"/>: property name to option). Other properties' errors pass through unchanged.</summary>
    public static void Check(Action validate, IReadOnlyDictionary<string, Option> optionOf)
    {
        try
        {
            validate();
        }
        catch (ArgumentException e) when (e.ParamName is { } p && optionOf.TryGetValue(p, out var option))
        {
            var value = e is ArgumentOutOfRangeException { ActualValue: { } v } ? $" {Convert.ToString(v, System.Globalization.CultureInfo.InvariantCulture)}" : "";
            throw new UsageException($"{option.Name}{value}: {e.Message.Split('\n')[0].Split(" (Parameter")[0]}");
        }
    }
}

/// <summary>A value the library rejected, named by its option: printed with a pointer to the usage, exit code 2.</summary>
sealed class UsageException(string message) : Exception(message);
