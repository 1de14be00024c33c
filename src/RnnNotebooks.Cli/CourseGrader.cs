using System.CommandLine;
using System.Globalization;
using System.Text;
using RnnNotebooks.Cli.Lessons;
using RnnNotebooks.Notebook;

namespace RnnNotebooks.Cli;

/// <summary>What <c>rnn course --grade</c> should do.</summary>
/// <param name="RepoRoot">The course checkout whose library and lessons the submissions run against.</param>
/// <param name="SubmissionsDirectory">One folder per student, each holding that student's <c>NN-name.ipynb</c> files.</param>
/// <param name="CsvPath">Where the grades go (default <c>artifacts/grading/grades.csv</c>).</param>
/// <param name="Only">Lesson names or number prefixes to grade ("00", "01-vanilla-rnn"); empty grades every lesson handed in.</param>
/// <param name="Build">Build the library first.</param>
/// <param name="Timeout">Longest a single notebook may run.</param>
public sealed record GradeOptions(
    string RepoRoot,
    string SubmissionsDirectory,
    string? CsvPath = null,
    IReadOnlyList<string>? Only = null,
    bool Build = true,
    TimeSpan? Timeout = null);

/// <summary>One line of the grades: an exercise's verdict, or what went wrong with a whole notebook.</summary>
/// <param name="Student">The submission's folder name.</param>
/// <param name="Lesson">The lesson the notebook was matched to, e.g. <c>00-getting-started</c>.</param>
/// <param name="Exercise">The exercise as its check names it, e.g. <c>Exercise 1</c>.</param>
/// <param name="Verdict"><c>right</c>, <c>wrong</c>, <c>not-answered</c>; for <see cref="Exercise"/> <c>(notebook)</c>,
/// <c>failed</c> (a cell threw or the run timed out); for <c>(missing)</c>, <c>not-run</c> (checks that never ran).</param>
/// <param name="Detail">What the check said about a wrong answer, or the notebook's first error.</param>
public sealed record GradeRow(string Student, string Lesson, string Exercise, string Verdict, string? Detail = null);

/// <summary>A student's total over the lessons they handed in.</summary>
public sealed record StudentTotal(string Student, int Right, int Exercises, int Notebooks, int FailedNotebooks);

/// <summary>The grading: every row, each student's total, and where the CSV and the executed copies are.</summary>
public sealed record GradeReport(IReadOnlyList<GradeRow> Rows, IReadOnlyList<StudentTotal> Totals, string CsvPath, string ExecutedDirectory);

/// <summary>
/// Runs a folder of students' notebooks headless in quick mode, as the course runner runs the lessons, and reads
/// back the verdicts the exercise checks record (<see cref="Results.RecordExercise"/>).
/// </summary>
/// <remarks>
/// A submission runs from this checkout's <c>notebooks/</c> folder, as the student's copy did in theirs, so its
/// relative references (the library, <c>..</c> paths) resolve the same way. It is the students' code, run with the
/// teacher's rights.
/// </remarks>
public static class CourseGrader
{
    /// <summary>The column names of the grades CSV.</summary>
    public const string CsvHeader = "student,lesson,exercise,verdict,detail";

    /// <summary><c>--grade SUBMISSIONS_DIR</c> of <c>rnn course</c>.</summary>
    public static Option<string> GradeOption() =>
        CliOptions.Text("--grade",
            "run the students' notebooks in SUBMISSIONS_DIR/<student>/NN-name.ipynb in quick mode and write their exercise verdicts " +
            "as CSV to --out (default artifacts/grading/grades.csv)", helpName: "SUBMISSIONS_DIR");

    /// <summary><c>rnn course --grade</c>: checks the options that do not apply, grades, prints the totals.</summary>
    internal static int Run(string submissions, string? csv, IReadOnlyList<string> only, bool build, bool full, LessonHost host)
    {
        if (full) throw new UsageException("--grade runs in quick mode; leave out --full.");
        if (host != LessonHost.Notebook) throw new UsageException("--grade runs the students' notebooks; leave out --host app.");
        var report = Grade(new GradeOptions(Course.FindRepoRoot(), submissions, csv, only, build));
        foreach (var t in report.Totals)
            Console.WriteLine($"{t.Student}: {t.Right} of {Count(t.Exercises, "exercise")} right in {Count(t.Notebooks, "notebook")}" +
                              (t.FailedNotebooks > 0 ? $", {t.FailedNotebooks} of which failed to run" : ""));
        Console.Error.WriteLine($"grades: {report.CsvPath}; executed notebooks and logs: {report.ExecutedDirectory}");
        return 0;
    }

    /// <summary>Grades every submission and writes the CSV.</summary>
    /// <exception cref="UsageException">The folder is missing or holds no submissions.</exception>
    public static GradeReport Grade(GradeOptions options, Action<string>? log = null)
    {
        log ??= Console.Error.WriteLine;
        var root = Path.GetFullPath(options.RepoRoot);
        var submissions = FindSubmissions(root, options.SubmissionsDirectory, options.Only);
        var expected = LessonSource.LoadAll(root).ToDictionary(l => l.Name, l => l.Cells.Count(c => c.IsExercise));
        var executedRoot = Path.Combine(root, "artifacts", "grading");
        var csvPath = Path.GetFullPath(options.CsvPath ?? Path.Combine(executedRoot, "grades.csv"));

        CourseRunner.Exec(root, ["tool", "restore"], "restoring dotnet-repl (dotnet tool restore)", log);
        if (options.Build)
            CourseRunner.Exec(root, ["build", Path.Combine("src", "RnnNotebooks", "RnnNotebooks.csproj"), "-c", "Debug", "--nologo", "-v", "q"],
                "building the library", log);

        var rows = new List<GradeRow>();
        var totals = new List<StudentTotal>();
        var count = 0;
        var all = submissions.Sum(s => s.Notebooks.Count);
        foreach (var (student, notebooks) in submissions)
        {
            var outDir = Path.Combine(executedRoot, student);
            Directory.CreateDirectory(outDir);
            int right = 0, exercises = 0, failed = 0;
            foreach (var (lesson, file) in notebooks)
            {
                log($"[{++count}/{all}] {student}: {lesson} …");
                var run = CourseRunner.RunOne(file, outDir, quick: true, options.Timeout ?? TimeSpan.FromMinutes(10), log,
                    workingDirectory: Path.Combine(root, "notebooks"));
                foreach (var v in run.Exercises)
                    rows.Add(new(student, lesson, v.Exercise, VerdictName(v.Verdict), v.Hint));
                if (!run.Passed)
                {
                    failed++;
                    rows.Add(new(student, lesson, "(notebook)", "failed",
                        (run.Errors.FirstOrDefault() ?? "the run failed") + $" (executed copy: {run.ExecutedPath}, log: {run.LogPath})"));
                }
                var due = Math.Max(expected.GetValueOrDefault(lesson), run.Exercises.Count);
                if (run.Exercises.Count < due)
                    rows.Add(new(student, lesson, "(missing)", "not-run",
                        $"{due - run.Exercises.Count} of the lesson's {due} exercise checks did not run"));
                right += run.Exercises.Count(v => v.Verdict == Verdict.Right);
                exercises += due;
                log($"[{count}/{all}] {student}: {lesson} {(run.Passed ? "ran" : "FAILED")} in {run.WallTime.TotalSeconds:F0} s, " +
                    $"{run.Exercises.Count(v => v.Verdict == Verdict.Right)} of {due} exercises right");
            }
            totals.Add(new(student, right, exercises, notebooks.Count, failed));
        }

        Directory.CreateDirectory(Path.GetDirectoryName(csvPath)!);
        AtomicFile.WriteAllText(csvPath, ToCsv(rows, totals));
        return new GradeReport(rows, totals, csvPath, executedRoot);
    }

    /// <summary>The grades as CSV: a row per exercise verdict (and per failed notebook), then a total row per student
    /// (<c>lesson</c> "(all)", <c>exercise</c> "(total)", <c>verdict</c> "R of N right").</summary>
    public static string ToCsv(IReadOnlyList<GradeRow> rows, IReadOnlyList<StudentTotal> totals)
    {
        var sb = new StringBuilder(CsvHeader).Append('\n');
        foreach (var r in rows)
            sb.AppendJoin(',', new[] { r.Student, r.Lesson, r.Exercise, r.Verdict, r.Detail ?? "" }.Select(Field)).Append('\n');
        foreach (var t in totals)
        {
            var notebooks = string.Create(CultureInfo.InvariantCulture,
                $"{Count(t.Notebooks, "notebook")}{(t.FailedNotebooks > 0 ? $", {t.FailedNotebooks} failed to run" : "")}");
            sb.AppendJoin(',', new[] { t.Student, "(all)", "(total)", $"{t.Right} of {t.Exercises} right", notebooks }.Select(Field)).Append('\n');
        }
        return sb.ToString();
    }

    static string Count(int n, string thing) => string.Create(CultureInfo.InvariantCulture, $"{n} {thing}{(n == 1 ? "" : "s")}");

    static string VerdictName(Verdict v) => v switch
    {
        Verdict.Right => "right",
        Verdict.Wrong => "wrong",
        _ => "not-answered",
    };

    static string Field(string value) =>
        value.IndexOfAny([',', '"', '\n', '\r']) < 0 ? value : "\"" + value.Replace("\"", "\"\"") + "\"";

    /// <summary>Each student (a sub-folder, in name order) with the lessons they handed in, matched to the course's
    /// lessons by their number (<c>00-…</c>).</summary>
    static List<(string Student, List<(string Lesson, string File)> Notebooks)> FindSubmissions(
        string root, string directory, IReadOnlyList<string>? only)
    {
        const string Layout = "one folder per student holding their notebooks, e.g. SUBMISSIONS_DIR/alice/00-getting-started.ipynb";
        if (!Directory.Exists(directory))
            throw new UsageException($"--grade {directory}: no such folder; give the folder of submissions ({Layout}).");

        var lessons = CourseRunner.Discover(root, only).Select(Path.GetFileNameWithoutExtension).ToList();
        var found = new List<(string, List<(string, string)>)>();
        foreach (var folder in Directory.GetDirectories(directory).Order(StringComparer.Ordinal))
        {
            var notebooks = new List<(string, string)>();
            foreach (var lesson in lessons)
            {
                var files = Directory.GetFiles(folder, lesson![..3] + "*.ipynb").Order(StringComparer.Ordinal).ToList();
                // A student's exact file name wins over a renamed copy ("00-getting-started (1).ipynb").
                var exact = files.FirstOrDefault(f => Path.GetFileNameWithoutExtension(f) == lesson);
                if (exact is not null || files.Count > 0) notebooks.Add((lesson, exact ?? files[0]));
            }
            if (notebooks.Count > 0) found.Add((Path.GetFileName(folder), notebooks));
        }
        if (found.Count == 0)
        {
            var loose = Directory.GetFiles(directory, "*.ipynb").Length;
            throw new UsageException($"--grade {directory}: no submissions found; expected {Layout}" +
                (loose > 0 ? $" (found {Count(loose, "notebook")} directly in the folder: put each in its student's folder)." : "."));
        }
        return found;
    }
}
