using RnnNotebooks.Benchmarks;
using RnnNotebooks.Notebook;

namespace RnnNotebooks.Cli;

static class BenchCommand
{
    public const string Usage = "rnn bench [--tiny] [--no-pytorch] [--python PATH] [--threads 1,2] [--only NAME,…] [--note TEXT] [--out docs/benchmarks.md]";

    const string Help = Usage + """


          Measures the course's workloads in TorchSharp and, in the same run, in PyTorch (bench/setup.sh installs it),
          and writes the report to docs/benchmarks.md.
            --tiny            seconds-long shapes that only check that everything runs (writes no file)
            --no-pytorch      measure TorchSharp only
            --python PATH     the Python that has PyTorch (default /usr/bin/python3)
            --threads 1,2     intra-op thread counts to measure at
            --only NAME,...   only the workloads whose names contain one of these (writes no file)
            --note TEXT       the machine's state during the run, for the report
            --out FILE        where to write the report
          """;

    public static int Run(string[] argv)
    {
        if (argv.Any(a => a is "-h" or "--help"))
        {
            Console.WriteLine(Help);
            return 0;
        }
        var args = new CliArgs(argv, new HashSet<string> { "tiny", "no-pytorch" }, new HashSet<string> { "python", "threads", "out", "only", "note" });
        if (args.Positionals.Count > 0)
            throw new UsageException($"unexpected argument '{args.Positionals[0]}' (bench takes only options; -h lists them).");
        var tiny = args.Flag("tiny");
        var root = CourseRunner.FindRepoRoot();
        var script = Path.Combine(root, "bench", "pytorch_reference.py");
        var python = args.Flag("no-pytorch") ? null : args.Option("python") ?? "/usr/bin/python3";
        var options = tiny ? BenchOptions.Tiny(script, python) : BenchOptions.Full(script, python);
        if (args.Option("threads") is { } threads)
            options = options with { Threads = threads.Split(',').Select(t => int.TryParse(t, out var n) && n > 0 ? n
                : throw new UsageException($"--threads {threads}: expected a comma-separated list of positive numbers.")).ToList() };
        if (args.Option("only") is { } only)
            options = options with { Only = only.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries) };
        if (args.Option("note") is { } note) options = options with { Note = note };
        // A partial run must not overwrite the published table unless asked to.
        var output = args.Option("out") ?? (tiny || options.Only is not null ? null : Path.Combine(root, "docs", "benchmarks.md"));
        args.EnsureAllUsed();
        if (python is not null && !File.Exists(python))
            throw new UsageException($"{python} not found: run bench/setup.sh to install PyTorch, pass --python PATH, or --no-pytorch.");

        // The note has its own line in the report; the command line shows only that there was one.
        var shown = argv.Select((a, i) => i > 0 && argv[i - 1] == "--note" ? "…" : a);
        var command = "rnn bench " + string.Join(' ', shown);
        var report = Bench.Run(options, tiny, command.Trim());
        var markdown = report.ToMarkdown();
        Console.WriteLine(markdown);
        if (output is not null)
        {
            AtomicFile.WriteAllText(output, markdown);
            Console.Error.WriteLine($"written to {output}");
        }
        return 0;
    }
}
