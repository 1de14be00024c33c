namespace RnnNotebooks.Cli.Doctor;

/// <summary>How one check of <c>rnn doctor</c> went.</summary>
public enum CheckStatus
{
    /// <summary>Nothing to do.</summary>
    Ok,
    /// <summary>The course runs, but something will be slower, missing or different from what it is tested with.</summary>
    Warn,
    /// <summary>The course cannot run until this is fixed.</summary>
    Fail,
    /// <summary>Not tried, because a check it depends on failed or the user asked not to.</summary>
    Skip,
}

/// <summary>One line of <c>rnn doctor</c>: what was checked, what was found and, unless all is well, what to do.</summary>
/// <param name="Name">A short name, e.g. <c>platform</c> or <c>dataset fsdd</c>.</param>
/// <param name="Status">The verdict.</param>
/// <param name="Message">What was found, as a sentence.</param>
/// <param name="Fix">What to do about it, or null.</param>
public sealed record Check(string Name, CheckStatus Status, string Message, string? Fix = null)
{
    public static Check Ok(string name, string message) => new(name, CheckStatus.Ok, message);

    public static Check Warn(string name, string message, string fix) => new(name, CheckStatus.Warn, message, fix);

    public static Check Fail(string name, string message, string fix) => new(name, CheckStatus.Fail, message, fix);

    public static Check Skip(string name, string why) => new(name, CheckStatus.Skip, why);

    /// <summary>The line as printed: status, name, what was found, and the fix.</summary>
    public override string ToString()
    {
        var status = Status switch
        {
            CheckStatus.Ok => "ok",
            CheckStatus.Warn => "warn",
            CheckStatus.Fail => "FAIL",
            _ => "skip",
        };
        return $"{status,-5} {Name,-24} {Message}{(Fix is null ? "" : " Fix: " + Fix)}";
    }
}
