using RnnNotebooks.Notebook;

namespace RnnNotebooks.Tests.Notebook;

/// <summary>Charts draw in a browser with no network: plotly.js comes from Plotly.NET's assembly, not a CDN.</summary>
[Trait("Category", "Slow")]
public sealed class OfflineChartTests : IDisposable
{
    readonly string dir = Directory.CreateTempSubdirectory("offline-charts").FullName;

    public void Dispose() => Directory.Delete(dir, recursive: true);

    /// <summary>How many Plotly plots the page holds once its scripts have run (each draws one <c>main-svg</c>).</summary>
    int RenderedPlots(string page)
    {
        var path = Path.Combine(dir, "page.html");
        File.WriteAllText(path, page);
        // unshare -n runs the browser without any network where the test may (as root); otherwise the page
        // still has nothing to fetch, which the assertions on its text check.
        string[] browser = [ExternalTools.Chromium!, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            $"--user-data-dir={Path.Combine(dir, "profile")}", "--virtual-time-budget=10000", "--dump-dom", new Uri(path).AbsoluteUri];
        var offline = Environment.UserName == "root" && File.Exists("/usr/bin/unshare");
        var (code, dom) = offline
            ? ExternalTools.Run("/usr/bin/unshare", ["-n", .. browser], TimeSpan.FromMinutes(2))
            : ExternalTools.Run(browser[0], browser[1..], TimeSpan.FromMinutes(2));
        Assert.True(code == 0, $"chromium exited with {code}:\n{dom[..Math.Min(dom.Length, 2000)]}");
        return dom.Split("class=\"main-svg\"").Length - 1;
    }

    [Fact]
    public void AppChartPage_RendersWithoutNetwork()
    {
        ExternalTools.RequireChromium();
        var path = Path.Combine(dir, "chart.html");
        Charts.SaveHtml(Charts.Line([1.0, 3.0, 2.0], "offline", "x", "y"), path);
        var page = File.ReadAllText(path);

        Assert.DoesNotContain("<script src=", page);
        Assert.True(RenderedPlots(page) >= 1, "the chart did not draw");
    }

    [Fact]
    public void NotebookOutputs_LoadPlotlyOnce_AndRenderUnderRequireJs()
    {
        ExternalTools.RequireChromium();
        // Two outputs as a notebook front end shows them: the first carries plotly.js, the second only its chart.
        // Jupyter pages define an AMD loader; plotly.js must still set window.Plotly.
        var first = Charts.PlotlyScript() + Charts.ToHtml(Charts.Line([1.0, 2.0], "first", "x", "y"));
        var second = Charts.ToHtml(Charts.Heatmap(new double[,] { { 1, 0 }, { 0, 1 } }, "second"));
        var page = "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><script>window.define = function () {}; window.define.amd = {};</script></head><body>" +
            $"<div>{first}</div><div>{second}</div></body></html>";

        Assert.DoesNotContain("<script src=", page);
        Assert.True(RenderedPlots(page) >= 2, "a chart did not draw");
    }
}
