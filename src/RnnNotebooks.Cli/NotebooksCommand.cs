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
        var build = new Command("build", "Write every lesson's notebook and app (notebooks/NN-name.ipynb and .cs) from tools/notebook-sources.") { check };
        build.SetAction(p => Run(p.GetValue(check)));
        return new Command("notebooks", "The lessons' notebooks and apps, generated from their sources.") { build };
    }

    static int Run(bool check)
    {
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
}
