using RnnNotebooks.Data;

namespace RnnNotebooks.Cli;

static class DataCommand
{
    public const string Usage = "rnn data list | verify NAME... | fetch NAME... | fetch --all";

    public static int Run(string[] argv)
    {
        var args = new CliArgs(argv, new HashSet<string> { "all" }, new HashSet<string>());
        var all = args.Flag("all");
        args.EnsureAllUsed();
        if (args.Positionals.Count == 0) throw new UsageException("say what to do: list, verify or fetch.");
        var names = args.Positionals.Skip(1).ToList();
        if (all && (args.Positionals[0] != "fetch" || names.Count > 0))
            throw new UsageException("--all goes with fetch alone: rnn data fetch --all.");
        if (all) names = [.. Datasets.Names];
        switch (args.Positionals[0])
        {
            case "list":
                Console.WriteLine($"{"dataset",-16}{"present",-9}{"files",7}{"MB",9}  where / licence");
                foreach (var s in Datasets.Status())
                    Console.WriteLine($"{s.Name,-16}{(s.IsPresent ? "yes" : "no"),-9}{s.Files,7}{s.Bytes / 1e6,9:F1}  " +
                        $"{(s.IsPresent ? s.Directory + $" ({s.Kind})" : "not found" + (s.CanDownload ? ": rnn data fetch " + s.Name : ""))}\n{"",41}{s.Licence}");
                return 0;
            case "verify":
                var bad = 0;
                foreach (var name in RequireNames(names))
                {
                    var v = Datasets.Verify(name);
                    if (v.Problems.Count == v.FilesChecked && v.Problems.All(p => p.Kind == FileProblemKind.Missing))
                    {
                        Console.WriteLine($"{name}: missing: no copy found (looked in {string.Join("; ", v.Location.Searched)}). " +
                            $"Get it with `rnn data fetch {name}`, or set {Datasets.DataDirVariable} to the folder that contains {name}/.");
                        bad++;
                        continue;
                    }
                    Console.WriteLine($"{name}: {v.FilesChecked} files checked in {v.Location.Directory}: {(v.IsValid ? "all match their SHA-256" : $"{v.Problems.Count} problem(s)")}");
                    foreach (var p in v.Problems.Take(20)) Console.WriteLine($"  {p.Message}");
                    if (!v.IsValid) bad++;
                }
                return bad == 0 ? 0 : 1;
            case "fetch":
                foreach (var name in RequireNames(names))
                {
                    var where = Datasets.Ensure(name, new DatasetOptions(MaxParallelDownloads: 4, Progress: new FetchProgress()));
                    Console.WriteLine($"{name}: {where.Directory} ({where.Kind})");
                }
                return 0;
            default:
                throw new UsageException($"unknown data command '{args.Positionals[0]}'.");
        }
    }

    static IReadOnlyList<string> RequireNames(List<string> names)
    {
        if (names.Count == 0) throw new UsageException($"name one or more datasets: {string.Join(", ", Datasets.Names)}.");
        return names;
    }

    /// <summary>Prints a dataset's download progress at most about once a second, and its last file.</summary>
    sealed class FetchProgress : IProgress<DownloadProgress>
    {
        readonly System.Diagnostics.Stopwatch clock = System.Diagnostics.Stopwatch.StartNew();
        TimeSpan last = TimeSpan.FromSeconds(-1);

        public void Report(DownloadProgress p)
        {
            lock (clock)
            {
                if (p.FilesDone < p.FilesTotal && clock.Elapsed - last < TimeSpan.FromSeconds(1)) return;
                last = clock.Elapsed;
                Console.Error.WriteLine($"  {p.Dataset}: {p.FilesDone}/{p.FilesTotal} files, {p.BytesDone / 1e6:F1} MB");
            }
        }
    }
}
