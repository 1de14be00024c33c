using System.Diagnostics;
using System.Globalization;
using System.Text.Json;

namespace RnnNotebooks.Benchmarks;

/// <summary>Drives <c>bench/pytorch_reference.py</c>: the same workloads measured in PyTorch, one child process per
/// workload and thread count, so that each gets the thread settings it is started with.</summary>
static class PyTorchReference
{
    /// <summary>Measures one workload in PyTorch, in a child process running the reference script.</summary>
    public static BenchMeasurement Measure(BenchWorkload w, BenchOptions o, int threads)
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
        return new BenchMeasurement(w.Name, "PyTorch", threads, Bench.Median(samples), Bench.Unit(w), samples, parameters);
    }

    /// <summary>The version of PyTorch the reference script runs.</summary>
    public static string Version(BenchOptions o) => RunPython(o, "version").Trim();

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
}
