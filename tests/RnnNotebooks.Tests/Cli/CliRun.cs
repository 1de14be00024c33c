namespace RnnNotebooks.Tests.Cli;

/// <summary>Runs <c>rnn</c> in-process through its entry point, capturing what it prints. Callers belong to the
/// ProcessState collection: the console is process-wide.</summary>
internal static class CliRun
{
    public static (int Code, string Out, string Err) Invoke(params string[] args) => WithInput(null, args);

    /// <summary><see cref="Invoke"/> with <paramref name="stdin"/> as the console's input (null: leave it).</summary>
    public static (int Code, string Out, string Err) WithInput(string? stdin, params string[] args)
    {
        var (stdout, stderr, input) = (Console.Out, Console.Error, Console.In);
        var (o, e) = (new StringWriter(), new StringWriter());
        Console.SetOut(o);
        Console.SetError(e);
        if (stdin is not null) Console.SetIn(new StringReader(stdin));
        try { return (RnnNotebooks.Cli.Cli.Run(args), o.ToString(), e.ToString()); }
        finally
        {
            Console.SetOut(stdout);
            Console.SetError(stderr);
            Console.SetIn(input);
        }
    }
}
