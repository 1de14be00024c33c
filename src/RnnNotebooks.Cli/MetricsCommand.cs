using System.CommandLine;
using System.Text.Json;
using RnnNotebooks.Metrics;

namespace RnnNotebooks.Cli;

/// <summary><c>rnn metrics bleu</c>: corpus BLEU of a hypothesis file against one or more reference files.</summary>
static class MetricsCommand
{
    public static Command Build() => new("metrics", "Scores of system output against references, as JSON.") { BleuCommand() };

    static Command BleuCommand()
    {
        var hyps = CliOptions.Text("--hyps", "the hypotheses, one per line (UTF-8)", required: true, helpName: "FILE");
        var refs = new Option<string[]>("--refs")
        {
            Description = "a reference file, one line per hypothesis in the same order; give it once per reference set",
            Required = true, Arity = ArgumentArity.OneOrMore, HelpName = "FILE",
        };
        var tokenize = CliOptions.Choice("--tokenize", "13a: sacreBLEU's default tokenizer; none: split on whitespace", "13a", "none");
        var lowercase = CliOptions.Flag("--lowercase", "compare in lower case");
        var command = new Command("bleu", "Corpus BLEU of a hypothesis file against one or more reference files.") { hyps, refs, tokenize, lowercase };
        command.SetAction(p => Score(p.GetValue(hyps)!, p.GetValue(refs)!, p.GetValue(tokenize) == "none" ? BleuTokenizer.Whitespace : BleuTokenizer.Thirteen13a,
            p.GetValue(lowercase)));
        return command;
    }

    static int Score(string hypsPath, IReadOnlyList<string> refPaths, BleuTokenizer tokenizer, bool lowercase)
    {
        var options = new BleuOptions(Tokenizer: tokenizer, Lowercase: lowercase);
        var hyps = ReadLines(hypsPath);
        var refs = refPaths.Select(p => (IReadOnlyList<string>)ReadLines(p)).ToList();
        for (var k = 0; k < refs.Count; k++)
            if (refs[k].Count != hyps.Count)
                throw new InvalidDataException(
                    $"{refPaths[k]} has {refs[k].Count} lines but {hypsPath} has {hyps.Count}; each reference file needs one " +
                    "line per hypothesis, in the same order.");
        var score = Bleu.FromStreams(hyps, refs, options);
        var summary = new Dictionary<string, object>(score.ToSummary())
        {
            ["tokenize"] = tokenizer == BleuTokenizer.Thirteen13a ? "13a" : "none",
            ["lowercase"] = options.Lowercase,
            ["references"] = refs.Count,
        };
        Console.WriteLine(JsonSerializer.Serialize(summary, Json.Options));
        Console.Error.WriteLine(score);
        return 0;
    }

    /// <summary>The lines of a UTF-8 file, without a trailing empty line.</summary>
    internal static List<string> ReadLines(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: no such file.", path);
        var lines = File.ReadAllText(path).Split('\n').Select(l => l.TrimEnd('\r')).ToList();
        if (lines.Count > 0 && lines[^1].Length == 0) lines.RemoveAt(lines.Count - 1);
        return lines;
    }
}
