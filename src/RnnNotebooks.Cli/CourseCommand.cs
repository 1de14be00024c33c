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
        var lessons = new Argument<string[]>("LESSON") { Description = "the lessons to run (00, 01-vanilla-rnn, …; default: all)", Arity = ArgumentArity.ZeroOrMore };
        var command = new Command("course", "Run the lessons headless, as notebooks or as apps, and write artifacts/results.md.")
        {
            quick, full, host, noBuild, output, lessons,
        };
        CliOptions.Exclusive(command, quick, full, "contradict each other.");
        var grade = CourseGrader.GradeOption();
        command.Add(grade);
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
            var options = new CourseRunOptions(
                RepoRoot: Course.FindRepoRoot(),
                Quick: p.GetValue(quick) || (!p.GetValue(full) && CourseMode.IsQuick),
                Only: p.GetValue(lessons) ?? [],
                OutputDirectory: p.GetValue(output),
                Build: !p.GetValue(noBuild),
                Host: lessonHost);
            return CourseRunner.Run(options).AllPassed ? 0 : 1;
        });
        return command;
    }
}
