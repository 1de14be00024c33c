using System.Text.Json;

namespace RnnNotebooks.Notebook;

/// <summary>One headline number a notebook reports, e.g. <c>val_bpc = 1.52</c>.</summary>
public sealed record HeadlineResult(string Name, double Value, string? Unit = null);

/// <summary>
/// Headline results of the running notebook, collected by the course runner.
/// </summary>
/// <remarks>
/// The runner sets <c>RNN_RESULTS_FILE</c> for each notebook it executes; every <see cref="Record"/> rewrites
/// that JSON file (atomically), so results survive even if a later cell fails. Without the variable the
/// results are only kept in memory. Introduced in 00-getting-started.
/// </remarks>
public static class Results
{
    /// <summary>The environment variable naming the JSON file results are written to.</summary>
    public const string FileVariable = "RNN_RESULTS_FILE";

    static readonly object Gate = new();
    static readonly Dictionary<string, HeadlineResult> Recorded = new(StringComparer.Ordinal);

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
            if (Environment.GetEnvironmentVariable(FileVariable) is { Length: > 0 } path)
                AtomicFile.WriteAllText(path, JsonSerializer.Serialize(Recorded.Values, Json.Options));
        }
        return result;
    }

    /// <summary>Reads a results file written by <see cref="Record"/>; an absent file means no results.</summary>
    public static IReadOnlyList<HeadlineResult> ReadFile(string path)
    {
        if (!File.Exists(path)) return [];
        try
        {
            return JsonSerializer.Deserialize<List<HeadlineResult>>(File.ReadAllText(path), Json.Options) ?? [];
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path}: not a results file written by Results.Record ({e.Message}).", e);
        }
    }

    /// <summary>Forgets the results recorded in this process (tests, or re-running a notebook).</summary>
    public static void Clear()
    {
        lock (Gate) Recorded.Clear();
    }
}
