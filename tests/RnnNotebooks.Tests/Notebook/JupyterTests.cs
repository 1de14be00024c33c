using RnnNotebooks.Cli;
using RnnNotebooks.Notebook;

namespace RnnNotebooks.Tests.Notebook;

/// <summary>
/// The notebooks under Jupyter's own client and the .NET kernel users install (not only under dotnet-repl): they run
/// in quick mode with no error and no warning output.
/// </summary>
[Collection(NotebookCollection.Name)]
[Trait("Category", "Notebook")]
public sealed class JupyterTests : IDisposable
{
    static readonly string Root = Course.FindRepoRoot(AppContext.BaseDirectory);
    readonly string outDir = Directory.CreateTempSubdirectory("jupyter-run").FullName;

    public void Dispose() => Directory.Delete(outDir, recursive: true);

    void RunsClean(string name)
    {
        ExternalTools.RequireJupyter();
        var (code, output) = ExternalTools.Run("jupyter",
            ["nbconvert", "--to", "notebook", "--execute", "--ExecutePreprocessor.kernel_name=.net-csharp",
             "--ExecutePreprocessor.timeout=900", "--output-dir", outDir, name + ".ipynb"],
            TimeSpan.FromMinutes(20), Path.Combine(Root, "notebooks"), new Dictionary<string, string?> { [CourseMode.Variable] = "1" });

        var executed = Path.Combine(outDir, name + ".ipynb");
        Assert.True(code == 0 && File.Exists(executed), $"jupyter nbconvert exited with {code}:\n{output[^Math.Min(output.Length, 3000)..]}");
        var errors = NotebookErrors.Find(executed);
        Assert.True(errors.Count == 0, $"{name} under Jupyter:\n{string.Join("\n", errors)}");
    }

    [Fact]
    public void GettingStarted_RunsUnderJupyter_WithoutErrorsOrWarnings() => RunsClean("00-getting-started");

    [Fact]
    public void VanillaRnn_TrainsUnderJupyter_WithoutErrorsOrWarnings() => RunsClean("01-vanilla-rnn");
}
