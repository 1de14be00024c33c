using System.CommandLine;
using RnnNotebooks.Notebook;

namespace RnnNotebooks.Cli;

/// <summary><c>rnn course</c>: every lesson run headless, as a notebook or as an app.</summary>
static class CourseCommand
{
    public static Command Build()
    {
        var quick = CliOptions.Flag("--quick", "the CI-sized run (as RNN_QUICK=1)");
        var full = CliOptions.Flag("--full", "full mode even when RNN_QUICK is set");
        var host = new Option<string>("--host")
        {
            Description = "notebook: the .ipynb under dotnet-repl; app: the .cs under dotnet run", DefaultValueFactory = _ => "notebook",
        };
        host.CompletionSources.Add("notebook", "app");
        var noBuild = CliOptions.Flag("--no-build", "do not build the library first");
        var output = CliOptions.Text("--out", "where the executed copies go (default artifacts/notebooks); with --grade, the grades CSV file (default artifacts/grading/grades.csv)", helpName: "DIR");
        var prepare = CliOptions.Text("--prepare", "train the lessons' models in full mode and save them into DIR, for RNN_PRETRAINED=DIR " +
            "(default: every lesson that has one)", helpName: "DIR");
        var force = CliOptions.Flag("--force", "with --prepare: replace models already prepared in DIR");
        var lessons = new Argument<string[]>("LESSON") { Description = "the lessons to run (00, 01-vanilla-rnn, …; default: all)", Arity = ArgumentArity.ZeroOrMore };
        var command = new Command("course", "Run the lessons headless, as notebooks or as apps, and write artifacts/results.md.")
        {
            quick, full, host, noBuild, output, prepare, force, lessons,
        };
        CliOptions.Exclusive(command, quick, full, "contradict each other.");
        var grade = CourseGrader.GradeOption();
        command.Add(grade);
        command.Validators.Add(r =>
        {
            if (r.GetValue(prepare) is not null && r.GetValue(quick))
                r.AddError("--prepare trains the full-mode models; it cannot be combined with --quick.");
            if (r.GetValue(prepare) is not null && r.GetValue(grade) is not null)
                r.AddError("--prepare and --grade contradict each other (train the lessons' models, or mark students' work).");
            if (r.GetValue(force) && r.GetValue(prepare) is null)
                r.AddError("--force only replaces models prepared by --prepare DIR; give --prepare DIR too.");
        });
        command.SetAction(p =>
        {
            var lessonHost = p.GetValue(host) switch
            {
                "notebook" => LessonHost.Notebook,
                "app" => LessonHost.App,
                var other => throw new UsageException($"--host {other}: use 'notebook' (the .ipynb under dotnet-repl) or 'app' (the .cs under dotnet run)."),
            };
            if (p.GetValue(grade) is { } submissions)
                return CourseGrader.Run(submissions, p.GetValue(output), p.GetValue(lessons) ?? [], !p.GetValue(noBuild), p.GetValue(full), lessonHost);
            var prepareDir = p.GetValue(prepare);
            if (prepareDir is { Length: 0 }) throw new UsageException("--prepare needs a folder: --prepare DIR.");
            var options = new CourseRunOptions(
                RepoRoot: Course.FindRepoRoot(),
                Quick: prepareDir is null && (p.GetValue(quick) || (!p.GetValue(full) && CourseMode.IsQuick)),
                Only: p.GetValue(lessons) ?? [],
                OutputDirectory: p.GetValue(output),
                Build: !p.GetValue(noBuild),
                Host: lessonHost,
                PrepareDirectory: prepareDir,
                ReplacePrepared: p.GetValue(force));
            return CourseRunner.Run(options).AllPassed ? 0 : 1;
        });
        return command;
    }
}
