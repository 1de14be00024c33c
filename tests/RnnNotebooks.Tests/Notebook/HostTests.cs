using RnnNotebooks.Notebook;

namespace RnnNotebooks.Tests.Notebook;

/// <summary>What <c>Show</c> prints when a lesson runs as an app (no notebook kernel in a test either).</summary>
public class HostTests
{
    [Fact]
    public void ToText_Sequence_OfObjects_IsATableWithAColumnPerProperty()
    {
        var text = Host.ToText(new[] { new { Name = "ptb", MB = 2.5 }, new { Name = "fsdd", MB = 16.0 } });

        Assert.Equal(["Name  MB", "ptb   2.5", "fsdd  16"], text.Split('\n'));
    }

    [Fact]
    public void ToText_Html_KeepsTheText_AndBreaksRows()
    {
        Assert.Equal("a  b\nc & d", Host.ToText(new Html("<table><tr><td>a</td><td>b</td></tr><tr><td>c &amp; d</td></tr></table>")));
    }

    [Fact]
    public void ToText_CourseSession_IsOneReadableLine_WithoutTypeNames()
    {
        var native = new RnnNotebooks.Platform.NativeReport(null, true, ["a"], [], []);
        var text = Host.ToText(new CourseSession("full", 42, 1, "cpu", "TorchSharp 0.107.0", native));

        Assert.Equal("full mode · seed 42 · 1 thread · cpu · TorchSharp 0.107.0", text);
    }

    [Fact]
    public void ToText_NumbersAreCultureInvariant()
    {
        var culture = Thread.CurrentThread.CurrentCulture;
        try
        {
            Thread.CurrentThread.CurrentCulture = new System.Globalization.CultureInfo("de-DE");
            Assert.Equal("0.5", Host.ToText(0.5));
        }
        finally
        {
            Thread.CurrentThread.CurrentCulture = culture;
        }
    }

    [Fact]
    public void Show_Chart_OutsideANotebook_WritesAnOfflinePage_AndPrintsItsPath()
    {
        var console = Console.Out;
        using var captured = new StringWriter();
        Console.SetOut(captured);
        try
        {
            Host.Show(Charts.Line([1.0, 2.0], "shown", "x", "y"));
        }
        finally
        {
            Console.SetOut(console);
        }

        var line = captured.ToString().Trim();
        Assert.StartsWith("chart: ", line);
        var path = line["chart: ".Length..];
        Assert.StartsWith(Path.Combine(Course.FindRepoRoot(), "artifacts", "lessons"), path);
        Assert.Contains("window.Plotly", File.ReadAllText(path));
        File.Delete(path);
    }
}
