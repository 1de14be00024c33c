using RnnNotebooks.Data;

namespace RnnNotebooks.Cli;

static class DataCommand
{
    public const string Usage = "rnn data list | verify NAME... | fetch NAME...";

    public static int Run(string[] argv)
    {
        var args = new CliArgs(argv, new HashSet<string>(), new HashSet<string>());
        args.EnsureAllUsed();
        if (args.Positionals.Count == 0) throw new UsageException("say what to do: list, verify or fetch.");
        var names = args.Positionals.Skip(1).ToList();
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
                    Console.WriteLine($"{name}: {v.FilesChecked} files checked in {v.Location.Directory}: {(v.IsValid ? "all match their SHA-256" : $"{v.Problems.Count} problem(s)")}");
                    foreach (var p in v.Problems.Take(20)) Console.WriteLine($"  {p.Message}");
                    if (!v.IsValid) bad++;
                }
                return bad == 0 ? 0 : 1;
            case "fetch":
                foreach (var name in RequireNames(names))
                {
                    var where = Datasets.Ensure(name, new DatasetOptions(Progress: new Progress<DownloadProgress>(p =>
                        Console.Error.WriteLine($"  {p.Dataset}: {p.FilesDone}/{p.FilesTotal} files, {p.BytesDone / 1e6:F1} MB"))));
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
}
