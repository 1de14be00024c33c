using System.Text.Json;

namespace RnnNotebooks.Notebook;

/// <summary>One headline number a notebook reports, e.g. <c>val_bpc = 1.52</c>.</summary>
public sealed record HeadlineResult(string Name, double Value, string? Unit = null);

/// <summary>An exercise check's verdict as recorded for the teacher: the exercise as the learner sees it, the verdict,
/// and for a wrong answer what the check said (what differs and the hint).</summary>
public sealed record ExerciseVerdict(string Exercise, Verdict Verdict, string? Hint = null);

/// <summary>What the course runner finds in a notebook's results file.</summary>
/// <param name="Results">The headline numbers, in order of first recording.</param>
/// <param name="Exercises">The latest verdict of each exercise, in order of first check.</param>
public sealed record ResultsFile(IReadOnlyList<HeadlineResult> Results, IReadOnlyList<ExerciseVerdict> Exercises);

/// <summary>
/// Headline results and exercise verdicts of the running notebook, collected by the course runner.
/// </summary>
/// <remarks>
/// The runner sets <c>RNN_RESULTS_FILE</c> for each notebook it executes; every <see cref="Record"/> and
/// <see cref="RecordExercise"/> rewrites that JSON file (atomically), so results survive even if a later cell
/// fails. Without the variable the results and verdicts are only kept in memory. Introduced in 00-getting-started.
/// </remarks>
public static class Results
{
    /// <summary>The environment variable naming the JSON file results are written to.</summary>
    public const string FileVariable = "RNN_RESULTS_FILE";

    static readonly object Gate = new();
    static readonly Dictionary<string, HeadlineResult> Recorded = new(StringComparer.Ordinal);
    static readonly Dictionary<string, ExerciseVerdict> Verdicts = new(StringComparer.Ordinal);

    /// <summary>Everything recorded so far in this process, in recording order of first appearance.</summary>
    public static IReadOnlyList<HeadlineResult> All
    {
        get { lock (Gate) return [.. Recorded.Values]; }
    }

    /// <summary>Records (or replaces) a headline result and returns it, so a cell can display it.</summary>
    public static HeadlineResult Record(string name, double value, string? unit = null)
    {
        if (string.IsNullOrWhiteSpace(name))
            throw new ArgumentException("A result needs a name, e.g. \"val_loss\".", nameof(name));
        if (!double.IsFinite(value))
            throw new ArgumentOutOfRangeException(nameof(value), value, $"Result '{name}' is not a finite number.");

        var result = new HeadlineResult(name, value, unit);
        lock (Gate)
        {
            Recorded[name] = result;
            WriteFile();
        }
        return result;
    }

    /// <summary>The latest verdict of each exercise checked so far in this process.</summary>
    public static IReadOnlyList<ExerciseVerdict> Exercises
    {
        get { lock (Gate) return [.. Verdicts.Values]; }
    }

    /// <summary>Records (or replaces, when the learner runs the check again) an exercise's verdict; the exercise checks
    /// call it, so a teacher's run of a student's notebook (<c>rnn course --grade</c>) can read the verdicts back.</summary>
    public static void RecordExercise(ExerciseVerdict verdict)
    {
        ArgumentNullException.ThrowIfNull(verdict);
        lock (Gate)
        {
            Verdicts[verdict.Exercise] = verdict;
            WriteFile();
        }
    }

    static void WriteFile()
    {
        if (Environment.GetEnvironmentVariable(FileVariable) is { Length: > 0 } path)
            AtomicFile.WriteAllText(path, JsonSerializer.Serialize(new ResultsFile([.. Recorded.Values], [.. Verdicts.Values]), Json.Options));
    }

    /// <summary>The headline results of a results file written by <see cref="Record"/>; an absent file means none.</summary>
    public static IReadOnlyList<HeadlineResult> ReadFile(string path) => Read(path).Results;

    /// <summary>Everything in a results file: headline results and exercise verdicts; an absent file holds neither.</summary>
    public static ResultsFile Read(string path)
    {
        if (!File.Exists(path)) return new ResultsFile([], []);
        try
        {
            var file = JsonSerializer.Deserialize<ResultsFile>(File.ReadAllText(path), Json.Options);
            return new ResultsFile(file?.Results ?? [], file?.Exercises ?? []);
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path}: not a results file written by Results.Record ({e.Message}).", e);
        }
    }

    /// <summary>Forgets the results and verdicts recorded in this process (tests, or re-running a notebook).</summary>
    public static void Clear()
    {
        lock (Gate)
        {
            Recorded.Clear();
            Verdicts.Clear();
        }
    }
}
