using RnnNotebooks.Notebook;

namespace RnnNotebooks.Cli;

static class CourseCommand
{
    public const string Usage = "rnn course [--quick | --full] [--host notebook|app] [--no-build] [--out DIR] [LESSON ...]";

    public static int Run(string[] argv)
    {
        var args = new CliArgs(argv, new HashSet<string> { "quick", "full", "no-build" }, new HashSet<string> { "out", "host" });
        var quick = args.Flag("quick");
        var full = args.Flag("full");
        if (quick && full) throw new UsageException("--quick and --full contradict each other.");
        var host = args.Option("host") switch
        {
            null or "notebook" => LessonHost.Notebook,
            "app" => LessonHost.App,
            var other => throw new UsageException($"--host {other}: use 'notebook' (the .ipynb under dotnet-repl) or 'app' (the .cs under dotnet run)."),
        };
        var options = new CourseRunOptions(
            RepoRoot: CourseRunner.FindRepoRoot(),
            Quick: quick || (!full && CourseMode.IsQuick),
            Only: args.Positionals,
            OutputDirectory: args.Option("out"),
            Build: !args.Flag("no-build"),
            Host: host);
        args.EnsureAllUsed();

        var report = CourseRunner.Run(options);
        return report.AllPassed ? 0 : 1;
    }
}
