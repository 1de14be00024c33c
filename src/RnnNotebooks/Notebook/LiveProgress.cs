using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;
using Microsoft.DotNet.Interactive;
using Microsoft.DotNet.Interactive.Formatting;

namespace RnnNotebooks.Notebook;

/// <summary>One reading of a long-running job: where it is, and the numbers worth watching.</summary>
/// <param name="Step">Steps done so far.</param>
/// <param name="TotalSteps">Steps planned, when known (for the bar and the ETA).</param>
/// <param name="Values">Named numbers to show, e.g. epoch, loss, tokens/s.</param>
/// <param name="Elapsed">Wall time so far.</param>
/// <param name="Eta">Estimated time left, when known.</param>
public sealed record ProgressReading(
    long Step, long? TotalSteps, IReadOnlyList<KeyValuePair<string, double>> Values, TimeSpan Elapsed, TimeSpan? Eta);

/// <summary>
/// A throttled progress display: a bar that updates in place in a notebook and in a terminal (a line at a
/// time when the output is redirected to a file or a pipe). Updates are limited (default once a second)
/// because every notebook update costs time.
/// </summary>
/// <remarks>Introduced in 00-getting-started.</remarks>
public sealed class LiveProgress
{
    readonly string title;
    readonly TimeSpan minInterval;
    readonly TextWriter console;
    readonly bool inPlace;
    readonly Stopwatch sinceUpdate = new();
    int lastWidth;
    DisplayedValue? displayed;
    ProgressReading? last;

    /// <summary>Creates a display; nothing is shown until the first report.</summary>
    /// <param name="title">What is running, e.g. "char-RNN on timemachine".</param>
    /// <param name="minInterval">Shortest time between two updates (default 1 s).</param>
    /// <param name="console">Where to write outside a notebook (default standard error, so stdout stays clean for JSON).</param>
    public LiveProgress(string title, TimeSpan? minInterval = null, TextWriter? console = null)
    {
        this.title = title;
        this.minInterval = minInterval ?? TimeSpan.FromSeconds(1);
        this.console = console ?? Console.Error;
        // Redrawing a line with '\r' only makes sense on a terminal; a log gets one line per update.
        inPlace = console is null && !Console.IsErrorRedirected;
    }

    /// <summary>True inside a .NET Interactive kernel (VS Code, Jupyter, dotnet-repl).</summary>
    public static bool InNotebook => Host.IsNotebook;

    /// <summary>How many times the display was actually redrawn (the rest were throttled).</summary>
    public int Renders { get; private set; }

    /// <summary>Shows <paramref name="reading"/> if enough time has passed since the last update.</summary>
    public void Show(ProgressReading reading)
    {
        last = reading;
        if (sinceUpdate.IsRunning && sinceUpdate.Elapsed < minInterval) return;
        Render(reading, done: false);
    }

    /// <summary>Shows a trainer's progress: epoch, loss, tokens/s and any metrics, with the step bar and ETA.</summary>
    /// <remarks>Pass <c>progress: display.Report</c> to <see cref="Training.Trainer.Fit{TBatch}"/>.</remarks>
    public void Report(Training.TrainingProgress p) => Show(FromTraining(p));

    /// <summary>Shows the trainer's final progress, whatever the throttle says.</summary>
    public void Complete(Training.TrainingProgress p) => Complete(FromTraining(p));

    /// <summary>The reading that shows a trainer's progress.</summary>
    public static ProgressReading FromTraining(Training.TrainingProgress p)
    {
        var values = new List<KeyValuePair<string, double>> { new("epoch", p.Epoch), new("loss", p.Loss) };
        if (p.TokensPerSecond is { } tps) values.Add(new("tokens/s", tps));
        values.AddRange(p.Metrics.Where(m => m.Key != Training.TrainingHistory.TrainLossKey));
        return new ProgressReading(p.Step, p.TotalSteps, values, p.Elapsed, p.Eta);
    }

    /// <summary>Shows the final reading, whatever the throttle says.</summary>
    public void Complete(ProgressReading? reading = null)
    {
        reading ??= last;
        if (reading is not null) Render(reading, done: true);
    }

    void Render(ProgressReading reading, bool done)
    {
        sinceUpdate.Restart();
        Renders++;
        if (InNotebook)
        {
            var html = ToHtml(title, reading, done);
            if (displayed is null) displayed = Html.Display(html);
            else displayed.Update(new Html(html));
        }
        else if (inPlace)
        {
            var text = ToText(title, reading, done);
            console.Write("\r" + text.PadRight(lastWidth) + (done ? "\n" : ""));
            lastWidth = done ? 0 : text.Length;
        }
        else
        {
            console.WriteLine(ToText(title, reading, done));
        }
    }

    /// <summary>The one-line text form: <c>title  [#####.....] 50/100  loss 1.234  elapsed 0:12  eta 0:12</c>.</summary>
    public static string ToText(string title, ProgressReading r, bool done)
    {
        var sb = new StringBuilder(title).Append("  ");
        if (r.TotalSteps is > 0 and var total)
        {
            var filled = (int)Math.Round(20.0 * Math.Min(r.Step, total) / total);
            sb.Append('[').Append('#', filled).Append('.', 20 - filled).Append("] ");
            sb.Append(r.Step).Append('/').Append(total);
        }
        else
        {
            sb.Append("step ").Append(r.Step);
        }
        foreach (var (name, value) in r.Values) sb.Append("  ").Append(name).Append(' ').Append(Format(value));
        sb.Append("  elapsed ").Append(Format(r.Elapsed));
        if (done) sb.Append("  done");
        else if (r.Eta is { } eta) sb.Append("  eta ").Append(Format(eta));
        return sb.ToString();
    }

    /// <summary>The notebook form: a bar and a row of labelled numbers.</summary>
    public static string ToHtml(string title, ProgressReading r, bool done)
    {
        var fraction = r.TotalSteps is > 0 and var total ? Math.Min(1.0, (double)r.Step / total) : (done ? 1.0 : 0.0);
        var sb = new StringBuilder();
        sb.Append("<div style=\"font-family:monospace;font-size:13px\">");
        sb.Append("<b>").Append(WebUtility.HtmlEncode(title)).Append("</b> ");
        sb.Append(done ? "✓ done" : r.TotalSteps is { } t ? $"{r.Step}/{t}" : $"step {r.Step}");
        sb.Append(CultureInfo.InvariantCulture,
            $"<div style=\"background:#eee;width:320px;height:8px;margin:4px 0\"><div style=\"background:{(done ? "#2a9d8f" : "#457b9d")};width:{fraction * 100:F1}%;height:8px\"></div></div>");
        foreach (var (name, value) in r.Values)
            sb.Append("<span style=\"margin-right:14px\">").Append(WebUtility.HtmlEncode(name)).Append(" <b>").Append(Format(value)).Append("</b></span>");
        sb.Append("<span style=\"margin-right:14px\">elapsed <b>").Append(Format(r.Elapsed)).Append("</b></span>");
        if (!done && r.Eta is { } eta) sb.Append("<span>eta <b>").Append(Format(eta)).Append("</b></span>");
        sb.Append("</div>");
        return sb.ToString();
    }

    static string Format(double v) =>
        Math.Abs(v) >= 1000 ? v.ToString("N0", CultureInfo.InvariantCulture)
        : v == Math.Floor(v) && Math.Abs(v) < 1e6 ? v.ToString("F0", CultureInfo.InvariantCulture)
        : v.ToString("G4", CultureInfo.InvariantCulture);

    static string Format(TimeSpan t) =>
        t.TotalHours >= 1 ? $"{(int)t.TotalHours}:{t.Minutes:00}:{t.Seconds:00}" : $"{t.Minutes}:{t.Seconds:00}";
}
