namespace RnnNotebooks.Tests.Cli;

/// <summary>Runs <c>rnn</c> in-process through its entry point, capturing what it prints. Callers belong to the
/// ProcessState collection: the console is process-wide.</summary>
internal static class CliRun
{
    public static (int Code, string Out, string Err) Invoke(params string[] args)
    {
        var (stdout, stderr) = (Console.Out, Console.Error);
        var (o, e) = (new StringWriter(), new StringWriter());
        Console.SetOut(o);
        Console.SetError(e);
        try { return (RnnNotebooks.Cli.Cli.Run(args), o.ToString(), e.ToString()); }
        finally
        {
            Console.SetOut(stdout);
            Console.SetError(stderr);
        }
    }
}
