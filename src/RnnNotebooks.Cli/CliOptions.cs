using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using RnnNotebooks.Training;

namespace RnnNotebooks.Cli;

/// <summary>The options the commands share, and typed options whose numbers are read the invariant way.</summary>
/// <remarks>System.CommandLine reads numbers with the current culture; ours are written in scripts and docs, so
/// <c>0,5</c> must be an error everywhere rather than five in one locale, and NaN or an infinity is never a setting.</remarks>
static class CliOptions
{
    /// <summary>A whole number; <paramref name="default"/> is shown in the help.</summary>
    public static Option<int> Int(string name, string description, int @default) =>
        new(name) { Description = description, HelpName = "N", DefaultValueFactory = _ => @default, CustomParser = r => ParseInt(r) ?? @default };

    /// <summary>A whole number whose absence means "the recipe's default" (described in <paramref name="description"/>).</summary>
    public static Option<int?> OptionalInt(string name, string description) =>
        new(name) { Description = description, HelpName = "N", CustomParser = ParseInt };

    /// <summary>A finite number written the invariant way (<c>0.5</c>).</summary>
    public static Option<double> Double(string name, string description, double @default) =>
        new(name) { Description = description, HelpName = "X", DefaultValueFactory = _ => @default, CustomParser = r => ParseDouble(r) ?? @default };

    /// <summary>A finite number whose absence means "the recipe's default".</summary>
    public static Option<double?> OptionalDouble(string name, string description) =>
        new(name) { Description = description, HelpName = "X", CustomParser = ParseDouble };

    /// <summary>One word out of <paramref name="allowed"/>, the first being the default.</summary>
    public static Option<string> Choice(string name, string description, params string[] allowed) =>
        OneOf(new Option<string>(name) { Description = description, DefaultValueFactory = _ => allowed[0] }, allowed);

    /// <summary>Restricts a text option to <paramref name="allowed"/> (also offered as completions); a wrong word is an
    /// error naming the option and the choices.</summary>
    public static Option<string> OneOf(Option<string> option, params string[] allowed)
    {
        option.CompletionSources.Add(allowed);
        option.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<string>() is { } value && !allowed.Contains(value))
                r.AddError($"{option.Name} {value}: expected {(allowed.Length == 1 ? allowed[0] : $"{string.Join(", ", allowed[..^1])} or {allowed[^1]}")}.");
        });
        return option;
    }

    /// <summary>A word or a path; <paramref name="helpName"/> (DIR, FILE, …) stands for the value in the usage.</summary>
    public static Option<string> Text(string name, string description, string? @default = null, bool required = false, string? helpName = null)
    {
        var option = new Option<string>(name) { Description = description, Required = required, HelpName = helpName };
        if (@default is not null) option.DefaultValueFactory = _ => @default;
        return option;
    }

    public static Option<bool> Flag(string name, string description) => new(name) { Description = description };

    /// <summary>Makes two flags exclusive: giving both is a usage error.</summary>
    public static void Exclusive(Command command, Option<bool> a, Option<bool> b, string why) =>
        command.Validators.Add(r =>
        {
            if (r.GetValue(a) && r.GetValue(b)) r.AddError($"{a.Name} and {b.Name} {why}");
        });

    /// <summary><c>--threads</c>: 0 (automatic) or 1 to the core count; the library checks the range.</summary>
    public static Option<int> Threads() =>
        Int("--threads", "torch threads: 0 picks for the model's size, else 1 to the number of cores", 0);

    /// <summary><c>--beam</c> of the decoding commands; at least 1.</summary>
    public static Option<int> Beam()
    {
        var option = Int("--beam", "beam width (1: greedy)", 5);
        option.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<int>() < 1) r.AddError($"--beam {r.GetValueOrDefault<int>()}: expected 1 or more.");
        });
        return option;
    }

    /// <summary><c>--force</c> and <c>--resume</c>, what a training command does with a checkpoint already in <c>--out</c>.</summary>
    public sealed record ExistingOptions(Option<bool> Force, Option<bool> Resume)
    {
        public ExistingCheckpoint Get(ParseResult p) =>
            p.GetValue(Force) ? ExistingCheckpoint.Replace : p.GetValue(Resume) ? ExistingCheckpoint.Resume : ExistingCheckpoint.ResumeIfSame;
    }

    /// <summary>Adds <c>--force</c> and <c>--resume</c> to a training command (neither: resume only a checkpoint of the same
    /// options).</summary>
    public static ExistingOptions Existing(Command command)
    {
        var force = Flag("--force", "an existing --out: start over, replacing it");
        var resume = Flag("--resume", "an existing --out: continue it with its own options");
        command.Add(force);
        command.Add(resume);
        Exclusive(command, force, resume, "contradict each other (start over, or continue).");
        return new(force, resume);
    }

    static int? ParseInt(ArgumentResult r)
    {
        var token = r.Tokens.Single().Value;
        if (int.TryParse(token, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value)) return value;
        r.AddError($"{OptionName(r)} {token}: expected a whole number.");
        return null;
    }

    static double? ParseDouble(ArgumentResult r)
    {
        var token = r.Tokens.Single().Value;
        if (double.TryParse(token, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) && double.IsFinite(value)) return value;
        r.AddError($"{OptionName(r)} {token}: expected a finite number such as 0.5.");
        return null;
    }

    static string OptionName(ArgumentResult r) => r.Parent is OptionResult o ? o.Option.Name : r.Argument.Name;
}
