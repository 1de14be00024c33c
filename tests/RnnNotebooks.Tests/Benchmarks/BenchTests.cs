using RnnNotebooks.Benchmarks;
using RnnNotebooks.Notebook;

namespace RnnNotebooks.Tests.Benchmarks;

/// <summary>Keeps the benchmark working; its numbers are never asserted.</summary>
public class BenchTests
{
    [Fact]
    public void TinyRun_MeasuresEveryWorkload_AndWritesTheReport()
    {
        var root = CourseRunner.FindRepoRoot(AppContext.BaseDirectory);
        // PyTorch is only on machines where bench/setup.sh ran; the TorchSharp side is what this test keeps working.
        var options = BenchOptions.Tiny(Path.Combine(root, "bench", "pytorch_reference.py"), python: null);

        var report = Bench.Run(options, tiny: true, "rnn bench --tiny --no-pytorch", _ => { });

        Assert.Equal(Bench.Workloads(tiny: true).Select(w => w.Name), report.Measurements.Select(m => m.Workload));
        Assert.All(report.Measurements, m => Assert.True(m.Rate > 0 && double.IsFinite(m.Rate), $"{m.Workload}: {m.Rate}"));
        Assert.Equal(report.Memory.LiveTensorsEarly, report.Memory.LiveTensorsLate);
        var markdown = Bench.ToMarkdown(report);
        Assert.Contains("| train LSTM 2x16 |", markdown);
        Assert.Contains("rnn bench --tiny --no-pytorch", markdown);
    }

    [Theory]
    [InlineData(new[] { 3.0 }, 3.0)]
    [InlineData(new[] { 5.0, 1.0, 3.0 }, 3.0)]
    [InlineData(new[] { 4.0, 1.0, 3.0, 2.0 }, 2.5)]
    public void Median_OfOddAndEvenCounts(double[] values, double median) => Assert.Equal(median, Bench.Median(values));

    [Fact]
    public void Flops_OfAnLstmTrainingStep_FollowTheGateCount()
    {
        var lstm = new BenchWorkload("l", "train", BenchCell.Lstm, Vocab: 10, Hidden: 8, Layers: 1, Batch: 2, Steps: 3);
        // forward per token: 2·4·8·(8+8) recurrent + 2·8·10 readout = 1184; × 6 tokens × 3 (forward + backward)
        Assert.Equal(1184.0 * 6 * 3, lstm.FlopsPerStep);
        Assert.Equal(6, lstm.TokensPerStep);
    }
}
