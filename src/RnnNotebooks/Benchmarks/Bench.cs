using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using RnnNotebooks.Models;
using RnnNotebooks.Platform;
using RnnNotebooks.Training;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace RnnNotebooks.Benchmarks;

/// <summary>The recurrent cell of a benchmark model.</summary>
public enum BenchCell { Lstm, Gru, Rnn }

/// <summary>
/// One benchmark workload. <c>train</c>: a character language-model step (embedding → recurrent layers →
/// linear, cross-entropy, backward, Adam) on <c>Batch × Steps</c> tokens. <c>generate</c>: one token at a time
/// at batch 1, the hidden state carried, as text generation does. <c>gemm</c>: a float32 matrix product
/// (<c>Hidden × Hidden</c>), the machine's reference rate. <c>seq2seq</c>: a training step of lesson 04's
/// translation model (<see cref="Translation.Seq2Seq"/>: bidirectional GRU encoder, additive attention, GRU
/// decoder with teacher forcing, masked cross-entropy, clipping, Adam) on a padded batch whose sources and targets
/// are at most <c>Steps</c> tokens; <c>Vocab</c> is the target vocabulary. <c>ctc</c>: a training step of lesson 05's
/// <see cref="Speech.AcousticModel"/> (convolutions, bidirectional GRU, log_softmax, CTC loss, clipping, Adam) on
/// <c>Batch</c> utterances of at most <c>Steps</c> feature frames; <c>Vocab</c> is the number of classes.
/// <c>SourceVocab</c> and <c>Embedding</c> size the seq2seq model; <c>Features</c> (per frame) and <c>Channels</c>
/// (of the convolutions) the ctc one. A <c>gemm-steps</c> workload with <c>PreTransposed</c> multiplies by a
/// contiguous copy of <c>W_hhᵀ</c> (what <see cref="Models.FusedGru"/> does) instead of the transposed view
/// <c>nn.GRU</c> uses. A <c>generate</c> workload with <c>Library</c> times
/// <see cref="Decoding.TextGeneration.Generate(LanguageModel, IReadOnlyList{int}, int, Decoding.SamplingOptions, Random)"/>
/// (greedy, prompt and preparation included) instead of a loop over <see cref="LanguageModel.Step"/>.
/// </summary>
public sealed record BenchWorkload(string Name, string Kind, BenchCell Cell, int Vocab, int Hidden, int Layers,
    int Batch, int Steps, bool OneDnn = true, bool Scratch = false,
    int SourceVocab = 0, int Embedding = 0, int Features = 0, int Channels = 0, bool Library = false,
    bool PreTransposed = false)
{
    /// <summary>Floating-point operations of one step (train) or one token (generate), forward and backward;
    /// NaN for the seq2seq and ctc steps, whose mix of layers a single count would misdescribe.</summary>
    public double FlopsPerStep
    {
        get
        {
            if (Kind == "gemm") return 2.0 * Hidden * Hidden * Hidden;
            // A GRU training step's products that cannot be batched over time: per layer and step, h·W_hhᵀ
            // [batch × H]·[H × 3H] forward and ∂g·W_hh [batch × 3H]·[3H × H] backward.
            if (Kind == "gemm-steps") return Layers * Steps * 2 * (2.0 * Batch * Hidden * 3 * Hidden);
            if (Kind is "seq2seq" or "ctc") return double.NaN;
            var gates = Cell switch { BenchCell.Lstm => 4, BenchCell.Gru => 3, _ => 1 };
            // Per token and layer: the gate matrices times [input; hidden] (embedding size = hidden here).
            var recurrent = 2.0 * gates * Hidden * (Hidden + Hidden) * Layers;
            var readout = 2.0 * Hidden * Vocab;
            var forward = (recurrent + readout) * Batch * Steps;
            return Kind == "train" ? 3 * forward : forward;   // backward ≈ twice the forward
        }
    }

    /// <summary>Tokens (train: all; seq2seq: real target tokens, end token included; ctc: real input frames) one
    /// measured step covers.</summary>
    public long TokensPerStep => Kind switch
    {
        "train" => (long)Batch * Steps,
        "seq2seq" => TargetLengths.Sum(),
        "ctc" => FrameLengths.Sum(),
        _ => 1,
    };

    // Padded batches whose rows differ in length, so that masking and packing do real work; both engines get these
    // exact lengths (the PyTorch side receives them in its spec).

    /// <summary>seq2seq: source lengths, end token included (the longest is <c>Steps</c>).</summary>
    public IReadOnlyList<int> SourceLengths => Kind == "seq2seq" ? Rows(i => Steps - i % 3) : [];

    /// <summary>seq2seq: target lengths, end token included (the longest is <c>Steps</c>).</summary>
    public IReadOnlyList<int> TargetLengths => Kind == "seq2seq" ? Rows(i => Steps - (i + 1) % 4) : [];

    /// <summary>ctc: feature frames of each utterance (the longest is <c>Steps</c>).</summary>
    public IReadOnlyList<int> FrameLengths => Kind == "ctc" ? Rows(i => Steps - i % 8 * Math.Max(1, Steps / 60)) : [];

    /// <summary>ctc: transcript labels of each utterance (about one per 12 frames, as spoken digit words give).</summary>
    public IReadOnlyList<int> LabelLengths => Kind == "ctc" ? Rows(i => Math.Max(2, Steps / 12) + i % 3) : [];

    int[] Rows(Func<int, int> length) => [.. Enumerable.Range(0, Batch).Select(length)];
}

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

/// <summary>The memory check: resident set size and live tensors after a short and a long run of steps.</summary>
public sealed record BenchMemory(int StepsEarly, int StepsLate, long RssEarlyBytes, long RssLateBytes,
    long LiveTensorsEarly, long LiveTensorsLate)
{
    /// <summary>RSS growth from the early to the late reading, as a fraction.</summary>
    public double RssGrowth => (double)(RssLateBytes - RssEarlyBytes) / RssEarlyBytes;
}

/// <summary>Everything one <c>rnn bench</c> run measured.</summary>
public sealed record BenchReport(DateTimeOffset Date, string Machine, string Versions, string Command,
    IReadOnlyList<BenchWorkload> Workloads, IReadOnlyList<BenchMeasurement> Measurements, BenchMemory? Memory,
    string? PyTorchVersion, string? Note = null);

/// <summary>
/// Measures the course's workloads in TorchSharp and, interleaved in the same run, in PyTorch.
/// </summary>
/// <remarks>Numbers are medians of timed repeats after warm-up; nothing here is asserted by tests.</remarks>
public static class Bench
{
    /// <summary>The workloads of the full benchmark (tiny shapes when <paramref name="tiny"/>).</summary>
    public static IReadOnlyList<BenchWorkload> Workloads(bool tiny)
    {
        int v = 65, b = tiny ? 4 : 32, t = tiny ? 16 : 128;
        int Size(int full) => tiny ? Math.Max(16, full / 8) : full;
        BenchWorkload Train(BenchCell cell, int hidden) =>
            new($"train {cell.ToString().ToUpperInvariant()} 2x{Size(hidden)}", "train", cell, v, Size(hidden), 2, b, t);
        // Lesson 04: fra→eng with sentences of at most 10 words (vocabularies 13,487 / 7,685 at minimum frequency
        // 2), embedding and hidden 256, batch 64. Lesson 05: batches of 16 connected digit strings of ~2.4 s at
        // 100 frames/s, 40 log-mel features, 17 classes, the acoustic model's default sizes.
        var seq2seq = tiny
            ? new BenchWorkload("seq2seq attention step 16", "seq2seq", BenchCell.Gru, 60, 16, 1, 4, 6, SourceVocab: 50, Embedding: 16)
            : new BenchWorkload("seq2seq attention step 256", "seq2seq", BenchCell.Gru, 7685, 256, 1, 64, 11, SourceVocab: 13487, Embedding: 256);
        var ctc = tiny
            ? new BenchWorkload("ctc acoustic step 16", "ctc", BenchCell.Gru, 17, 16, 2, 4, 40, Features: 40, Channels: 16)
            : new BenchWorkload("ctc acoustic step 128", "ctc", BenchCell.Gru, 17, 128, 2, 16, 240, Features: 40, Channels: 128);
        BenchWorkload Generate(bool oneDnn) =>
            new($"generate LSTM 2x{Size(256)} (oneDNN {(oneDnn ? "on" : "off")})", "generate", BenchCell.Lstm, v, Size(256), 2, 1, 1, oneDnn);
        IEnumerable<BenchWorkload> all =
        [
            new($"gemm {Size(1024)}", "gemm", BenchCell.Lstm, 0, Size(1024), 0, 0, 0),
            new($"gemm GRU per-step {b}x{Size(256)}x{3 * Size(256)}", "gemm-steps", BenchCell.Gru, 0, Size(256), 2, b, t),
            new($"gemm GRU per-step {b}x{Size(256)}x{3 * Size(256)} (W_hhT contiguous)", "gemm-steps", BenchCell.Gru, 0, Size(256), 2, b, t,
                PreTransposed: true),
            Train(BenchCell.Lstm, 128), Train(BenchCell.Lstm, 256), Train(BenchCell.Lstm, 512),
            Train(BenchCell.Gru, 256), Train(BenchCell.Rnn, 256),
            Train(BenchCell.Lstm, 256) with { Name = $"train scratch LSTM 2x{Size(256)}", Scratch = true },
            seq2seq, ctc,
            Generate(oneDnn: true), Generate(oneDnn: false),
            // What a learner's call costs: TextGeneration picks the kernels and the step itself.
            Generate(oneDnn: false) with { Name = $"generate LSTM 2x{Size(256)} (TextGeneration)", Library = true },
        ];
        return all.DistinctBy(w => w.Name).ToList();
    }

    /// <summary>Runs every workload at every thread count, TorchSharp then PyTorch, and the memory check.</summary>
    public static BenchReport Run(BenchOptions options, bool tiny, string command, Action<string>? log = null)
    {
        log ??= Console.Error.WriteLine;
        var workloads = Workloads(tiny).Where(w => options.Only is null
            || options.Only.Any(o => w.Name.Contains(o, StringComparison.OrdinalIgnoreCase))).ToList();
        if (workloads.Count == 0)
            throw new ArgumentException($"No workload matches {string.Join(", ", options.Only ?? [])}; the workloads are: " +
                string.Join(", ", Workloads(tiny).Select(w => w.Name)) + ".", nameof(options));
        var measurements = new List<BenchMeasurement>();
        var pyVersion = options.Python is null ? null : PyTorchVersion(options);
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
                        var py = MeasurePyTorch(w, options, threads);
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

    static string Unit(BenchWorkload w) => w.Kind switch
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

    static BenchMemory MeasureMemory(BenchWorkload w, BenchOptions o)
    {
        using var rig = new TrainingRig(w);
        var early = o.LeakSteps / 10;
        rig.Steps(early);
        var rssEarly = NativeHeap.ResidentBytes();
        var liveEarly = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        rig.Steps(o.LeakSteps - early);
        return new BenchMemory(early, o.LeakSteps, rssEarly, NativeHeap.ResidentBytes(), liveEarly, DisposeScopeManager.Statistics.ThreadTotalLiveCount);
    }

    static List<double> Repeat(int n, Func<double> measure) => Enumerable.Range(0, n).Select(_ => measure()).ToList();

    /// <summary>The median of <paramref name="values"/>.</summary>
    public static double Median(IReadOnlyList<double> values)
    {
        if (values.Count == 0) throw new ArgumentException("No values.", nameof(values));
        var s = values.Order().ToArray();
        return s.Length % 2 == 1 ? s[s.Length / 2] : (s[s.Length / 2 - 1] + s[s.Length / 2]) / 2;
    }

    static BenchMeasurement MeasurePyTorch(BenchWorkload w, BenchOptions o, int threads)
    {
        var spec = JsonSerializer.Serialize(new
        {
            name = w.Name, kind = w.Kind, cell = w.Cell.ToString().ToLowerInvariant(), scratch = w.Scratch, vocab = w.Vocab, hidden = w.Hidden,
            pre_transposed = w.PreTransposed,
            layers = w.Layers, batch = w.Batch, steps = w.Steps, threads, warmup = o.Warmup, repeats = o.Repeats,
            steps_per_repeat = o.StepsPerRepeat, source_vocab = w.SourceVocab, embedding = w.Embedding, features = w.Features,
            channels = w.Channels, source_lengths = w.SourceLengths, target_lengths = w.TargetLengths,
            frame_lengths = w.FrameLengths, label_lengths = w.LabelLengths,
        });
        var output = RunPython(o, spec, threads);
        using var doc = JsonDocument.Parse(output);
        var samples = doc.RootElement.GetProperty("samples").EnumerateArray().Select(e => e.GetDouble()).ToList();
        long? parameters = doc.RootElement.TryGetProperty("parameters", out var p) ? p.GetInt64() : null;
        return new BenchMeasurement(w.Name, "PyTorch", threads, Median(samples), Unit(w), samples, parameters);
    }

    static string PyTorchVersion(BenchOptions o) => RunPython(o, "version").Trim();

    static string RunPython(BenchOptions o, string argument, int? threads = null)
    {
        var psi = new ProcessStartInfo(o.Python!) { RedirectStandardOutput = true, RedirectStandardError = true };
        if (threads is { } n)
        {
            // Debian's PyTorch multiplies matrices through OpenBLAS, whose own thread pool torch.set_num_threads
            // does not size: without these, "1 thread" PyTorch ran its products on every core.
            psi.Environment["OPENBLAS_NUM_THREADS"] = n.ToString(CultureInfo.InvariantCulture);
            psi.Environment["OMP_NUM_THREADS"] = n.ToString(CultureInfo.InvariantCulture);
            // With OpenMP's default (spinning) wait, its threads and OpenBLAS's fight over the cores: on the 2-core
            // VM Debian's PyTorch trained the 2×128 LSTM at 8,109 tokens/s on 2 threads against 28,500 on 1, and at
            // 33,499 on 2 with passive waiting (2026-11-26). Give the reference its best configuration.
            if (n > 1) psi.Environment["OMP_WAIT_POLICY"] = "PASSIVE";
        }
        psi.ArgumentList.Add(o.ReferenceScript);
        psi.ArgumentList.Add(argument);
        using var p = Process.Start(psi) ?? throw new InvalidOperationException($"Could not start {o.Python}.");
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        p.WaitForExit();
        if (p.ExitCode != 0)
            throw new InvalidOperationException(
                $"{o.Python} {o.ReferenceScript} failed (exit code {p.ExitCode}): {stderr.Result.Trim()}\n" +
                "Install PyTorch for it (Debian/Ubuntu: bench/setup.sh installs python3-torch), or pass --no-pytorch.");
        return stdout.Result;
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

    /// <summary>The report as Markdown: one table per thread count, a best-of table with ratios, and memory.</summary>
    public static string ToMarkdown(BenchReport r)
    {
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

/// <summary>The models the benchmark trains and steps: lesson 03's <see cref="LanguageModel"/> (embedding size =
/// hidden, no dropout), or, for <see cref="BenchWorkload.Scratch"/>, the same shape with lesson 02's from-scratch
/// <see cref="Models.SequenceRnn"/> as its recurrent layers.</summary>
static class BenchModels
{
    public static LanguageModel Create(BenchWorkload w) => new(new LanguageModelOptions(w.Vocab, w.Hidden, w.Layers, w.Cell switch
    {
        BenchCell.Lstm => RecurrentCell.Lstm,
        BenchCell.Gru => RecurrentCell.Gru,
        _ => RecurrentCell.Rnn,
    }));

    /// <summary>A model, the loss of one fixed random batch, and the optimizer settings its lesson trains with.</summary>
    public sealed class Trainable(nn.Module model, Func<Tensor> loss, double learningRate, double? clipGradNorm,
        params IDisposable[] owned) : IDisposable
    {
        public nn.Module Model { get; } = model;
        public Func<Tensor> Loss { get; } = loss;
        public double LearningRate { get; } = learningRate;
        public double? ClipGradNorm { get; } = clipGradNorm;

        public void Dispose()
        {
            foreach (var d in owned) d.Dispose();
            Model.Dispose();
        }
    }

    /// <summary>The model and batch of a training workload (train, seq2seq or ctc).</summary>
    public static Trainable ForTraining(BenchWorkload w)
    {
        switch (w.Kind)
        {
            case "seq2seq": return Seq2SeqStep(w);
            case "ctc": return CtcStep(w);
        }
        var inputs = randint(0, w.Vocab, [w.Batch, w.Steps]);
        var targets = randint(0, w.Vocab, [w.Batch, w.Steps]);
        Func<Tensor, Tensor> logits;
        nn.Module module;
        if (!w.Scratch)
        {
            var model = Create(w);
            (module, logits) = (model, ids => model.call(ids, null).Logits);
        }
        else
        {
            var scratch = new ScratchLanguageModel(w);
            (module, logits) = (scratch, scratch.call);
        }
        return new Trainable(module, () => nn.functional.cross_entropy(logits(inputs).reshape(-1, w.Vocab), targets.reshape(-1)),
            1e-3, null, inputs, targets);
    }

    /// <summary>Lesson 04's model and training settings (Adam 0.002, clipping at 1, dropout 0.2) on random sentences.</summary>
    static Trainable Seq2SeqStep(BenchWorkload w)
    {
        var model = new Translation.Seq2Seq(new Translation.Seq2SeqOptions(w.SourceVocab, w.Vocab, w.Embedding, w.Hidden,
            Translation.AttentionKind.Additive, Dropout: 0.2));
        var random = new Random(1);
        // Words only (ids past <pad> <bos> <eos> <unk>); Collate appends the end token, hence length − 1 words.
        long[] Words(int count, int vocab) => [.. Enumerable.Range(0, count).Select(_ => (long)random.Next(4, vocab))];
        var pairs = w.SourceLengths.Zip(w.TargetLengths,
            (s, t) => new Translation.EncodedPair(Words(s - 1, w.SourceVocab), Words(t - 1, w.Vocab))).ToList();
        var batch = Translation.TranslationBatch.Collate(pairs);
        return new Trainable(model, () => model.Loss(batch), 0.002, 1.0,
            batch.Source, batch.SourceLengths, batch.SourceMask, batch.TargetInput, batch.TargetOutput, batch.TargetMask);
    }

    /// <summary>Lesson 05's model and training settings (Adam 0.002, clipping at 5, dropout 0.15) on random features.</summary>
    static Trainable CtcStep(BenchWorkload w)
    {
        var model = new Speech.AcousticModel(new Speech.AcousticModelOptions(w.Features, w.Vocab, w.Channels, 2, w.Hidden, w.Layers,
            Models.CellKind.Gru));
        var features = w.FrameLengths.Select(n => randn(n, w.Features)).ToList();
        var labels = w.LabelLengths.Select(n => randint(1, w.Vocab, [n])).ToList();   // any class but the blank (0)
        var batch = new Speech.SpeechBatch(nn.utils.rnn.pad_sequence(features, batch_first: true),
            tensor(w.FrameLengths.Select(n => (long)n).ToArray()), cat(labels, 0),
            tensor(w.LabelLengths.Select(n => (long)n).ToArray()), [.. w.LabelLengths.Select(_ => "")]);
        foreach (var t in features.Concat(labels)) t.Dispose();
        return new Trainable(model, () => batch.Loss(model), 0.002, 5.0, batch.Features, batch.Lengths, batch.Targets, batch.TargetLengths);
    }

    sealed class ScratchLanguageModel : nn.Module<Tensor, Tensor>
    {
        readonly Embedding embedding;
        readonly Models.SequenceRnn recurrent;
        readonly Linear readout;

        public ScratchLanguageModel(BenchWorkload w) : base(nameof(ScratchLanguageModel))
        {
            embedding = nn.Embedding(w.Vocab, w.Hidden);
            recurrent = new Models.SequenceRnn(new Models.SequenceRnnOptions(Models.CellKind.Lstm, w.Hidden, w.Hidden, w.Layers));
            readout = nn.Linear(w.Hidden, w.Vocab);
            RegisterComponents();
        }

        public override Tensor forward(Tensor ids) =>
            readout.forward(recurrent.forward(embedding.forward(ids), null).Output);   // [batch, steps, vocab]
    }
}
