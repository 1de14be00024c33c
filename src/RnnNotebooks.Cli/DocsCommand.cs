using System.CommandLine;
using System.CommandLine.Completions;
using System.CommandLine.Help;
using System.Globalization;
using System.Text;

namespace RnnNotebooks.Cli;

/// <summary><c>rnn docs cli</c> (hidden): docs/cli.md rendered from the command tree, so the page cannot drift from the
/// commands; a test compares the committed page with this output.</summary>
static class DocsCommand
{
    public static Command Build()
    {
        var output = new Option<string>("--out") { Description = "write the page to this file instead of stdout" };
        var cli = new Command("cli", "Render docs/cli.md from the command tree.") { output };
        cli.SetAction(p =>
        {
            var markdown = Render(Cli.Tree());
            if (p.GetValue(output) is { } path) AtomicFile.WriteAllText(path, markdown);
            else Console.Write(markdown);
            return 0;
        });
        return new Command("docs", "Documentation generated from the code.") { Hidden = true, Subcommands = { cli } };
    }

    /// <summary>The Markdown page of every visible command under <paramref name="root"/>.</summary>
    public static string Render(Command root)
    {
        var w = new StringBuilder();
        w.Append(CliDocsText.Preamble);
        foreach (var command in root.Subcommands.Where(c => !c.Hidden))
        {
            w.Append($"\n## {Cli.CommandPath(command)}\n\n{command.Description}\n");
            if (CliDocsText.Notes.TryGetValue(command.Name, out var note)) w.Append($"\n{note.Trim()}\n");
            var leaves = command.Subcommands.Count == 0 ? [command] : command.Subcommands.Where(c => !c.Hidden).ToList();
            foreach (var leaf in leaves)
            {
                if (leaf != command) w.Append($"\n### {Cli.CommandPath(leaf)}\n\n{leaf.Description}\n");
                w.Append($"\n```\n{Synopsis(leaf)}\n```\n");
                var options = leaf.Options.Where(o => o is not HelpOption && !o.Hidden).ToList();
                if (options.Count + leaf.Arguments.Count == 0) continue;
                w.Append("\n| option | type | default | meaning |\n|---|---|---|---|\n");
                foreach (var a in leaf.Arguments) w.Append($"| `{a.Name}` | {TypeOf(a.ValueType, [])} | | {Cell(a.Description)} |\n");
                foreach (var o in options)
                    w.Append($"| `{o.Name}`{(o.Required ? " (required)" : "")} | {TypeOf(o.ValueType, Choices(o))} | {DefaultOf(o)} | {Cell(o.Description)} |\n");
            }
        }
        return w.ToString();
    }

    /// <summary>One line of usage: required options bare, the others in brackets, positionals last.</summary>
    internal static string Synopsis(Command command)
    {
        var words = new List<string> { Cli.CommandPath(command) };
        foreach (var o in command.Options.Where(o => o is not HelpOption && !o.Hidden))
        {
            var choices = Choices(o);
            var value = o.ValueType == typeof(bool) ? "" : " " + (choices.Count > 0 ? string.Join('|', choices) : o.HelpName ?? Placeholder(o.ValueType));
            var repeat = o.ValueType.IsArray ? " ..." : "";
            words.Add(o.Required ? $"{o.Name}{value}{repeat}" : $"[{o.Name}{value}]{repeat}");
        }
        foreach (var a in command.Arguments)
            words.Add(a.Arity.MinimumNumberOfValues == 0 ? $"[{a.Name}{(a.Arity.MaximumNumberOfValues > 1 ? " ..." : "")}]"
                : $"{a.Name}{(a.Arity.MaximumNumberOfValues > 1 ? " ..." : "")}");
        // Wrapped at about 110 columns, continuation lines indented under the first option.
        var indent = new string(' ', words[0].Length + 1);
        var lines = new List<string> { words[0] };
        foreach (var word in words.Skip(1))
            if (lines[^1].Length + 1 + word.Length > 110) lines.Add(indent + word);
            else lines[^1] += " " + word;
        return string.Join('\n', lines);
    }

    static IReadOnlyList<string> Choices(Option option) =>
        option.ValueType == typeof(bool) ? []
            : [.. option.GetCompletions(CompletionContext.Empty).Select(c => c.Label).Where(l => !l.StartsWith('-'))];

    static string Placeholder(Type type) =>
        (Nullable.GetUnderlyingType(type) ?? (type.IsArray ? type.GetElementType()! : type)) switch
        {
            var t when t == typeof(int) => "N",
            var t when t == typeof(double) => "X",
            _ => "TEXT",
        };

    static string TypeOf(Type type, IReadOnlyList<string> choices)
    {
        if (type == typeof(bool)) return "switch";
        if (choices.Count > 0) return string.Join(" \\| ", choices.Select(c => $"`{c}`"));
        var element = Nullable.GetUnderlyingType(type) ?? (type.IsArray ? type.GetElementType()! : type);
        var name = element == typeof(int) ? "integer" : element == typeof(double) ? "number" : "text";
        return type.IsArray ? name + ", repeatable" : name;
    }

    static string DefaultOf(Option option)
    {
        if (!option.HasDefaultValue || option.ValueType == typeof(bool)) return "";
        return option.GetDefaultValue() switch
        {
            int.MaxValue => "all",
            IFormattable f => $"`{f.ToString(null, CultureInfo.InvariantCulture)}`",
            { } v => $"`{v}`",
            null => "",
        };
    }

    static string Cell(string? text) => (text ?? "").Replace("|", "\\|").Replace("\n", " ");
}
