// Lists every number in a notebook's prose (markdown cells) that its output log does not print.
//
//   dotnet run tools/prose-numbers.cs -- notebooks/01-vanilla-rnn.ipynb /tmp/01-full.log
//
// Exit code 0 when every number is found, 1 when any is missing, 2 on a usage or file error.
// What is not a figure and is skipped: maths ($…$, $$…$$), code (`…` and fenced blocks), link targets and
// file names, a heading's section number, list and exercise numbering (1. / **1.**), the number after
// "lesson", "notebook", "section", "exercise" or "step", and a zero-padded lesson number (01). A number glued
// to letters (float32, h_0, SHA-256) is a name, not a figure. A property of the maths written in words (e.g.
// "a factor of 2") can be declared in its cell with <!-- prose-numbers: allow 2 -->. Numbers match textually
// after removing thousands separators, so the prose quotes a figure exactly as the run prints it.
using System.Text.Json;
using System.Text.RegularExpressions;

if (args.Length != 2 || args[0] is "-h" or "--help")
{
    Console.Error.WriteLine("usage: dotnet run tools/prose-numbers.cs -- NOTEBOOK.ipynb OUTPUT.log");
    Console.Error.WriteLine("Lists the numbers in the notebook's markdown cells that OUTPUT.log does not contain; exit 1 if any.");
    return args.Length == 1 && args[0] is "-h" or "--help" ? 0 : 2;
}
var (notebookPath, logPath) = (args[0], args[1]);
foreach (var p in new[] { notebookPath, logPath })
    if (!File.Exists(p))
    {
        Console.Error.WriteLine($"{p}: file not found. Pass the notebook (.ipynb) and the log of its full-mode run, e.g. dotnet run notebooks/NN-name.cs > /tmp/NN-full.log");
        return 2;
    }

List<string> markdownCells;
try
{
    using var doc = JsonDocument.Parse(File.ReadAllText(notebookPath));
    markdownCells = doc.RootElement.GetProperty("cells").EnumerateArray()
        .Where(c => c.GetProperty("cell_type").GetString() == "markdown")
        .Select(c => c.GetProperty("source") is var s && s.ValueKind == JsonValueKind.Array
            ? string.Concat(s.EnumerateArray().Select(l => l.GetString()))
            : s.GetString() ?? "")
        .ToList();
}
catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException)
{
    Console.Error.WriteLine($"{notebookPath}: not a Jupyter notebook ({e.Message}). Pass the .ipynb file, not the app.");
    return 2;
}

var printed = NumberText.InLog(File.ReadAllText(logPath));
var missing = 0;
var total = 0;
for (var i = 0; i < markdownCells.Count; i++)
{
    var cell = markdownCells[i];
    var allowed = NumberText.Allowed(cell);
    foreach (var (number, line) in NumberText.InProse(cell))
    {
        total++;
        if (printed.Contains(number) || allowed.Contains(number)) continue;
        missing++;
        Console.WriteLine($"markdown cell {i + 1}: {number} not in the log — \"{line.Trim()}\"");
    }
}
Console.WriteLine(missing == 0
    ? $"{total} numbers in the prose of {Path.GetFileName(notebookPath)}, all printed in {Path.GetFileName(logPath)}."
    : $"{missing} of {total} numbers in the prose of {Path.GetFileName(notebookPath)} are not printed in {Path.GetFileName(logPath)}.");
return missing == 0 ? 0 : 1;

static partial class NumberText
{
    // A number not glued to a letter, digit, underscore or dot on either side; thousands groups are removed later.
    [GeneratedRegex(@"(?<![\w.]|[A-Za-z]-)\d{1,3}(?:[,\u2009\u202F\u00A0']\d{3})+(?:\.\d+)?(?![\w])|(?<![\w.]|[A-Za-z]-)\d+(?:\.\d+)?(?:[eE][-+]?\d+)?(?![\w]|\.\d)")]
    private static partial Regex ProseNumber();

    // In a log a figure may be glued to anything (loss=1.73, 12/40, epoch12).
    [GeneratedRegex(@"\d{1,3}(?:[,\u2009\u202F\u00A0']\d{3})+(?:\.\d+)?(?!\d)|\d+(?:\.\d+)?(?:[eE][-+]?\d+)?")]
    private static partial Regex LogNumber();

    [GeneratedRegex(@"```.*?```|`[^`\n]*`|\$\$.*?\$\$|(?<!\\)\$[^$\n]+?\$|\]\([^)]*\)|<!--.*?-->|<[^>\n]+>", RegexOptions.Singleline)]
    private static partial Regex NotProse();

    [GeneratedRegex(@"[\w.\-]*/[\w.\-/]*|\b[\w\-]+\.(?:ipynb|cs|csx|md|txt|json|csv|html|png|svg|py|sh|log|wav|flac|jpg|dll|csproj|sln|props|pt|bin)\b", RegexOptions.IgnoreCase)]
    private static partial Regex FileName();

    [GeneratedRegex(@"(?<![\w.])0\d(?![\w.])|^\s*#+\s*\d+(?:\.\d+)*\.?|^\s*(?:[-*]\s+)?(?:\*\*)?\d+[.)](?:\*\*)?(?=\s)|\*\*\d+\.\*\*", RegexOptions.Multiline)]
    private static partial Regex Numbering();

    [GeneratedRegex(@"\b(?:lessons?|notebooks?|sections?|exercises?|steps?|cells?|issues?)\s+\d+(?:\s*(?:[–-]|and|or|,)\s*\d+)*", RegexOptions.IgnoreCase)]
    private static partial Regex Reference();

    [GeneratedRegex(@"<!--\s*prose-numbers:\s*allow\s+([^>]*?)-->")]
    private static partial Regex AllowComment();

    public static string Normalise(string number) => Regex.Replace(number, @"(?<=\d)[,\u2009\u202F\u00A0'](?=\d{3})", "");

    public static HashSet<string> InLog(string log) =>
        LogNumber().Matches(log).Select(m => Normalise(m.Value)).ToHashSet();

    public static HashSet<string> Allowed(string cell) =>
        AllowComment().Matches(cell)
            .SelectMany(m => m.Groups[1].Value.Split([' ', ','], StringSplitOptions.RemoveEmptyEntries))
            .Select(Normalise).ToHashSet();

    public static IEnumerable<(string Number, string Line)> InProse(string cell)
    {
        // Blank out what is not prose with spaces of the same length, so line positions stay put.
        static string Blank(Match m) => Regex.Replace(m.Value, @"[^\n]", " ");
        var text = NotProse().Replace(cell, Blank);
        text = FileName().Replace(text, Blank);
        text = Numbering().Replace(text, Blank);
        text = Reference().Replace(text, Blank);
        var lines = cell.Split('\n');
        foreach (Match m in ProseNumber().Matches(text))
        {
            var lineIndex = text.AsSpan(0, m.Index).Count('\n');
            yield return (Normalise(m.Value), lines[Math.Min(lineIndex, lines.Length - 1)]);
        }
    }
}
