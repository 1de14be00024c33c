using System.Globalization;
using System.Text;

namespace RnnNotebooks.Benchmarks;

/// <summary>One measurement: a workload on one engine at one thread count.</summary>
/// <param name="Workload">The workload's name.</param>
/// <param name="Engine">TorchSharp or PyTorch.</param>
/// <param name="Threads">Intra-op threads.</param>
/// <param name="Unit">The unit of <paramref name="Rate"/>.</param>
/// <param name="Rate">Tokens per second (train), milliseconds per token (generate), GFLOP/s (gemm).</param>
/// <param name="Samples">The rate of every timed repeat.</param>
/// <param name="Parameters">Trainable parameters of the model measured (seq2seq and ctc workloads, where each engine
/// builds its own model and the counts show that the two are the same size), or null.</param>
public sealed record BenchMeasurement(string Workload, string Engine, int Threads, double Rate, string Unit,
    IReadOnlyList<double> Samples, long? Parameters = null)
{
    /// <summary>True when a smaller number is better (latency).</summary>
    public bool LowerIsBetter => Unit == "ms/token";
}

/// <summary>The memory check: resident set size and live tensors after a short and a long run of steps. The live
/// tensors are those created and not disposed since the check began (its model, optimizer state and batch).</summary>
public sealed record BenchMemory(int StepsEarly, int StepsLate, long RssEarlyBytes, long RssLateBytes,
    long LiveTensorsEarly, long LiveTensorsLate)
{
    /// <summary>RSS growth from the early to the late reading, as a fraction.</summary>
    public double RssGrowth => (double)(RssLateBytes - RssEarlyBytes) / RssEarlyBytes;
}

/// <summary>Everything one <c>rnn bench</c> run measured.</summary>
public sealed record BenchReport(DateTimeOffset Date, string Machine, string Versions, string Command,
    IReadOnlyList<BenchWorkload> Workloads, IReadOnlyList<BenchMeasurement> Measurements, BenchMemory? Memory,
    string? PyTorchVersion, string? Note = null)
{
    /// <summary>The report as Markdown: one table per thread count, a best-of table with ratios, and memory.</summary>
    public string ToMarkdown()
    {
        var r = this;
        var sb = new StringBuilder();
        var inv = CultureInfo.InvariantCulture;
        sb.AppendLine("# Benchmarks: the course's workloads in TorchSharp beside PyTorch");
        sb.AppendLine();
        sb.AppendLine(inv, $"- Date: {r.Date:yyyy-MM-dd HH:mm} UTC{r.Date:zzz}");
        sb.AppendLine(inv, $"- Machine: {r.Machine}");
        if (r.Note is not null) sb.AppendLine(inv, $"- Machine state: {r.Note}");
        sb.AppendLine(inv, $"- Versions: {r.Versions}; PyTorch {r.PyTorchVersion ?? "not measured"}");
        sb.AppendLine(inv, $"- Command: `{r.Command}`");
        sb.AppendLine("- Method: medians of timed repeats after warm-up; TorchSharp and PyTorch measured alternately in the same run.");
        sb.AppendLine();

        var gemmName = r.Workloads.FirstOrDefault(w => w.Kind == "gemm")?.Name;
        var gemm = r.Measurements.Where(m => m.Workload == gemmName)
            .ToDictionary(m => (m.Engine, m.Threads), m => m.Rate);
        foreach (var threads in r.Measurements.Select(m => m.Threads).Distinct().Order())
        {
            sb.AppendLine(inv, $"## {threads} thread{(threads > 1 ? "s" : "")}");
            sb.AppendLine();
            sb.AppendLine("| workload | TorchSharp | PyTorch | TorchSharp / PyTorch | share of GEMM rate (TorchSharp) |");
            sb.AppendLine("|---|---:|---:|---:|---:|");
            foreach (var w in r.Workloads)
            {
                var ts = r.Measurements.FirstOrDefault(m => m.Workload == w.Name && m.Engine == "TorchSharp" && m.Threads == threads);
                if (ts is null) continue;
                var py = Reference(r, w, threads);
                var share = w.Kind is "gemm" or "gemm-steps" || double.IsNaN(w.FlopsPerStep) || !gemm.TryGetValue(("TorchSharp", threads), out var g) ? "" :
                    (w.Kind == "train" ? w.FlopsPerStep * ts.Rate / w.TokensPerStep : w.FlopsPerStep / (ts.Rate / 1000)) / (g * 1e9) is var s
                        ? s.ToString("P1", inv) : "";
                sb.AppendLine(inv, $"| {w.Name} | {ts.Rate:F2} {ts.Unit} | {(py is null ? "–" : $"{py.Rate:F2} {py.Unit}")} | {Ratio(ts, py)} | {share} |");
            }
            sb.AppendLine();
        }

        sb.AppendLine("## At the better thread count of each engine");
        sb.AppendLine();
        sb.AppendLine("Ratios above 1.00× mean TorchSharp does better (more tokens/s, or fewer ms/token).");
        sb.AppendLine();
        sb.AppendLine("| workload | TorchSharp (threads) | PyTorch (threads) | ratio |");
        sb.AppendLine("|---|---:|---:|---:|");
        foreach (var w in r.Workloads)
        {
            var ts = Best(r.Measurements.Where(m => m.Workload == w.Name && m.Engine == "TorchSharp"));
            var py = Best(r.Measurements.Where(m => m.Engine == "PyTorch" && m.Workload == ReferenceName(r, w)));
            if (ts is null) continue;
            sb.AppendLine(inv, $"| {w.Name} | {ts.Rate:F2} {ts.Unit} ({ts.Threads}) | {(py is null ? "–" : $"{py.Rate:F2} {py.Unit} ({py.Threads})")} | {Ratio(ts, py)} |");
        }
        sb.AppendLine();
        var sized = r.Workloads.Where(w => w.Kind is "seq2seq" or "ctc").ToList();
        if (sized.Count > 0)
        {
            sb.AppendLine("## The lesson models");
            sb.AppendLine();
            sb.AppendLine("Each engine builds its own model for these workloads (TorchSharp: the library's `Translation.Seq2Seq` and");
            sb.AppendLine("`Speech.AcousticModel`; PyTorch: the same layers in `bench/pytorch_reference.py`); equal parameter counts");
            sb.AppendLine("show they are the same size. Seq2seq tokens are real target tokens; ctc frames are 10 ms input frames.");
            sb.AppendLine();
            sb.AppendLine("| workload | batch | longest row | TorchSharp parameters | PyTorch parameters |");
            sb.AppendLine("|---|---:|---:|---:|---:|");
            foreach (var w in sized)
            {
                string Count(string engine) => r.Measurements.FirstOrDefault(m => m.Workload == w.Name && m.Engine == engine)?.Parameters is { } n
                    ? n.ToString("N0", inv) : "–";
                sb.AppendLine(inv, $"| {w.Name} | {w.Batch} | {w.Steps} {(w.Kind == "ctc" ? "frames" : "tokens")} | {Count("TorchSharp")} | {Count("PyTorch")} |");
            }
            sb.AppendLine();
        }
        if (r.Memory is not { } mem) return sb.ToString();
        sb.AppendLine("## Memory");
        sb.AppendLine();
        sb.AppendLine(inv, $"Training steps of `{r.Workloads.First(w => w.Kind == "train").Name}`: RSS {mem.RssEarlyBytes / 1e6:F0} MB after {mem.StepsEarly} steps, " +
            $"{mem.RssLateBytes / 1e6:F0} MB after {mem.StepsLate} ({mem.RssGrowth:+0.0%;-0.0%}); live tensors {mem.LiveTensorsEarly} → {mem.LiveTensorsLate}.");
        return sb.ToString();
    }

    // PyTorch has no oneDNN switch in this benchmark: both generation rows compare against its one measurement.
    static string ReferenceName(BenchReport r, BenchWorkload w) =>
        w.Kind == "generate" ? r.Workloads.FirstOrDefault(x => x.Kind == "generate" && x.OneDnn)?.Name ?? w.Name : w.Name;

    static BenchMeasurement? Reference(BenchReport r, BenchWorkload w, int threads) =>
        r.Measurements.FirstOrDefault(m => m.Engine == "PyTorch" && m.Threads == threads && m.Workload == ReferenceName(r, w));

    static BenchMeasurement? Best(IEnumerable<BenchMeasurement> ms) =>
        ms.OrderBy(m => m.LowerIsBetter ? m.Rate : -m.Rate).FirstOrDefault();

    static string Ratio(BenchMeasurement ts, BenchMeasurement? py) =>
        py is null ? "–" : (ts.LowerIsBetter ? py.Rate / ts.Rate : ts.Rate / py.Rate).ToString("F2", CultureInfo.InvariantCulture) + "×";
}
