using System.CommandLine;
using RnnNotebooks.Benchmarks;
using RnnNotebooks.Notebook;

namespace RnnNotebooks.Cli;

/// <summary><c>rnn bench</c>: training and generation speed, beside PyTorch on the same machine.</summary>
static class BenchCommand
{
    public static Command Build()
    {
        var tiny = CliOptions.Flag("--tiny", "seconds-long shapes that only check that everything runs (writes no file)");
        var noPytorch = CliOptions.Flag("--no-pytorch", "measure TorchSharp only");
        var python = CliOptions.Text("--python", "the Python that has PyTorch (bench/setup.sh installs it)", "/usr/bin/python3", helpName: "PATH");
        var threads = new Option<string>("--threads") { HelpName = "1,2", Description = "intra-op thread counts to measure at, comma-separated (e.g. 1,2)" };
        var only = new Option<string>("--only") { HelpName = "NAME,…", Description = "only the workloads whose names contain one of these, comma-separated (writes no file)" };
        var note = new Option<string>("--note") { HelpName = "TEXT", Description = "the machine's state during the run, for the report" };
        var output = new Option<string>("--out") { HelpName = "FILE", Description = "where to write the report (default docs/benchmarks.md for a full run)" };
        var command = new Command("bench",
            "Measure training and generation speed beside PyTorch on the same machine and write the report (docs/benchmarks.md).")
        {
            tiny, noPytorch, python, threads, only, note, output,
        };
        command.SetAction(p =>
        {
            var root = CourseRunner.FindRepoRoot();
            var script = Path.Combine(root, "bench", "pytorch_reference.py");
            var pythonPath = p.GetValue(noPytorch) ? null : p.GetValue(python);
            var options = p.GetValue(tiny) ? BenchOptions.Tiny(script, pythonPath) : BenchOptions.Full(script, pythonPath);
            if (p.GetValue(threads) is { } list)
                options = options with { Threads = list.Split(',').Select(t => int.TryParse(t, out var n) && n > 0 ? n
                    : throw new UsageException($"--threads {list}: expected a comma-separated list of positive numbers.")).ToList() };
            if (p.GetValue(only) is { } names)
                options = options with { Only = names.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries) };
            if (p.GetValue(note) is { } text) options = options with { Note = text };
            // A partial run must not overwrite the published table unless asked to.
            var report = p.GetValue(output) ?? (p.GetValue(tiny) || options.Only is not null ? null : Path.Combine(root, "docs", "benchmarks.md"));
            if (pythonPath is not null && !File.Exists(pythonPath))
                throw new UsageException($"{pythonPath} not found: run bench/setup.sh to install PyTorch, pass --python PATH, or --no-pytorch.");
            // The note has its own line in the report; the command line shows only that there was one.
            var words = p.Tokens.Select(t => t.Value).ToList();
            var shown = words.Select((w, i) => i > 0 && words[i - 1] == "--note" ? "…" : w);
            return Run(options, p.GetValue(tiny), string.Join(' ', ["rnn", .. shown]), report);
        });
        return command;
    }

    static int Run(BenchOptions options, bool tiny, string commandLine, string? output)
    {
        var markdown = Bench.Run(options, tiny, commandLine).ToMarkdown();
        Console.WriteLine(markdown);
        if (output is not null)
        {
            AtomicFile.WriteAllText(output, markdown);
            Console.Error.WriteLine($"written to {output}");
        }
        return 0;
    }
}
