using RnnNotebooks.Notebook;

namespace RnnNotebooks.Tests.Cli;

/// <summary>The command line stays a thin layer over the library's recipes (issue 32): parse, call, print.</summary>
public class CliLayoutTests
{
    [Fact]
    public void EveryCliSourceFile_IsAtMost300Lines()
    {
        var cli = Path.Combine(Course.FindRepoRoot(AppContext.BaseDirectory), "src", "RnnNotebooks.Cli");
        var longer = Directory.GetFiles(cli, "*.cs", SearchOption.AllDirectories)
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal))
            .Select(f => (File: Path.GetRelativePath(cli, f), Lines: File.ReadAllLines(f).Length))
            .Where(f => f.Lines > 300)
            .Select(f => $"{f.File}: {f.Lines} lines");
        Assert.True(!longer.Any(), "split these by concern (one file per subcommand group, helpers in their own type): " + string.Join("; ", longer));
    }
}
