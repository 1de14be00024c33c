using System.Net;

namespace RnnNotebooks.Notebook;

/// <summary>The verdict on one exercise: not answered yet, right, or wrong with a hint.</summary>
public sealed record ExerciseResult(string Name, bool? Correct, string Message)
{
    /// <summary>Plain-text form, e.g. <c>✓ Exercise 1: right.</c></summary>
    public override string ToString() => $"{(Correct switch { true => "✓", false => "✗", null => "…" })} {Name}: {Message}";
}

/// <summary>
/// Checks a learner's answer in a cell. A wrong or missing answer is shown, never thrown, so the
/// notebook still runs top to bottom.
/// </summary>
/// <remarks>Introduced in 00-getting-started.</remarks>
public static class Exercise
{
    /// <summary>Checks an answer against the expected value with <paramref name="isRight"/>; null means not answered yet.</summary>
    public static ExerciseResult Check<T>(string name, T? answer, Func<T, bool> isRight, string hint)
    {
        var result = answer is null
            ? new ExerciseResult(name, null, "not answered yet — fill in the answer above and run this cell again.")
            : isRight(answer)
                ? new ExerciseResult(name, true, "right.")
                : new ExerciseResult(name, false, "not quite. Hint: " + hint);
        Show(result);
        return result;
    }

    /// <summary>Checks a numeric answer to within <paramref name="tolerance"/> (absolute).</summary>
    public static ExerciseResult CheckNumber(string name, double? answer, double expected, double tolerance, string hint) =>
        Check(name, answer, a => Math.Abs(a!.Value - expected) <= tolerance, hint);

    static void Show(ExerciseResult r)
    {
        if (!Host.IsNotebook)
        {
            Console.WriteLine(r.ToString());
            return;
        }
        var colour = r.Correct switch { true => "#2a9d8f", false => "#e76f51", null => "#6c757d" };
        Html.Display($"<div style=\"border-left:4px solid {colour};padding:4px 10px\">{WebUtility.HtmlEncode(r.ToString())}</div>");
    }
}
