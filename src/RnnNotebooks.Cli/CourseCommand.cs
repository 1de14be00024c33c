using RnnNotebooks.Notebook;

namespace RnnNotebooks.Cli;

static class CourseCommand
{
    public static int Run(string[] argv)
    {
        var args = new CliArgs(argv, new HashSet<string> { "quick", "full", "no-build" }, new HashSet<string> { "out" });
        var quick = args.Flag("quick");
        var full = args.Flag("full");
        if (quick && full) throw new UsageException("--quick and --full contradict each other.");
        var options = new CourseRunOptions(
            RepoRoot: CourseRunner.FindRepoRoot(),
            Quick: quick || (!full && CourseMode.IsQuick),
            Only: args.Positionals,
            OutputDirectory: args.Option("out"),
            Build: !args.Flag("no-build"));
        args.EnsureAllUsed();

        var report = CourseRunner.Run(options);
        return report.AllPassed ? 0 : 1;
    }
}
