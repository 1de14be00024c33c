using System.Reflection.Metadata;
using RnnNotebooks.Notebook;

namespace RnnNotebooks.Tests.Notebook;

/// <summary>
/// What a debugger needs to stop in a lesson app (F5 in VS Code, see docs/authoring.md): the app's symbols map to
/// the lesson file and the library's to its sources, with sequence points where a learner sets breakpoints.
/// </summary>
[Collection(NotebookCollection.Name)]
[Trait("Category", "Notebook")]
public class DebugSymbolsTests
{
    static readonly string Root = Course.FindRepoRoot(AppContext.BaseDirectory);

    /// <summary>Source file → lines that have a sequence point (a breakpoint there binds).</summary>
    static Dictionary<string, HashSet<int>> Lines(string pdb)
    {
        using var provider = MetadataReaderProvider.FromPortablePdbStream(File.OpenRead(pdb));
        var reader = provider.GetMetadataReader();
        var lines = new Dictionary<string, HashSet<int>>(StringComparer.Ordinal);
        foreach (var handle in reader.MethodDebugInformation)
        {
            foreach (var point in reader.GetMethodDebugInformation(handle).GetSequencePoints())
            {
                if (point.IsHidden) continue;
                var document = reader.GetString(reader.GetDocument(point.Document).Name);
                if (!lines.TryGetValue(document, out var set)) lines[document] = set = [];
                set.Add(point.StartLine);
            }
        }
        return lines;
    }

    static int LineOf(string file, string text) =>
        Array.FindIndex(File.ReadAllLines(file), l => l.Contains(text, StringComparison.Ordinal)) + 1;

    [Fact]
    public void LessonApp_SymbolsMapToTheLessonFile_AndToTheLibrarySources()
    {
        var lesson = Path.Combine(Root, "notebooks", "01-vanilla-rnn.cs");
        var (code, output) = ExternalTools.Run(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet",
            ["build", lesson, "--nologo", "-v", "q"], TimeSpan.FromMinutes(10), Root);
        Assert.True(code == 0, output);
        var bin = Path.Combine(Root, "artifacts", "bin", "debug");

        var app = Lines(Path.Combine(bin, "01-vanilla-rnn.pdb"));
        var cellLine = LineOf(lesson, "var grads = small.Backward(");
        Assert.True(app.TryGetValue(lesson, out var appLines), $"the app's symbols name {string.Join(", ", app.Keys)}, not {lesson}");
        Assert.Contains(cellLine, appLines);

        var library = Lines(Path.Combine(bin, "RnnNotebooks.pdb"));
        var source = Path.Combine(Root, "src", "RnnNotebooks", "Models", "ScratchRnn.cs");
        var declaration = LineOf(source, "public ScratchRnnGradients Backward(");
        Assert.True(library.TryGetValue(source, out var libraryLines), $"the library's symbols do not name {source}");
        Assert.Contains(libraryLines, l => l > declaration && l < declaration + 15);
    }

    [Fact]
    public void LldbBreakpointScript_LinesStillPointAtTheStatementsItIsAbout()
    {
        // tools/debug/breakpoints.lldb names source lines; when a lesson or the library moves them, move the script.
        var script = File.ReadAllText(Path.Combine(Root, "tools", "debug", "breakpoints.lldb"));
        var lesson = Path.Combine(Root, "notebooks", "01-vanilla-rnn.cs");
        var library = Path.Combine(Root, "src", "RnnNotebooks", "Models", "ScratchRnn.cs");
        var lessonLine = LineOf(lesson, "var dH = fromOutput[t] + dNext;");
        var libraryLine = LineOf(library, "dHidden[t] = fromOutput[t].add(dNext, Scalars.One);");

        Assert.True(lessonLine > 0 && libraryLine > 0, "the statements the script stops at are gone; choose new ones");
        Assert.Contains($"bpmd 01-vanilla-rnn.cs:{lessonLine}\n", script.Replace("\r", ""));
        Assert.Contains($"bpmd ScratchRnn.cs:{libraryLine}\n", script.Replace("\r", ""));
        Assert.DoesNotMatch(@"bpmd 01-vanilla-rnn\.cs:(?!" + lessonLine + @"\b)\d+", script);
        Assert.DoesNotMatch(@"bpmd ScratchRnn\.cs:(?!" + libraryLine + @"\b)\d+", script);
    }
}
