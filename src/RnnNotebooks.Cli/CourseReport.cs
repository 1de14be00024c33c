using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using RnnNotebooks.Notebook;

namespace RnnNotebooks.Cli;

/// <summary>How a lesson is run: as its notebook under dotnet-repl, or as its file-based app under <c>dotnet run</c>.</summary>
public enum LessonHost
{
    /// <summary><c>notebooks/NN-name.ipynb</c>, executed headless by dotnet-repl.</summary>
    Notebook,
    /// <summary><c>notebooks/NN-name.cs</c>, run as a program with <c>dotnet run</c>.</summary>
    App,
}

/// <summary>What the course runner should do.</summary>
/// <param name="RepoRoot">The folder holding <c>RnnNotebooks.sln</c>.</param>
/// <param name="Quick">Quick mode (<c>RNN_QUICK=1</c>) for every notebook, or full mode.</param>
/// <param name="Only">Notebook names or number prefixes to run ("00", "01-vanilla-rnn"); empty runs all.</param>
/// <param name="OutputDirectory">Where executed copies, logs and the report go (default <c>artifacts/notebooks</c>;
/// the report is written one level up, as <c>artifacts/results.md</c> and <c>.json</c>).</param>
/// <param name="Build">Build the library first, so notebooks load the current code.</param>
/// <param name="Timeout">Longest a single notebook may run.</param>
/// <param name="Host">Run the notebooks, or the lessons' file-based apps.</param>
public sealed record CourseRunOptions(
    string RepoRoot,
    bool Quick,
    IReadOnlyList<string>? Only = null,
    string? OutputDirectory = null,
    bool Build = true,
    TimeSpan? Timeout = null,
    LessonHost Host = LessonHost.Notebook);

/// <summary>How one notebook went.</summary>
/// <param name="Name">File name without extension, e.g. <c>00-getting-started</c>.</param>
/// <param name="Passed">No cell failed and no cell wrote an error.</param>
/// <param name="WallTime">Wall time of the whole run, kernel start included.</param>
/// <param name="Results">Headline results the notebook recorded.</param>
/// <param name="Errors">Error outputs found in the executed notebook (cell number and first lines).</param>
/// <param name="ExecutedPath">The executed copy, with outputs (for an app: what it printed).</param>
/// <param name="LogPath">What dotnet-repl or the app printed.</param>
/// <param name="ExitCode">dotnet-repl's exit code (0 clean, 2 a cell failed) or the app's, or null after a timeout.</param>
public sealed record NotebookRun(
    string Name, bool Passed, TimeSpan WallTime, IReadOnlyList<HeadlineResult> Results,
    IReadOnlyList<string> Errors, string ExecutedPath, string LogPath, int? ExitCode)
{
    /// <summary>The verdicts of the exercise checks that ran (the latest of each exercise).</summary>
    public IReadOnlyList<ExerciseVerdict> Exercises { get; init; } = [];
}

/// <summary>The course run: mode (and host), when, and every notebook's outcome.</summary>
public sealed record CourseReport(string Mode, DateTimeOffset Started, TimeSpan WallTime, IReadOnlyList<NotebookRun> Notebooks)
{
    /// <summary>True when every notebook passed (and there was at least one).</summary>
    public bool AllPassed => Notebooks.Count > 0 && Notebooks.All(n => n.Passed);
}

/// <summary>The course run as Markdown: <c>artifacts/results.md</c>.</summary>
static class CourseResults
{
    /// <summary>The Markdown report: a table with one row per notebook.</summary>
    public static string ToMarkdown(CourseReport report, string repoRoot)
    {
        var sb = new StringBuilder();
        sb.AppendLine("# Course run");
        sb.AppendLine();
        sb.AppendLine(CultureInfo.InvariantCulture,
            $"Mode **{report.Mode}**, started {report.Started:yyyy-MM-dd HH:mm:ss zzz}, {report.WallTime.TotalSeconds:F0} s in all, " +
            $"on {Environment.ProcessorCount} cores ({System.Runtime.InteropServices.RuntimeInformation.OSDescription}).");
        sb.AppendLine();
        sb.AppendLine("| notebook | status | wall time | results |");
        sb.AppendLine("|---|---|---:|---|");
        foreach (var run in report.Notebooks)
        {
            var results = run.Results.Count == 0 ? "" : string.Join("<br>", run.Results.Select(FormatResult));
            sb.AppendLine(CultureInfo.InvariantCulture,
                $"| {run.Name} | {(run.Passed ? "passed" : "**failed**")} | {run.WallTime.TotalSeconds:F1} s | {results} |");
        }
        var failed = report.Notebooks.Where(r => !r.Passed).ToList();
        if (failed.Count > 0)
        {
            sb.AppendLine();
            sb.AppendLine("## Errors");
            foreach (var run in failed)
            {
                sb.AppendLine();
                sb.AppendLine(CultureInfo.InvariantCulture, $"### {run.Name}");
                sb.AppendLine();
                sb.AppendLine(CultureInfo.InvariantCulture, $"Executed copy: `{Path.GetRelativePath(repoRoot, run.ExecutedPath)}`, log: `{Path.GetRelativePath(repoRoot, run.LogPath)}`");
                sb.AppendLine();
                sb.AppendLine("```");
                foreach (var e in run.Errors) sb.AppendLine(e);
                sb.AppendLine("```");
            }
        }
        return sb.ToString();
    }

    internal static string FormatResult(HeadlineResult r) =>
        string.Create(CultureInfo.InvariantCulture, $"{r.Name} = {r.Value:G6}{(r.Unit is null ? "" : " " + r.Unit)}");
}
