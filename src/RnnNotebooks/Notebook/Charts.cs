using Microsoft.FSharp.Core;
using Plotly.NET;
using Plotly.NET.CSharp;
using CSharpChart = Plotly.NET.CSharp.Chart;

namespace RnnNotebooks.Notebook;

/// <summary>
/// The course's charts: one obvious call per kind of picture. Each returns a Plotly.NET chart that a
/// lesson shows with <see cref="Host.Show"/>: inline in a notebook, as an offline HTML page from an app.
/// </summary>
/// <remarks>Introduced in 00-getting-started.</remarks>
public static class Charts
{
    /// <summary>Several named series over the same kind of x axis, e.g. training and validation loss.</summary>
    /// <param name="series">Name → (x, y) points; each becomes one line.</param>
    /// <param name="title">Chart title.</param>
    /// <param name="xTitle">x-axis label.</param>
    /// <param name="yTitle">y-axis label.</param>
    /// <param name="logY">Plot y on a log scale (useful for gradient norms).</param>
    public static GenericChart Lines(
        IEnumerable<(string Name, IReadOnlyList<double> X, IReadOnlyList<double> Y)> series,
        string title, string xTitle, string yTitle, bool logY = false)
    {
        var charts = new List<GenericChart>();
        foreach (var (name, x, y) in series)
        {
            if (x.Count != y.Count)
                throw new ArgumentException($"Series '{name}' has {x.Count} x values but {y.Count} y values.", nameof(series));
            charts.Add(CSharpChart.Line<double, double, string>(x: x, y: y, Name: name, ShowMarkers: x.Count <= 40));
        }
        if (charts.Count == 0) throw new ArgumentException("Lines needs at least one series.", nameof(series));
        return Style(CSharpChart.Combine(charts), title, xTitle, yTitle, logY);
    }

    /// <summary>Several named series over one shared x axis, e.g. accuracy of three models against sequence length.</summary>
    /// <param name="x">The x values every series shares.</param>
    /// <param name="series">Name → y values, each as long as <paramref name="x"/>.</param>
    /// <param name="title">Chart title.</param>
    /// <param name="xTitle">x-axis label.</param>
    /// <param name="yTitle">y-axis label.</param>
    /// <param name="logY">Plot y on a log scale.</param>
    /// <remarks>Introduced in 02-lstm-and-gru.</remarks>
    public static GenericChart Lines(IReadOnlyList<double> x, IEnumerable<(string Name, double[] Y)> series,
        string title, string xTitle, string yTitle, bool logY = false) =>
        Lines(series.Select(s => (s.Name, x, (IReadOnlyList<double>)s.Y)), title, xTitle, yTitle, logY);

    /// <summary>One line: y against x.</summary>
    public static GenericChart Line(IReadOnlyList<double> x, IReadOnlyList<double> y, string title,
        string xTitle, string yTitle, bool logY = false) =>
        Lines([(yTitle, x, y)], title, xTitle, yTitle, logY);

    /// <summary>One line: y against its index (step 0, 1, 2, …).</summary>
    public static GenericChart Line(IReadOnlyList<double> y, string title, string xTitle, string yTitle, bool logY = false) =>
        Line(Enumerable.Range(0, y.Count).Select(i => (double)i).ToArray(), y, title, xTitle, yTitle, logY);

    /// <summary>
    /// A run's training curves: the loss of every step (faint), its moving average, and every per-epoch
    /// metric the validation callback reported (e.g. <c>val_loss</c>), against the step number.
    /// </summary>
    /// <param name="history">What <see cref="Training.Trainer.Fit{TBatch}"/> returned, as <c>state.History</c>.</param>
    /// <param name="title">Chart title.</param>
    /// <param name="yTitle">What the loss measures, e.g. "nats per character".</param>
    /// <param name="window">Steps in the moving average (default: about 2% of the run, at least 1).</param>
    /// <param name="logY">Plot the loss on a log scale.</param>
    public static GenericChart TrainingCurves(Training.TrainingHistory history, string title, string yTitle = "loss",
        int? window = null, bool logY = false)
    {
        if (history.Losses.Count == 0) throw new ArgumentException("The history has no steps yet.", nameof(history));
        var steps = Enumerable.Range(1, history.Losses.Count).Select(i => (double)i).ToArray();
        var w = window ?? Math.Max(1, history.Losses.Count / 50);
        var series = new List<(string, IReadOnlyList<double>, IReadOnlyList<double>)>
        {
            ("loss per step", steps, history.Losses),
            ($"moving average ({w} steps)", steps, Smooth(history.Losses, w)),
        };
        foreach (var metric in history.Epochs.SelectMany(e => e.Metrics.Keys).Distinct()
                     .Where(k => k != Training.TrainingHistory.TrainLossKey))
        {
            var points = history.Epochs.Where(e => e.Metrics.ContainsKey(metric)).ToList();
            series.Add((metric, points.Select(e => (double)e.Step).ToArray(), points.Select(e => e.Metrics[metric]).ToArray()));
        }
        return Lines(series, title, "step", yTitle, logY);
    }

    /// <summary>The trailing moving average of <paramref name="values"/> over <paramref name="window"/> points.</summary>
    public static double[] Smooth(IReadOnlyList<double> values, int window)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(window, 1);
        var result = new double[values.Count];
        var sum = 0.0;
        for (var i = 0; i < values.Count; i++)
        {
            sum += values[i];
            if (i >= window) sum -= values[i - window];
            result[i] = sum / Math.Min(i + 1, window);
        }
        return result;
    }

    /// <summary>
    /// A heatmap of <paramref name="z"/> (rows × columns), with optional labels, e.g. attention weights
    /// (target words × source words) or activations (units × time).
    /// </summary>
    public static GenericChart Heatmap(double[,] z, string title, IReadOnlyList<string>? columnLabels = null,
        IReadOnlyList<string>? rowLabels = null, string xTitle = "", string yTitle = "", bool reverseRows = true)
    {
        int rows = z.GetLength(0), cols = z.GetLength(1);
        if (columnLabels is not null && columnLabels.Count != cols)
            throw new ArgumentException($"{columnLabels.Count} column labels for {cols} columns.", nameof(columnLabels));
        if (rowLabels is not null && rowLabels.Count != rows)
            throw new ArgumentException($"{rowLabels.Count} row labels for {rows} rows.", nameof(rowLabels));

        var data = Enumerable.Range(0, rows).Select(r => Enumerable.Range(0, cols).Select(c => z[r, c]).ToArray()).ToArray();
        // Labels are made unique (a sentence can repeat a word) so Plotly keeps every row and column.
        var x = Unique(columnLabels ?? Enumerable.Range(0, cols).Select(i => i.ToString()).ToList());
        var y = Unique(rowLabels ?? Enumerable.Range(0, rows).Select(i => i.ToString()).ToList());
        var chart = CSharpChart.Heatmap<double, string, string, string>(zData: data, X: x, Y: y, ReverseYAxis: reverseRows);
        return Style(chart, title, xTitle, yTitle, logY: false);
    }

    /// <summary>
    /// Images in a grid with a title above each, e.g. a photo per generated word with its attention map.
    /// Each image is [height, width, 3] bytes (RGB).
    /// </summary>
    public static GenericChart ImageGrid(IReadOnlyList<(byte[,,] Rgb, string Title)> images, int columns, string title = "")
    {
        if (images.Count == 0) throw new ArgumentException("ImageGrid needs at least one image.", nameof(images));
        if (columns < 1) throw new ArgumentOutOfRangeException(nameof(columns), columns, "At least one column.");
        var rows = (images.Count + columns - 1) / columns;

        var charts = images.Select(img =>
        {
            if (img.Rgb.GetLength(2) != 3)
                throw new ArgumentException($"Image '{img.Title}' has {img.Rgb.GetLength(2)} channels; expected 3 (RGB).", nameof(images));
            int h = img.Rgb.GetLength(0), w = img.Rgb.GetLength(1);
            var z = Enumerable.Range(0, h).Select(r => Enumerable.Range(0, w)
                .Select(c => (IEnumerable<int>)[img.Rgb[r, c, 0], img.Rgb[r, c, 1], img.Rgb[r, c, 2]])).ToArray();
            return CSharpChart.Image<string>(Z: z, Name: img.Title);
        }).ToList();

        var grid = CSharpChart.Grid(charts, nRows: rows, nCols: columns,
            SubPlotTitles: images.Select(i => i.Title).ToList(), XGap: 0.02, YGap: 0.15);
        return WithTitle(grid, title).WithSize(Math.Max(300, columns * 220), Math.Max(250, rows * 220));
    }

    /// <summary>
    /// Saves a chart as a self-contained HTML page that renders offline: plotly.js is inlined from the copy
    /// Plotly.NET carries, not loaded from a CDN.
    /// </summary>
    public static void SaveHtml(GenericChart chart, string path) =>
        AtomicFile.WriteAllText(path, ToPage(chart));

    /// <summary>The self-contained, offline page <see cref="SaveHtml"/> writes.</summary>
    public static string ToPage(GenericChart chart) =>
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"></head><body>\n" + PlotlyScript() + "\n" + ToHtml(chart) + "\n</body></html>\n";

    /// <summary>
    /// The chart as an HTML fragment that draws itself once <c>window.Plotly</c> exists (see
    /// <see cref="PlotlyScript"/>); it references no CDN, so it renders without a network.
    /// </summary>
    public static string ToHtml(GenericChart chart)
    {
        var id = "rnn-chart-" + Guid.NewGuid().ToString("N");
        var figure = GenericChart.toFigureJson(chart);
        // Polls for Plotly because a notebook front end may render this output before the one that loads it.
        return $$"""
            <div id="{{id}}"></div>
            <script>(function () {
              var figure = {{figure}};
              (function draw() {
                if (!window.Plotly) { setTimeout(draw, 50); return; }
                Plotly.newPlot('{{id}}', figure.data, figure.layout, Object.assign({ responsive: true }, figure.config || {}));
              })();
            })();</script>
            """;
    }

    /// <summary>
    /// A <c>script</c> element that defines <c>window.Plotly</c> from the plotly.js inside Plotly.NET's assembly
    /// (resource <c>Plotly.NET.plotly-2.28.0.min.js</c>), so charts need no internet.
    /// </summary>
    /// <remarks>
    /// The code is wrapped so it sees no <c>define</c>/<c>module</c>: Jupyter pages load require.js, and plotly.js
    /// would otherwise register itself as an anonymous AMD module instead of setting <c>window.Plotly</c>.
    /// </remarks>
    public static string PlotlyScript()
    {
        var js = PlotlyJs.Value.Replace("</script", "<\\/script", StringComparison.OrdinalIgnoreCase);
        return "<script>(function (define, module, exports) {\n" + js + "\n}).call(window);</script>";
    }

    static readonly Lazy<string> PlotlyJs = new(() =>
    {
        const string resource = "Plotly.NET.plotly-2.28.0.min.js";
        using var stream = typeof(GenericChart).Assembly.GetManifestResourceStream(resource)
            ?? throw new InvalidOperationException($"Plotly.NET no longer carries {resource}; update {nameof(Charts)}.{nameof(PlotlyScript)}.");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    });

    static GenericChart Style(GenericChart chart, string title, string xTitle, string yTitle, bool logY)
    {
        chart = chart.WithXAxisStyle<double, double, string>(TitleText: xTitle);
        chart = logY
            ? chart.WithYAxisStyle<double, double, string>(TitleText: yTitle, AxisType: StyleParam.AxisType.Log)
            : chart.WithYAxisStyle<double, double, string>(TitleText: yTitle);
        return WithTitle(chart, title);
    }

    static GenericChart WithTitle(GenericChart chart, string title) =>
        string.IsNullOrEmpty(title) ? chart : Plotly.NET.Chart.withTitle(title, null).Invoke(chart);

    static List<string> Unique(IReadOnlyList<string> labels)
    {
        var seen = new Dictionary<string, int>();
        var result = new List<string>(labels.Count);
        foreach (var label in labels)
        {
            var n = seen.GetValueOrDefault(label);
            seen[label] = n + 1;
            result.Add(n == 0 ? label : label + new string('\u200b', n));
        }
        return result;
    }
}

