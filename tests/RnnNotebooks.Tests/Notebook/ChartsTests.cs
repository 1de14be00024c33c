using RnnNotebooks.Notebook;

namespace RnnNotebooks.Tests.Notebook;

public class ChartsTests
{
    [Fact]
    public void Lines_ContainsEverySeriesWithItsPointsAndTheTitles()
    {
        var chart = Charts.Lines(
            [("train", [0, 1, 2], [3.5, 2.25, 1.125]), ("validation", [0, 2], [3.75, 1.625])],
            "Loss curves", "epoch", "nats per char");

        var html = Charts.ToHtml(chart);
        foreach (var text in new[] { "Loss curves", "epoch", "nats per char", "\"train\"", "\"validation\"", "2.25", "1.625" })
            Assert.Contains(text, html);
    }

    [Fact]
    public void Line_LogScale_SetsALogAxis()
    {
        Assert.Contains("\"type\":\"log\"", Charts.ToHtml(Charts.Line([1.0, 0.1, 0.01], "norms", "distance", "norm", logY: true)));
        Assert.DoesNotContain("\"type\":\"log\"", Charts.ToHtml(Charts.Line([1.0, 0.1, 0.01], "norms", "distance", "norm")));
    }

    [Fact]
    public void Lines_SharedX_ContainsEverySeries_AndChecksLengths()
    {
        var html = Charts.ToHtml(Charts.Lines([10.0, 25.0], [("RNN", [0.5, 0.1]), ("LSTM", [0.9, 0.8])], "acc", "T", "accuracy"));
        Assert.Contains("RNN", html);
        Assert.Contains("LSTM", html);
        var e = Assert.Throws<ArgumentException>(() => Charts.Lines([10.0, 25.0], [("short", [0.5])], "t", "x", "y"));
        Assert.Contains("'short'", e.Message);
    }

    [Fact]
    public void Lines_MismatchedLengths_NameTheSeries()
    {
        var e = Assert.Throws<ArgumentException>(() => Charts.Lines([("bad", [0, 1], [1.0])], "t", "x", "y"));
        Assert.Contains("'bad'", e.Message);
    }

    [Fact]
    public void Heatmap_KeepsRepeatedLabelsDistinct_AndChecksLabelCounts()
    {
        var z = new double[,] { { 0.9, 0.1 }, { 0.2, 0.8 } };
        var html = Charts.ToHtml(Charts.Heatmap(z, "Attention", ["le", "le"], ["the", "cat"]));
        Assert.Contains("Attention", html);
        Assert.Contains("\"type\":\"heatmap\"", html);
        Assert.Contains("0.9", html);
        // Two identical column labels would merge into one column; the second gets an invisible suffix.
        Assert.Contains("\"le\u200b\"", html);

        Assert.Throws<ArgumentException>(() => Charts.Heatmap(z, "t", ["only one"]));
    }

    [Fact]
    public void ImageGrid_HasOneImageTracePerImage_AndTheirTitles()
    {
        var red = new byte[2, 2, 3];
        for (var r = 0; r < 2; r++) for (var c = 0; c < 2; c++) red[r, c, 0] = 255;
        var html = Charts.ToHtml(Charts.ImageGrid([(red, "red one"), (red, "red two"), (red, "red three")], columns: 2, "Grid"));

        Assert.Equal(3, CountOf(html, "\"type\":\"image\""));
        foreach (var title in new[] { "red one", "red two", "red three", "Grid" }) Assert.Contains(title, html);
        Assert.Throws<ArgumentException>(() => Charts.ImageGrid([(new byte[2, 2, 1], "grey")], 1));
    }

    [Fact]
    public void SaveHtml_WritesACompletePage()
    {
        var path = Path.Combine(Path.GetTempPath(), $"chart-{Guid.NewGuid():N}.html");
        try
        {
            Charts.SaveHtml(Charts.Line([1.0, 2.0], "saved", "x", "y"), path);
            var page = File.ReadAllText(path);
            Assert.StartsWith("<!DOCTYPE html>", page.TrimStart(), StringComparison.OrdinalIgnoreCase);
            Assert.Contains("saved", page);
            Assert.DoesNotContain("<script src=", page);   // plotly.js is inlined, not fetched from a CDN
            Assert.Contains("window.Plotly", page);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Smooth_IsTheTrailingMean()
    {
        Assert.Equal([1.0, 2.0, 4.0, 6.0], Charts.Smooth([1, 3, 5, 7], window: 2));
        Assert.Equal([4.0], Charts.Smooth([4], window: 10));
    }

    [Fact]
    public void TrainingCurves_PlotsStepLossesAndValidationMetricsAtTheirSteps()
    {
        var history = RnnNotebooks.Training.TrainingHistory.Empty with
        {
            Losses = [3.0, 2.0, 1.5, 1.25],
            Epochs =
            [
                new(1, 2, 2.5, 1, 1, null, new Dictionary<string, double> { ["train_loss"] = 2.5, ["val_loss"] = 2.75 }),
                new(2, 4, 1.375, 1, 2, null, new Dictionary<string, double> { ["train_loss"] = 1.375, ["val_loss"] = 1.875 }),
            ],
        };
        var html = Charts.ToHtml(Charts.TrainingCurves(history, "Run", window: 2));
        Assert.Contains("\"val_loss\"", html);
        Assert.Contains("2.75", html);
        Assert.Contains("moving average (2 steps)", html);
        Assert.DoesNotContain("\"train_loss\"", html);
    }

    static int CountOf(string text, string part) =>
        (text.Length - text.Replace(part, "").Length) / part.Length;
}
