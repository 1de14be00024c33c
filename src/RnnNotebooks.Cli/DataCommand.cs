using System.CommandLine;
using RnnNotebooks.Data;

namespace RnnNotebooks.Cli;

/// <summary><c>rnn data list | verify | fetch</c>: the course's datasets, where they are, whether they are intact.</summary>
static class DataCommand
{
    public static Command Build()
    {
        var list = new Command("list", "Each dataset, whether it is present, where, and its licence.");
        list.SetAction(_ => List());
        var verifyNames = Names();
        var verify = new Command("verify", "Check every file of the named datasets against the SHA-256 in data/manifests/.") { verifyNames };
        verify.SetAction(p => Verify(p.GetValue(verifyNames) ?? []));
        var fetchNames = Names();
        var all = CliOptions.Flag("--all", "every dataset (prepares a classroom machine in one command)");
        var fetch = new Command("fetch", "Download the named datasets into the user cache, checking every file as it comes.") { fetchNames, all };
        fetch.SetAction(p =>
        {
            var names = p.GetValue(fetchNames) ?? [];
            if (p.GetValue(all) && names.Length > 0) throw new UsageException("--all goes with fetch alone: rnn data fetch --all.");
            return Fetch(p.GetValue(all) ? [.. Datasets.Names] : names);
        });
        return new Command("data", "List the datasets and where they are, check their SHA-256, or download them.") { list, verify, fetch };
    }

    static Argument<string[]> Names() =>
        new("NAME") { Description = "dataset names (rnn data list shows them)", Arity = ArgumentArity.ZeroOrMore };

    static int List()
    {
        Console.WriteLine($"{"dataset",-16}{"present",-9}{"files",7}{"MB",9}  where / licence");
        foreach (var s in Datasets.Status())
            Console.WriteLine($"{s.Name,-16}{(s.IsPresent ? "yes" : "no"),-9}{s.Files,7}{s.Bytes / 1e6,9:F1}  " +
                $"{(s.IsPresent ? s.Directory + $" ({s.Kind})" : "not found" + (s.CanDownload ? ": rnn data fetch " + s.Name : ""))}\n{"",41}{s.Licence}");
        return 0;
    }

    static int Verify(IReadOnlyList<string> names)
    {
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
    }

    static int Fetch(IReadOnlyList<string> names)
    {
        foreach (var name in RequireNames(names))
        {
            var where = Datasets.Ensure(name, new DatasetOptions(MaxParallelDownloads: 4, Progress: new FetchProgress()));
            Console.WriteLine($"{name}: {where.Directory} ({where.Kind})");
        }
        return 0;
    }

    static IReadOnlyList<string> RequireNames(IReadOnlyList<string> names)
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
