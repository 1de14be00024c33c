using RnnNotebooks.Notebook;
using RnnNotebooks.Training;

namespace RnnNotebooks.Tests.Notebook;

public class LiveProgressTests
{
    static ProgressReading Reading(long step, long? total = 100) =>
        new(step, total, [new("loss", 1.23456), new("tokens/s", 12345)], TimeSpan.FromSeconds(75), TimeSpan.FromSeconds(30));

    [Fact]
    public void ToText_ShowsBarCountsValuesAndTimes()
    {
        Assert.Equal("fit  [##########..........] 50/100  loss 1.235  tokens/s 12,345  elapsed 1:15  eta 0:30",
            LiveProgress.ToText("fit", Reading(50), done: false));
        Assert.EndsWith("elapsed 1:15  done", LiveProgress.ToText("fit", Reading(100), done: true));
        Assert.StartsWith("fit  step 7  ", LiveProgress.ToText("fit", Reading(7, total: null), done: false));
    }

    [Fact]
    public void Show_OutsideANotebook_ThrottlesToOneLinePerInterval_ButCompleteAlwaysShows()
    {
        var console = new StringWriter();
        var progress = new LiveProgress("fit", TimeSpan.FromHours(1), console);

        for (var step = 1; step <= 1000; step++) progress.Show(Reading(step, 1000));
        progress.Complete();

        var lines = console.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(2, lines.Length);
        Assert.Contains("1/1000", lines[0]);
        Assert.Contains("1000/1000", lines[1]);
        Assert.Contains("done", lines[1]);
        Assert.Equal(2, progress.Renders);
    }

    [Fact]
    public void ToHtml_EscapesTheTitle_AndFillsTheBar()
    {
        var html = LiveProgress.ToHtml("<b>fit</b>", Reading(25), done: false);
        Assert.Contains("&lt;b&gt;fit&lt;/b&gt;", html);
        Assert.Contains("width:25.0%", html);
    }

    [Fact]
    public void FromTraining_ShowsEpochLossThroughputAndValidationMetrics()
    {
        var p = new TrainingProgress(2, 5, 40, 100, 0.5, 900, TimeSpan.FromSeconds(4), TimeSpan.FromSeconds(6),
            new Dictionary<string, double> { [TrainingHistory.TrainLossKey] = 0.5, ["val_loss"] = 0.75 });

        var reading = LiveProgress.FromTraining(p);

        Assert.Equal(40, reading.Step);
        Assert.Equal(100, reading.TotalSteps);
        Assert.Equal(["epoch", "loss", "tokens/s", "val_loss"], reading.Values.Select(v => v.Key));
        Assert.Equal([2, 0.5, 900, 0.75], reading.Values.Select(v => v.Value));
    }
}
