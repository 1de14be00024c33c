using System.Net;
using System.Text.Json.Serialization;

namespace RnnNotebooks.Notebook;

/// <summary>How an exercise check judged the learner's answer.</summary>
public enum Verdict
{
    /// <summary>The answer is still the stub (or null).</summary>
    [JsonStringEnumMemberName("not-answered")] NotAnswered,
    /// <summary>The check accepts the answer.</summary>
    [JsonStringEnumMemberName("right")] Right,
    /// <summary>The check rejects the answer (or the learner's code threw).</summary>
    [JsonStringEnumMemberName("wrong")] Wrong,
}

/// <summary>The verdict on one exercise: not answered yet, right, or wrong with a hint.</summary>
public sealed record ExerciseResult(string Name, bool? Correct, string Message)
{
    /// <summary><see cref="Correct"/> as a <see cref="Notebook.Verdict"/>.</summary>
    public Verdict Verdict => Correct switch { true => Verdict.Right, false => Verdict.Wrong, null => Verdict.NotAnswered };

    /// <summary>Plain-text form, e.g. <c>✓ Exercise 1: right.</c></summary>
    public override string ToString() => $"{(Correct switch { true => "✓", false => "✗", null => "…" })} {Name}: {Message}";
}

/// <summary>
/// Checks a learner's answer in a cell. A wrong or missing answer is shown, never thrown, so the
/// notebook still runs top to bottom. Every verdict is also recorded (<see cref="Results.RecordExercise"/>), which
/// is how <c>rnn course --grade</c> marks a student's notebook.
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
        Report(result);
        return result;
    }

    /// <summary>
    /// Checks code the learner writes: runs <paramref name="answer"/> (which calls the learner's function) and judges
    /// its result with <paramref name="isRight"/>. A function still throwing <see cref="NotImplementedException"/>
    /// (the unanswered <c>// TODO:</c> stub) is "not answered yet"; any other exception is a wrong answer whose
    /// message is shown, so the notebook still runs top to bottom.
    /// </summary>
    /// <param name="name">The exercise, as the learner sees it.</param>
    /// <param name="answer">Calls the learner's code and returns its result.</param>
    /// <param name="isRight">Null when the result is right, otherwise what is wrong with it (shown to the learner).</param>
    /// <param name="hint">Shown with a wrong answer.</param>
    public static ExerciseResult CheckCode<T>(string name, Func<T> answer, Func<T, string?> isRight, string hint)
    {
        ExerciseResult result;
        try
        {
            var value = answer();
            var problem = isRight(value);
            result = problem is null
                ? new ExerciseResult(name, true, "right.")
                : new ExerciseResult(name, false, $"{problem} Hint: {hint}");
        }
        catch (NotImplementedException)
        {
            result = new ExerciseResult(name, null, "not answered yet — replace the TODO above with your code and run both cells again.");
        }
        catch (Exception e)
        {
            result = new ExerciseResult(name, false, $"your code threw {e.GetType().Name}: {e.Message} Hint: {hint}");
        }
        Report(result);
        return result;
    }

    /// <summary>
    /// <see cref="CheckCode{T}"/> for tensors: right when the learner's tensor has <paramref name="expected"/>'s shape
    /// and every element is within <paramref name="tolerance"/> of it (absolute).
    /// </summary>
    public static ExerciseResult CheckTensor(string name, Func<TorchSharp.torch.Tensor> answer, TorchSharp.torch.Tensor expected,
        double tolerance, string hint) =>
        CheckCode(name, answer, got =>
        {
            if (got is null) return "your function returned null.";
            if (!got.shape.SequenceEqual(expected.shape))
                return $"the shape is [{string.Join(", ", got.shape)}], expected [{string.Join(", ", expected.shape)}].";
            using var scope = TorchSharp.torch.NewDisposeScope();
            var diff = got.detach().to_type(TorchSharp.torch.ScalarType.Float64)
                .sub(expected.detach().to_type(TorchSharp.torch.ScalarType.Float64)).abs().max().item<double>();
            return diff <= tolerance ? null : $"the largest difference from the library's answer is {diff:G3} (allowed {tolerance:G3}).";
        }, hint);

    /// <summary>Checks a numeric answer to within <paramref name="tolerance"/> (absolute).</summary>
    public static ExerciseResult CheckNumber(string name, double? answer, double expected, double tolerance, string hint) =>
        Check(name, answer, a => Math.Abs(a!.Value - expected) <= tolerance, hint);

    static void Report(ExerciseResult r)
    {
        Results.RecordExercise(new ExerciseVerdict(r.Name, r.Verdict, r.Correct == false ? r.Message : null));
        if (!Host.IsNotebook)
        {
            Console.WriteLine(r.ToString());
            return;
        }
        var colour = r.Correct switch { true => "#2a9d8f", false => "#e76f51", null => "#6c757d" };
        Html.Display($"<div style=\"border-left:4px solid {colour};padding:4px 10px\">{WebUtility.HtmlEncode(r.ToString())}</div>");
    }
}
