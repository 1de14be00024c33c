using RnnNotebooks.Cli.Lessons;

namespace RnnNotebooks.Cli;

static class NotebooksCommand
{
    public const string Usage = "rnn notebooks build [--check]";

    public static int Run(string[] argv)
    {
        if (argv.Length == 0 || argv[0] != "build")
            throw new UsageException(argv.Length == 0 ? "name a subcommand: build." : $"unknown notebooks command '{argv[0]}'.");
        var args = new CliArgs(argv[1..], new HashSet<string> { "check" }, new HashSet<string>());
        var check = args.Flag("check");
        args.EnsureAllUsed();
        if (args.Positionals.Count > 0) throw new UsageException($"unexpected argument '{args.Positionals[0]}'.");

        var root = CourseRunner.FindRepoRoot();
        var stale = LessonBuilder.Stale(root);
        if (check)
        {
            foreach (var f in stale) Console.Error.WriteLine($"{f.RelativePath} differs from its source; run 'rnn notebooks build'.");
            return stale.Count == 0 ? 0 : 1;
        }
        foreach (var f in stale)
        {
            AtomicFile.WriteAllText(Path.Combine(root, f.RelativePath), f.Content);
            Console.Error.WriteLine($"wrote {f.RelativePath}");
        }
        Console.Error.WriteLine(stale.Count == 0 ? "every notebook and app is up to date" : $"{stale.Count} files written");
        return 0;
    }
}
