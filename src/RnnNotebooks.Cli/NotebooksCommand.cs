using System.CommandLine;
using RnnNotebooks.Cli.Lessons;
using RnnNotebooks.Notebook;

namespace RnnNotebooks.Cli;

/// <summary><c>rnn notebooks build</c>: every lesson's notebook and app written from its source.</summary>
static class NotebooksCommand
{
    public static Command Build()
    {
        var check = CliOptions.Flag("--check", "write nothing; exit with 1, naming the files, when a committed notebook or app is stale");
        var solutions = CliOptions.Flag("--solutions",
            "write the instructor edition (every exercise solved, notebook and app) into --out instead of the student edition");
        var output = CliOptions.Text("--out", "where --solutions writes the instructor edition (not notebooks/, which holds the student edition)", helpName: "DIR");
        var build = new Command("build", "Write every lesson's notebook and app (notebooks/NN-name.ipynb and .cs) from tools/notebook-sources.")
        {
            check, solutions, output,
        };
        CliOptions.Exclusive(build, check, solutions, "contradict each other: --check compares the committed student edition.");
        build.SetAction(p => p.GetValue(solutions) ? WriteInstructorEdition(p.GetValue(output)) : Run(p.GetValue(check), p.GetValue(output)));
        return new Command("notebooks", "The lessons' notebooks and apps, generated from their sources.") { build };
    }

    static int Run(bool check, string? output)
    {
        if (output is not null)
            throw new UsageException($"--out {output}: the student edition always goes to notebooks/; --out is for --solutions.");
        var root = Course.FindRepoRoot();
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

    static int WriteInstructorEdition(string? output)
    {
        if (output is null)
            throw new UsageException("--solutions needs --out DIR, the folder for the instructor edition, e.g. --out artifacts/instructor (git ignores artifacts/).");
        var root = Course.FindRepoRoot();
        var outDir = Path.GetFullPath(output);
        if (RealPath.Same(outDir, Path.Combine(root, "notebooks")))
            throw new UsageException($"--out {output} is notebooks/, the student edition that is committed; give another folder.");

        var files = LessonBuilder.GenerateInstructor(root, outDir);
        Directory.CreateDirectory(outDir);
        foreach (var f in files) AtomicFile.WriteAllText(Path.Combine(outDir, f.RelativePath), f.Content);
        Console.Error.WriteLine($"wrote the instructor edition ({files.Count} files, every exercise solved) to {outDir}");
        return 0;
    }
}
