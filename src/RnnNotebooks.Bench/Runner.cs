using System.Diagnostics;
using System.Globalization;
using RnnNotebooks.Models;
using RnnNotebooks.Platform;
using RnnNotebooks.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace RnnNotebooks.Benchmarks;

/// <summary>How much to measure.</summary>
/// <param name="Threads">Thread counts to measure at (each workload runs at each).</param>
/// <param name="Warmup">Unmeasured steps before timing.</param>
/// <param name="Repeats">Timed repeats; the median is reported.</param>
/// <param name="StepsPerRepeat">Steps (train) or tokens (generate) per timed repeat.</param>
/// <param name="LeakSteps">Training steps of the memory check (RSS and live tensors before/after).</param>
/// <param name="Python">The Python that has PyTorch, or null to measure TorchSharp only.</param>
/// <param name="ReferenceScript">Path of <c>bench/pytorch_reference.py</c>.</param>
/// <param name="Only">If set, measure only the workloads whose names contain one of these strings, and skip the
/// memory check (for a quick look at one workload; the published table runs everything).</param>
/// <param name="Note">What the report should say about the machine's state during the run (e.g. other jobs
/// running), which the benchmark cannot see for itself.</param>
public sealed record BenchOptions(IReadOnlyList<int> Threads, int Warmup, int Repeats, int StepsPerRepeat, int LeakSteps,
    string? Python, string ReferenceScript, IReadOnlyList<string>? Only = null, string? Note = null)
{
    /// <summary>The configuration used for <c>docs/benchmarks.md</c>.</summary>
    public static BenchOptions Full(string referenceScript, string? python) =>
        new([1, 2], Warmup: 3, Repeats: 5, StepsPerRepeat: 4, LeakSteps: 2000, python, referenceScript);

    /// <summary>A seconds-long configuration that only checks that everything runs.</summary>
    public static BenchOptions Tiny(string referenceScript, string? python) =>
        new([1], Warmup: 1, Repeats: 2, StepsPerRepeat: 1, LeakSteps: 40, python, referenceScript);
}

/// <summary>
/// Measures the course's workloads in TorchSharp and, interleaved in the same run, in PyTorch.
/// </summary>
/// <remarks>Numbers are medians of timed repeats after warm-up; nothing here is asserted by tests.</remarks>
public static class Bench
{
    /// <summary>Runs every workload at every thread count, TorchSharp then PyTorch, and the memory check.</summary>
    public static BenchReport Run(BenchOptions options, bool tiny, string command, Action<string>? log = null)
    {
        log ??= Console.Error.WriteLine;
        var workloads = BenchWorkload.All(tiny).Where(w => options.Only is null
            || options.Only.Any(o => w.Name.Contains(o, StringComparison.OrdinalIgnoreCase))).ToList();
        if (workloads.Count == 0)
            throw new ArgumentException($"No workload matches {string.Join(", ", options.Only ?? [])}; the workloads are: " +
                string.Join(", ", BenchWorkload.All(tiny).Select(w => w.Name)) + ".", nameof(options));
        var measurements = new List<BenchMeasurement>();
        var pyVersion = options.Python is null ? null : PyTorchReference.Version(options);
        var previousThreads = torch.get_num_threads();
        try
        {
            foreach (var threads in options.Threads)
            {
                foreach (var w in workloads)
                {
                    torch.set_num_threads(threads);
                    var ts = Measure(w, options, threads);
                    measurements.Add(ts);
                    log(Describe(ts));
                    if (options.Python is not null && w.OneDnn)
                    {
                        var py = PyTorchReference.Measure(w, options, threads);
                        measurements.Add(py);
                        log(Describe(py));
                    }
                }
            }
            torch.set_num_threads(options.Threads[0]);
            BenchMemory? memory = null;
            if (options.Only is null)
            {
                memory = MeasureMemory(workloads.First(w => w.Kind == "train"), options);
                log($"memory: RSS {memory.RssEarlyBytes / 1e6:F0} MB after {memory.StepsEarly} steps, {memory.RssLateBytes / 1e6:F0} MB after {memory.StepsLate}; " +
                    $"live tensors {memory.LiveTensorsEarly} → {memory.LiveTensorsLate}");
            }
            return new BenchReport(DateTimeOffset.Now, MachineDescription(), Versions(), command, workloads, measurements, memory, pyVersion, options.Note);
        }
        finally
        {
            torch.set_num_threads(previousThreads);
        }
    }

    static string Describe(BenchMeasurement m) =>
        string.Create(CultureInfo.InvariantCulture, $"{m.Workload,-34} {m.Engine,-10} {m.Threads} thr  {m.Rate,10:F2} {m.Unit}");

    /// <summary>Measures one workload in this process (TorchSharp).</summary>
    public static BenchMeasurement Measure(BenchWorkload w, BenchOptions o, int threads)
    {
        Seeds.Set(1);
        long? parameters = null;
        var samples = w.Kind switch
        {
            "gemm" => MeasureGemm(w, o),
            "gemm-steps" => MeasureGemmSteps(w, o),
            "train" or "seq2seq" or "ctc" => MeasureTraining(w, o, out parameters),
            "generate" => MeasureGeneration(w, o),
            _ => throw new ArgumentException($"Unknown workload kind '{w.Kind}'.", nameof(w)),
        };
        return new BenchMeasurement(w.Name, "TorchSharp", threads, Median(samples), Unit(w), samples,
            w.Kind is "seq2seq" or "ctc" ? parameters : null);
    }

    internal static string Unit(BenchWorkload w) => w.Kind switch
    {
        "gemm" or "gemm-steps" => "GFLOP/s",
        "train" or "seq2seq" => "tokens/s",
        "ctc" => "frames/s",
        _ => "ms/token",
    };

    static List<double> MeasureGemm(BenchWorkload w, BenchOptions o)
    {
        using var a = randn(w.Hidden, w.Hidden);
        using var b = randn(w.Hidden, w.Hidden);
        var reps = Math.Max(4, o.StepsPerRepeat * 4);
        for (var i = 0; i < o.Warmup; i++) a.matmul(b).Dispose();
        return Repeat(o.Repeats, () =>
        {
            var sw = Stopwatch.StartNew();
            for (var i = 0; i < reps; i++) a.matmul(b).Dispose();
            return w.FlopsPerStep * reps / sw.Elapsed.TotalSeconds / 1e9;
        });
    }

    /// <summary>The sequential products of one GRU training step (see <see cref="BenchWorkload.FlopsPerStep"/>), in GFLOP/s.</summary>
    static List<double> MeasureGemmSteps(BenchWorkload w, BenchOptions o)
    {
        using var h = randn(w.Batch, w.Hidden);
        using var weight = randn(3 * w.Hidden, w.Hidden);
        using var weightT = w.PreTransposed ? weight.t().contiguous() : weight.t();
        using var dg = randn(w.Batch, 3 * w.Hidden);
        void Once()
        {
            for (var i = 0; i < w.Layers * w.Steps; i++)
            {
                h.mm(weightT).Dispose();
                dg.mm(weight).Dispose();
            }
        }
        for (var i = 0; i < o.Warmup; i++) Once();
        return Repeat(o.Repeats, () =>
        {
            var sw = Stopwatch.StartNew();
            Once();
            return w.FlopsPerStep / sw.Elapsed.TotalSeconds / 1e9;
        });
    }

    /// <summary>A model, its optimizer and one fixed random batch: <c>Steps(n)</c> trains n steps through the trainer.</summary>
    sealed class TrainingRig : IDisposable
    {
        readonly BenchModels.Trainable trainable;
        readonly optim.Optimizer optimizer;

        public TrainingRig(BenchWorkload w)
        {
            trainable = BenchModels.ForTraining(w);
            optimizer = new FastAdam(trainable.Model.parameters(), lr: trainable.LearningRate);
        }

        /// <summary>Trainable parameters of the model.</summary>
        public long Parameters => trainable.Model.parameters().Sum(p => p.numel());

        public void Steps(int n) => Trainer.Fit(trainable.Model, optimizer, _ => Enumerable.Repeat(0, n), _ => trainable.Loss(),
            new TrainerOptions(Epochs: 1, ClipGradNorm: trainable.ClipGradNorm, LogEvery: int.MaxValue));

        public void Dispose()
        {
            optimizer.Dispose();
            trainable.Dispose();
        }
    }

    static List<double> MeasureTraining(BenchWorkload w, BenchOptions o, out long? parameters)
    {
        using var rig = new TrainingRig(w);
        parameters = rig.Parameters;
        rig.Steps(o.Warmup);
        return Repeat(o.Repeats, () =>
        {
            var sw = Stopwatch.StartNew();
            rig.Steps(o.StepsPerRepeat);
            return w.TokensPerStep * o.StepsPerRepeat / sw.Elapsed.TotalSeconds;
        });
    }

    static List<double> MeasureGeneration(BenchWorkload w, BenchOptions o)
    {
        using var model = BenchModels.Create(w);
        model.eval();
        var tokens = Math.Max(20, o.StepsPerRepeat * 50);
        if (w.Library)
        {
            double Run(int n)
            {
                var sw = Stopwatch.StartNew();
                Decoding.TextGeneration.Generate(model, [0], n, Decoding.SamplingOptions.Greedy, new Random(1));
                return sw.Elapsed.TotalMilliseconds / n;
            }
            Run(Math.Max(5, o.Warmup * 10));
            return Repeat(o.Repeats, () => Run(tokens));
        }
        using var noGrad = no_grad();
        using var kernels = w.OneDnn ? null : TorchKernels.WithoutOneDnn();
        double Generate(int n)
        {
            using var scope = NewDisposeScope();
            var token = zeros([1], ScalarType.Int64);
            RecurrentState? state = null;
            var sw = Stopwatch.StartNew();
            for (var i = 0; i < n; i++)
            {
                using var step = NewDisposeScope();
                var (logits, next) = model.Step(token, state);                    // [1, vocab]
                token = logits.argmax(-1).MoveToOuterDisposeScope();
                state = next.MoveToOuterDisposeScope();
            }
            return sw.Elapsed.TotalMilliseconds / n;
        }
        Generate(Math.Max(5, o.Warmup * 10));
        return Repeat(o.Repeats, () => Generate(tokens));
    }

    /// <summary>RSS and live tensors after a short and a long run of training steps. Live tensors are counted from
    /// the check's own start: TorchSharp's count is per thread (created minus disposed on it), so tensors made on
    /// other threads and disposed on this one (the bidirectional GRU runs its two directions in parallel) drive
    /// the absolute figure negative.</summary>
    internal static BenchMemory MeasureMemory(BenchWorkload w, BenchOptions o)
    {
        var baseline = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        using var rig = new TrainingRig(w);
        var early = o.LeakSteps / 10;
        rig.Steps(early);
        var rssEarly = NativeHeap.ResidentBytes();
        var liveEarly = DisposeScopeManager.Statistics.ThreadTotalLiveCount - baseline;
        rig.Steps(o.LeakSteps - early);
        return new BenchMemory(early, o.LeakSteps, rssEarly, NativeHeap.ResidentBytes(), liveEarly,
            DisposeScopeManager.Statistics.ThreadTotalLiveCount - baseline);
    }

    static List<double> Repeat(int n, Func<double> measure) => Enumerable.Range(0, n).Select(_ => measure()).ToList();

    /// <summary>The median of <paramref name="values"/>.</summary>
    public static double Median(IReadOnlyList<double> values)
    {
        if (values.Count == 0) throw new ArgumentException("No values.", nameof(values));
        var s = values.Order().ToArray();
        return s.Length % 2 == 1 ? s[s.Length / 2] : (s[s.Length / 2 - 1] + s[s.Length / 2]) / 2;
    }

    static string MachineDescription()
    {
        var cpu = File.Exists("/proc/cpuinfo")
            ? File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim()
            : null;
        var memory = GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / (1L << 30);
        return $"{cpu ?? System.Runtime.InteropServices.RuntimeInformation.ProcessArchitecture.ToString()}, " +
               $"{Environment.ProcessorCount} cores, {memory} GiB, {System.Runtime.InteropServices.RuntimeInformation.OSDescription}";
    }

    static string Versions() =>
        $"TorchSharp {typeof(torch).Assembly.GetName().Version?.ToString(3)} (libtorch {torch.__version__}), .NET {Environment.Version}";
}
