namespace RnnNotebooks;

/// <summary>
/// Quick mode (for CI and a first look) or full mode (what a learner runs), read from <c>RNN_QUICK</c>.
/// </summary>
/// <remarks>
/// Quick mode shrinks data and epochs so a notebook finishes in about two minutes on two cores; its
/// numbers show that the code runs, not what the model can do. Unset or <c>0</c> means full mode.
/// Introduced in 00-getting-started.
/// </remarks>
public static class CourseMode
{
    /// <summary>The environment variable that selects quick mode.</summary>
    public const string Variable = "RNN_QUICK";

    /// <summary>True when <c>RNN_QUICK</c> is <c>1</c>, <c>true</c> or <c>yes</c>.</summary>
    public static bool IsQuick => Parse(Environment.GetEnvironmentVariable(Variable));

    /// <summary><c>"quick"</c> or <c>"full"</c>.</summary>
    public static string Name => IsQuick ? "quick" : "full";

    /// <summary>The quick value in quick mode, the full value otherwise: <c>var epochs = CourseMode.Pick(2, 30);</c></summary>
    public static T Pick<T>(T quick, T full) => IsQuick ? quick : full;

    /// <summary>How a value of <c>RNN_QUICK</c> is read; anything unrecognised is an error, not a silent default.</summary>
    public static bool Parse(string? value) => value?.Trim().ToLowerInvariant() switch
    {
        null or "" or "0" or "false" or "no" => false,
        "1" or "true" or "yes" => true,
        var other => throw new ArgumentException(
            $"{Variable}={other}: expected 1 (quick mode) or 0 / unset (full mode).", Variable),
    };
}
