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

/// <summary>
/// One cell of a lesson, its text without the trailing blank lines. An exercise's code cell (a stub marked
/// <c>// TODO:</c>) carries its <paramref name="Solution"/>: the whole cell with the TODO parts answered.
/// </summary>
public sealed record LessonCell(CellKind Kind, string Text, string? Solution = null)
{
    /// <summary>True for a code cell whose stub the student completes.</summary>
    public bool IsExercise => Kind == CellKind.Code && Text.Contains(LessonSource.TodoMarker, StringComparison.Ordinal);
}

/// <summary>
/// A lesson's single source, <c>tools/notebook-sources/NN-name.txt</c>: cells, each opened by a line
/// <c>%% md</c>, <c>%% code</c>, <c>%% setup</c> or <c>%% solution</c>. From it <see cref="NotebookWriter"/> writes the
/// notebook and <see cref="AppWriter"/> the file-based app, so the two cannot drift. A <c>%% solution</c> cell
/// follows the <c>// TODO:</c> code cell it answers: the student edition leaves it out, the instructor edition
/// (<see cref="WithSolutions"/>) puts it in place of that cell.
/// </summary>
public sealed record LessonSource(string Name, IReadOnlyList<LessonCell> Cells)
{
    /// <summary>What marks the part of a code cell the student writes.</summary>
    public const string TodoMarker = "// TODO:";

    /// <summary>The exercise cells without a <c>%% solution</c> twin, each as "path:line: what to do".</summary>
    public IReadOnlyList<string> MissingSolutions { get; init; } = [];

    /// <summary>The instructor edition: every exercise cell replaced by its solution.</summary>
    public LessonSource WithSolutions() =>
        this with { Cells = [.. Cells.Select(c => c.Solution is { } s ? new LessonCell(c.Kind, s) : c)] };

    /// <summary>The folder of the sources, relative to the repository root.</summary>
    public static readonly string SourceFolder = Path.Combine("tools", "notebook-sources");

    /// <summary>The shared setup cell, relative to the repository root.</summary>
    public static readonly string SetupCellPath = Path.Combine("tools", "setup-cell.csx");

    /// <summary>Parses a source; <paramref name="path"/> names it in errors.</summary>
    public static LessonSource Parse(string name, string text, string path)
    {
        var cells = new List<LessonCell>();
        var cellLines = new List<int>();
        CellKind? kind = null;
        var solution = false;
        var solutionLine = 0;
        var lines = new List<string>();
        var lineNumber = 0;
        foreach (var line in text.ReplaceLineEndings("\n").Split('\n'))
        {
            lineNumber++;
            if (line.StartsWith("%% ", StringComparison.Ordinal))
            {
                Flush();
                solution = line[3..].Trim() == "solution";
                solutionLine = lineNumber;
                if (solution && (cells.Count == 0 || !cells[^1].IsExercise || cells[^1].Solution is not null))
                    throw new InvalidDataException(
                        $"{path}:{lineNumber}: a '%% solution' cell must directly follow the '%% code' cell it answers, " +
                        $"one with a '{TodoMarker}' stub; move it there, or mark the student's part of that cell '{TodoMarker}'.");
                kind = solution ? CellKind.Code : line[3..].Trim() switch
                {
                    "md" => CellKind.Markdown,
                    "code" => CellKind.Code,
                    "setup" => CellKind.Setup,
                    var other => throw new InvalidDataException(
                        $"{path}:{lineNumber}: unknown cell kind '%% {other}'; use '%% md', '%% code', '%% setup' or '%% solution'."),
                };
                if (!solution) cellLines.Add(lineNumber);
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
        var missing = cells.Select((c, i) => (c, i)).Where(x => x.c.IsExercise && x.c.Solution is null)
            .Select(x => $"{path}:{cellLines[x.i]}: this exercise cell has a '{TodoMarker}' stub but no '%% solution' cell after it; " +
                         "add one holding the whole cell with the TODO parts answered.")
            .ToList();
        return new LessonSource(name, cells) { MissingSolutions = missing };

        void Flush()
        {
            if (kind is not { } k) return;
            var body = string.Join("\n", lines).Trim('\n');
            if (!solution) { cells.Add(new LessonCell(k, body)); return; }
            if (body.Contains(TodoMarker, StringComparison.Ordinal))
                throw new InvalidDataException(
                    $"{path}:{solutionLine}: this '%% solution' cell still has a '{TodoMarker}'; a solution answers every TODO of its cell.");
            cells[^1] = cells[^1] with { Solution = body };
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
    /// <summary>The student edition of every source: <c>notebooks/NN-name.ipynb</c> and <c>notebooks/NN-name.cs</c>.</summary>
    public static IReadOnlyList<GeneratedFile> Generate(string repoRoot)
    {
        var setup = ReadSetupCell(repoRoot);
        var files = new List<GeneratedFile>();
        foreach (var lesson in LessonSource.LoadAll(repoRoot))
        {
            files.Add(new(Path.Combine("notebooks", lesson.Name + ".ipynb"), NotebookWriter.Write(lesson, setup)));
            files.Add(new(Path.Combine("notebooks", lesson.Name + ".cs"), AppWriter.Write(lesson, setup)));
        }
        return files;
    }

    /// <summary>
    /// The instructor edition, with every exercise's solution in place of its stub, to be written into
    /// <paramref name="outDir"/> (the file names are relative to it). The student edition reaches the library by
    /// paths relative to <c>notebooks/</c>; these lead from <paramref name="outDir"/> instead, so the edition runs
    /// from where it is written. Throws, naming every stub, when an exercise has no solution.
    /// </summary>
    public static IReadOnlyList<GeneratedFile> GenerateInstructor(string repoRoot, string outDir)
    {
        var lessons = LessonSource.LoadAll(repoRoot);
        var missing = lessons.SelectMany(l => l.MissingSolutions).ToList();
        if (missing.Count > 0)
            throw new InvalidDataException("The instructor edition would lack solutions:\n" + string.Join("\n", missing));

        var toRoot = Path.GetRelativePath(Path.GetFullPath(outDir), Path.GetFullPath(repoRoot)).Replace('\\', '/');
        var setup = string.Join("\n", ReadSetupCell(repoRoot).Split('\n')
            .Select(l => l.StartsWith("#r \"../", StringComparison.Ordinal) ? $"#r \"{toRoot}/{l[7..]}" : l));
        var files = new List<GeneratedFile>();
        foreach (var lesson in lessons.Select(l => l.WithSolutions()))
        {
            files.Add(new(lesson.Name + ".ipynb", NotebookWriter.Write(lesson, setup)));
            files.Add(new(lesson.Name + ".cs", AppWriter.Write(lesson, setup, instructorRoot: toRoot)));
        }
        return files;
    }

    static string ReadSetupCell(string repoRoot) =>
        File.ReadAllText(Path.Combine(repoRoot, LessonSource.SetupCellPath)).ReplaceLineEndings("\n").Trim('\n');

    /// <summary>The generated files whose committed copy is missing or differs.</summary>
    public static IReadOnlyList<GeneratedFile> Stale(string repoRoot) =>
        Generate(repoRoot).Where(f =>
        {
            var path = Path.Combine(repoRoot, f.RelativePath);
            return !File.Exists(path) || File.ReadAllText(path).ReplaceLineEndings("\n") != f.Content;
        }).ToList();
}
