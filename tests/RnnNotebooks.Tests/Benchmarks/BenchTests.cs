using RnnNotebooks.Benchmarks;
using RnnNotebooks.Models;
using RnnNotebooks.Notebook;

namespace RnnNotebooks.Tests.Benchmarks;

/// <summary>Keeps the benchmark working; its numbers are never asserted.</summary>
public class BenchTests
{
    [Fact]
    public void TinyRun_MeasuresEveryWorkload_AndWritesTheReport()
    {
        var root = Course.FindRepoRoot(AppContext.BaseDirectory);
        // PyTorch is only on machines where bench/setup.sh ran; the TorchSharp side is what this test keeps working.
        var options = BenchOptions.Tiny(Path.Combine(root, "bench", "pytorch_reference.py"), python: null) with { Note = "a test run" };

        var report = Bench.Run(options, tiny: true, "rnn bench --tiny --no-pytorch", _ => { });

        Assert.Equal(BenchWorkload.All(tiny: true).Select(w => w.Name), report.Measurements.Select(m => m.Workload));
        Assert.All(report.Measurements, m => Assert.True(m.Rate > 0 && double.IsFinite(m.Rate), $"{m.Workload}: {m.Rate}"));
        Assert.NotNull(report.Memory);
        Assert.Equal(report.Memory.LiveTensorsEarly, report.Memory.LiveTensorsLate);
        var markdown = report.ToMarkdown();
        Assert.Contains("| train LSTM 2x16 |", markdown);
        Assert.Contains("| seq2seq attention step 16 |", markdown);
        Assert.Contains("| ctc acoustic step 16 |", markdown);
        Assert.Contains("rnn bench --tiny --no-pytorch", markdown);
        Assert.Contains("- Machine state: a test run", markdown);
    }

    [Fact]
    public void LessonWorkloads_UsePaddedBatches_WhoseLongestRowIsTheStepCount()
    {
        foreach (var tiny in new[] { true, false })
        {
            var seq2seq = BenchWorkload.All(tiny).Single(w => w.Kind == "seq2seq");
            var ctc = BenchWorkload.All(tiny).Single(w => w.Kind == "ctc");
            Assert.Equal(seq2seq.Steps, seq2seq.SourceLengths.Max());
            Assert.Equal(seq2seq.Steps, seq2seq.TargetLengths.Max());
            Assert.True(seq2seq.SourceLengths.Distinct().Count() > 1, "sources of one length would not exercise packing");
            Assert.Equal(seq2seq.TargetLengths.Sum(), seq2seq.TokensPerStep);
            Assert.Equal(ctc.Steps, ctc.FrameLengths.Max());
            Assert.Equal(ctc.FrameLengths.Sum(), ctc.TokensPerStep);
            // CTC needs at least one output frame per label (2× subsampling): otherwise the loss is infinite and zeroed.
            Assert.All(ctc.FrameLengths.Zip(ctc.LabelLengths), p => Assert.True((p.First - 1) / 2 + 1 >= 2 * p.Second + 1, $"{p}"));
        }
    }

    [Fact]
    public void PyTorchReference_BuildsLessonModels_OfTheSameSize()
    {
        // Runs only where bench/setup.sh installed PyTorch; elsewhere there is nothing to compare against.
        const string python = "/usr/bin/python3";
        if (!File.Exists(python) || System.Diagnostics.Process.Start(python, "-c \"import torch\"") is not { } probe
            || !probe.WaitForExit(60_000) || probe.ExitCode != 0)
            Assert.Skip($"No PyTorch for {python}: bench/setup.sh installs it.");
        var root = Course.FindRepoRoot(AppContext.BaseDirectory);
        var options = BenchOptions.Tiny(Path.Combine(root, "bench", "pytorch_reference.py"), python) with { Only = ["seq2seq", "ctc"] };

        var report = Bench.Run(options, tiny: true, "rnn bench --tiny --only seq2seq,ctc", _ => { });

        foreach (var name in report.Workloads.Select(w => w.Name))
        {
            var counts = report.Measurements.Where(m => m.Workload == name).Select(m => m.Parameters).ToList();
            Assert.Equal(2, counts.Count);
            Assert.NotNull(counts[0]);
            Assert.Equal(counts[0], counts[1]);
        }
        Assert.Null(report.Memory);
        Assert.Contains("## The lesson models", report.ToMarkdown());
    }

    [Fact]
    public void MemoryCheck_CountsLiveTensorsFromItsOwnStart()
    {
        var options = BenchOptions.Tiny("unused.py", python: null) with { LeakSteps = 10 };
        var workload = BenchWorkload.All(tiny: true).First(w => w.Kind == "train");
        var first = Bench.MeasureMemory(workload, options);
        // Tensors made on another thread and disposed on this one lower this thread's count, as the bidirectional
        // GRU's parallel directions do before the memory check in a full run.
        var made = new List<TorchSharp.torch.Tensor>();
        var maker = new Thread(() => { for (var i = 0; i < 50; i++) made.Add(TorchSharp.torch.zeros(1)); });
        maker.Start();
        maker.Join();
        foreach (var t in made) t.Dispose();

        var second = Bench.MeasureMemory(workload, options);

        Assert.True(first.LiveTensorsEarly > 0, $"{first.LiveTensorsEarly}");
        Assert.Equal(first.LiveTensorsEarly, second.LiveTensorsEarly);
        Assert.Equal(second.LiveTensorsEarly, second.LiveTensorsLate);
    }

    [Theory]
    [InlineData(new[] { 3.0 }, 3.0)]
    [InlineData(new[] { 5.0, 1.0, 3.0 }, 3.0)]
    [InlineData(new[] { 4.0, 1.0, 3.0, 2.0 }, 2.5)]
    public void Median_OfOddAndEvenCounts(double[] values, double median) => Assert.Equal(median, Bench.Median(values));

    [Fact]
    public void Flops_OfAnLstmTrainingStep_FollowTheGateCount()
    {
        var lstm = new BenchWorkload("l", "train", RecurrentCell.Lstm, Vocab: 10, Hidden: 8, Layers: 1, Batch: 2, Steps: 3);
        // forward per token: 2·4·8·(8+8) recurrent + 2·8·10 readout = 1184; × 6 tokens × 3 (forward + backward)
        Assert.Equal(1184.0 * 6 * 3, lstm.FlopsPerStep);
        Assert.Equal(6, lstm.TokensPerStep);
    }
}
