using System.Collections;
using System.Globalization;
using System.Net;
using System.Reflection;
using System.Text;
using System.Text.RegularExpressions;
using Microsoft.DotNet.Interactive;
using Microsoft.DotNet.Interactive.Formatting;
using TorchSharp;

namespace RnnNotebooks.Notebook;

/// <summary>
/// What differs between the two ways a lesson runs — as a notebook (VS Code, Jupyter, dotnet-repl) and as a
/// file-based app (<c>dotnet run notebooks/NN-name.cs</c>, the debugger) — so that lesson cells are the same in
/// both. Lessons bring it in with <c>using static RnnNotebooks.Notebook.Host;</c> and call <see cref="Show"/>.
/// </summary>
/// <remarks>Introduced in 00-getting-started.</remarks>
public static partial class Host
{
    static int chartsShown;
    static int plotlyLoaded;

    /// <summary>True inside a .NET Interactive kernel (VS Code, Jupyter, dotnet-repl).</summary>
    public static bool IsNotebook => KernelInvocationContext.Current is not null;

    /// <summary>Where the app writes what a console cannot show (charts, HTML): <c>artifacts/lessons/NAME</c>.</summary>
    public static string ArtifactsDirectory =>
        Path.Combine(Course.TryFindRepoRoot() ?? Directory.GetCurrentDirectory(), "artifacts", "lessons", LessonName);

    /// <summary>The running lesson: the app's name (<c>00-getting-started</c>), or <c>notebook</c>.</summary>
    static string LessonName => Assembly.GetEntryAssembly()?.GetName().Name is { Length: > 0 } name && !IsNotebook ? name : "notebook";

    /// <summary>
    /// Shows a value. In a notebook: as the cell's output (tables, tensors, HTML, charts inline). In a console:
    /// as text, and a chart or an HTML fragment as a page under <see cref="ArtifactsDirectory"/>, whose path is printed.
    /// </summary>
    public static void Show(object? value)
    {
        if (value is not null && IsChart(value))
        {
            ShowChart(value);
            return;
        }
        if (IsNotebook)
        {
            Html.Register();
            Kernel.display(value!);
            return;
        }
        if (value is Html html)
        {
            var path = Save(html.Content, "html");
            Console.WriteLine(ToText(html) + $"\n(as HTML: {path})");
            return;
        }
        Console.WriteLine(ToText(value));
    }

    /// <summary>How <see cref="Show"/> writes a value in a console.</summary>
    public static string ToText(object? value) => value switch
    {
        null => "null",
        string s => s,
        torch.Tensor t => TensorFormatter.ToText(t),
        Html h => HtmlText(h.Content),
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        IEnumerable items => Table(items.Cast<object?>().ToList()),
        _ => value.ToString() ?? "",
    };

    // Plotly types are only touched after the check: loading them needs the FSharp.Core redirect of Course.Setup.
    static bool IsChart(object value) =>
        value.GetType().FullName?.StartsWith("Plotly.NET.GenericChart", StringComparison.Ordinal) == true;

    static void ShowChart(object chart)
    {
        var typed = (Plotly.NET.GenericChart)chart;
        if (IsNotebook)
        {
            // plotly.js (about 3.5 MB) goes out once per kernel; later charts find window.Plotly.
            var html = Interlocked.Exchange(ref plotlyLoaded, 1) == 0 ? Charts.PlotlyScript() + Charts.ToHtml(typed) : Charts.ToHtml(typed);
            Html.Display(html);
            return;
        }
        var path = Path.Combine(ArtifactsDirectory, $"chart-{Interlocked.Increment(ref chartsShown):00}.html");
        Directory.CreateDirectory(ArtifactsDirectory);
        Charts.SaveHtml(typed, path);
        Console.WriteLine($"chart: {path}");
    }

    static string Save(string html, string kind)
    {
        Directory.CreateDirectory(ArtifactsDirectory);
        var path = Path.Combine(ArtifactsDirectory, $"{kind}-{Interlocked.Increment(ref chartsShown):00}.html");
        AtomicFile.WriteAllText(path, "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"></head><body>\n" + html + "\n</body></html>\n");
        return path;
    }

    /// <summary>A text table of a sequence: one column per property for records and anonymous objects.</summary>
    static string Table(IReadOnlyList<object?> items)
    {
        const int maxRows = 60;
        var first = items.FirstOrDefault(i => i is not null);
        var properties = first is null || first is string || first is IFormattable
            ? []
            : first.GetType().GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.GetIndexParameters().Length == 0).ToArray();
        if (properties.Length == 0)
            return string.Join("\n", items.Take(maxRows).Select(ToText)) + More(items.Count, maxRows);

        var rows = new List<string[]> { properties.Select(p => p.Name).ToArray() };
        rows.AddRange(items.Take(maxRows).Select(i => properties.Select(p => i is null ? "" : Cell(p.GetValue(i))).ToArray()));
        var widths = Enumerable.Range(0, properties.Length).Select(c => rows.Max(r => r[c].Length)).ToArray();
        var sb = new StringBuilder();
        foreach (var row in rows)
            sb.Append(string.Join("  ", row.Select((cell, c) => cell.PadRight(widths[c]))).TrimEnd()).Append('\n');
        return sb.ToString().TrimEnd() + More(items.Count, maxRows);
    }

    static string Cell(object? value) => value is IEnumerable e and not string
        ? "[" + string.Join(", ", e.Cast<object?>().Take(8).Select(ToText)) + "]"
        : ToText(value).ReplaceLineEndings(" ");

    static string More(int count, int shown) => count > shown ? $"\n… {count - shown} more" : "";

    static string HtmlText(string html)
    {
        var text = LineBreaks().Replace(html, "\n");
        text = CellBreaks().Replace(text, "  ");
        text = WebUtility.HtmlDecode(Tags().Replace(text, ""));
        return string.Join("\n", text.Split('\n').Select(l => l.TrimEnd())).Trim();
    }

    [GeneratedRegex(@"<(br|/tr|/p|/div|/h\d)\s*/?>", RegexOptions.IgnoreCase)]
    private static partial Regex LineBreaks();

    [GeneratedRegex(@"</t[dh]>", RegexOptions.IgnoreCase)]
    private static partial Regex CellBreaks();

    [GeneratedRegex(@"<[^>]*>")]
    private static partial Regex Tags();
}
