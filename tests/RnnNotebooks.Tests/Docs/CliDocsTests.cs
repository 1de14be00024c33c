using RnnNotebooks.Notebook;

namespace RnnNotebooks.Tests.Docs;

/// <summary>docs/cli.md is what the command tree renders (<c>rnn docs cli</c>): a new option, a changed default or a reworded
/// description fails here until the page is regenerated.</summary>
public class CliDocsTests
{
    [Fact]
    public void CommittedCliPage_IsWhatTheCommandTreeRenders()
    {
        var page = Path.Combine(Course.FindRepoRoot(AppContext.BaseDirectory), "docs", "cli.md");

        var rendered = RnnNotebooks.Cli.DocsCommand.Render(RnnNotebooks.Cli.Cli.Tree());

        Assert.True(File.ReadAllText(page).ReplaceLineEndings("\n") == rendered,
            "docs/cli.md differs from the commands: run `dotnet run --project src/RnnNotebooks.Cli -- docs cli --out docs/cli.md`.");
    }

    [Fact]
    public void CliPage_KeepsTheHeadingsTheReadmeLinksTo()
    {
        var rendered = RnnNotebooks.Cli.DocsCommand.Render(RnnNotebooks.Cli.Cli.Tree());

        foreach (var command in new[] { "course", "data", "lm", "translate", "metrics", "asr", "caption", "bench", "doctor" })
            Assert.Contains($"\n## rnn {command}\n", rendered);
    }
}
