using System.Text.Json;
using RnnNotebooks.Metrics;

namespace RnnNotebooks.Cli;

/// <summary><c>rnn metrics bleu</c>: corpus BLEU of a hypothesis file against one or more reference files.</summary>
static class MetricsCommand
{
    public const string Usage =
        "rnn metrics bleu --hyps FILE --refs FILE [--refs FILE ...] [--tokenize 13a|none] [--lowercase]";

    public static int Run(string[] argv)
    {
        var args = new CliArgs(argv, new HashSet<string> { "lowercase" }, new HashSet<string> { "hyps", "refs", "tokenize" });
        if (args.Positionals.Count != 1 || args.Positionals[0] != "bleu")
            throw new UsageException(args.Positionals.Count == 0 ? "say which metric: bleu." : $"unknown metric '{string.Join(' ', args.Positionals)}'.");
        var hypsPath = args.Required("hyps");
        var refPaths = args.Options("refs");
        if (refPaths.Count == 0) throw new UsageException("--refs is required (give it once per reference set).");
        var tokenizer = (args.Option("tokenize") ?? "13a") switch
        {
            "13a" => BleuTokenizer.Thirteen13a,
            "none" => BleuTokenizer.Whitespace,
            var other => throw new UsageException($"--tokenize {other}: expected 13a or none."),
        };
        var options = new BleuOptions(Tokenizer: tokenizer, Lowercase: args.Flag("lowercase"));
        args.EnsureAllUsed();

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
