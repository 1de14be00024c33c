namespace RnnNotebooks.Cli.Lessons;

/// <summary>What a cell of a lesson source holds.</summary>
public enum CellKind
{
    /// <summary>Prose (Markdown).</summary>
    Markdown,
    /// <summary>C# that runs in the notebook and in the app.</summary>
    Code,
    /// <summary>The shared setup cell (<c>tools/setup-cell.csx</c>), the same in every lesson.</summary>
    Setup,
}

/// <summary>One cell of a lesson, its text without the trailing blank lines.</summary>
public sealed record LessonCell(CellKind Kind, string Text);

/// <summary>
/// A lesson's single source, <c>tools/notebook-sources/NN-name.txt</c>: cells, each opened by a line
/// <c>%% md</c>, <c>%% code</c> or <c>%% setup</c>. From it <see cref="NotebookWriter"/> writes the notebook and
/// <see cref="AppWriter"/> the file-based app, so the two cannot drift.
/// </summary>
public sealed record LessonSource(string Name, IReadOnlyList<LessonCell> Cells)
{
    /// <summary>The folder of the sources, relative to the repository root.</summary>
    public static readonly string SourceFolder = Path.Combine("tools", "notebook-sources");

    /// <summary>The shared setup cell, relative to the repository root.</summary>
    public static readonly string SetupCellPath = Path.Combine("tools", "setup-cell.csx");

    /// <summary>Parses a source; <paramref name="path"/> names it in errors.</summary>
    public static LessonSource Parse(string name, string text, string path)
    {
        var cells = new List<LessonCell>();
        CellKind? kind = null;
        var lines = new List<string>();
        var lineNumber = 0;
        foreach (var line in text.ReplaceLineEndings("\n").Split('\n'))
        {
            lineNumber++;
            if (line.StartsWith("%% ", StringComparison.Ordinal))
            {
                Flush();
                kind = line[3..].Trim() switch
                {
                    "md" => CellKind.Markdown,
                    "code" => CellKind.Code,
                    "setup" => CellKind.Setup,
                    var other => throw new InvalidDataException(
                        $"{path}:{lineNumber}: unknown cell kind '%% {other}'; use '%% md', '%% code' or '%% setup'."),
                };
                lines.Clear();
            }
            else if (kind is null && line.Trim().Length > 0)
            {
                throw new InvalidDataException($"{path}:{lineNumber}: text before the first cell; start the file with '%% md'.");
            }
            else
            {
                lines.Add(line);
            }
        }
        Flush();
        if (!cells.Any(c => c.Kind == CellKind.Setup))
            throw new InvalidDataException($"{path}: no '%% setup' cell; every lesson opens with the shared setup cell.");
        return new LessonSource(name, cells);

        void Flush()
        {
            if (kind is { } k) cells.Add(new LessonCell(k, string.Join("\n", lines).Trim('\n')));
        }
    }

    /// <summary>Every lesson source under <paramref name="repoRoot"/>, in course order.</summary>
    public static IReadOnlyList<LessonSource> LoadAll(string repoRoot)
    {
        var folder = Path.Combine(repoRoot, SourceFolder);
        if (!Directory.Exists(folder)) throw new DirectoryNotFoundException($"No lesson sources: {folder} does not exist.");
        return Directory.GetFiles(folder, "*.txt").Order(StringComparer.Ordinal)
            .Select(p => Parse(Path.GetFileNameWithoutExtension(p), File.ReadAllText(p), Path.GetRelativePath(repoRoot, p)))
            .ToList();
    }
}

/// <summary>A generated file: where it goes (relative to the repository root) and what it holds.</summary>
public sealed record GeneratedFile(string RelativePath, string Content);

/// <summary>Writes every lesson's notebook and app from its source, or checks that the committed ones match.</summary>
public static class LessonBuilder
{
    /// <summary>The outputs of every source: <c>notebooks/NN-name.ipynb</c> and <c>notebooks/NN-name.cs</c>.</summary>
    public static IReadOnlyList<GeneratedFile> Generate(string repoRoot)
    {
        var setup = File.ReadAllText(Path.Combine(repoRoot, LessonSource.SetupCellPath)).ReplaceLineEndings("\n").Trim('\n');
        var files = new List<GeneratedFile>();
        foreach (var lesson in LessonSource.LoadAll(repoRoot))
        {
            files.Add(new(Path.Combine("notebooks", lesson.Name + ".ipynb"), NotebookWriter.Write(lesson, setup)));
            files.Add(new(Path.Combine("notebooks", lesson.Name + ".cs"), AppWriter.Write(lesson, setup)));
        }
        return files;
    }

    /// <summary>The generated files whose committed copy is missing or differs.</summary>
    public static IReadOnlyList<GeneratedFile> Stale(string repoRoot) =>
        Generate(repoRoot).Where(f =>
        {
            var path = Path.Combine(repoRoot, f.RelativePath);
            return !File.Exists(path) || File.ReadAllText(path).ReplaceLineEndings("\n") != f.Content;
        }).ToList();
}
