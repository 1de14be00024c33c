using RnnNotebooks.Platform;

namespace RnnNotebooks.Cli;

/// <summary>The <c>rnn</c> command: the course's pipelines at longer budgets, and the course runner.</summary>
static class Cli
{
    sealed record Command(string Name, string Usage, string Summary, Func<string[], int> Run);

    static readonly Command[] Commands =
    [
        new("course", CourseCommand.Usage,
            "run the lessons headless, as notebooks or as apps (all, or the named ones: 00, 01-vanilla-rnn, …) and write artifacts/results.md",
            CourseCommand.Run),
        new("notebooks", NotebooksCommand.Usage,
            "write every lesson's notebook and app (notebooks/NN-name.ipynb and .cs) from tools/notebook-sources; --check only compares",
            NotebooksCommand.Run),
        new("data", DataCommand.Usage, "list the datasets and where they are, check their SHA-256, or download them",
            DataCommand.Run),
        new("bench", BenchCommand.Usage,
            "measure training and generation speed, beside PyTorch on the same machine (writes docs/benchmarks.md)",
            BenchCommand.Run),
        new("asr", AsrCommand.Usage, "train, evaluate and run the lesson 05 speech recognizer (CTC over FSDD digit strings)", AsrCommand.Run),
        new("translate", TranslateCommand.Usage,
            "train an encoder-decoder translator (fra-eng, multi30k), evaluate BLEU on a split, or translate stdin",
            TranslateCommand.Run),
        new("caption", CaptionCommand.Usage,
            "extract ResNet-18 features of Flickr8k, train a Show-Attend-and-Tell captioner, evaluate BLEU, caption photos",
            CaptionCommand.Run),
        new("metrics", MetricsCommand.Usage, "corpus BLEU of a hypothesis file against reference files, as JSON",
            MetricsCommand.Run),
        new("lm", LmCommand.Usage, "train, score and sample the lesson 03 language models (char or word level)", LmCommand.Run),
        new("env", "rnn env", "show what the course sees: TorchSharp, threads, native fixes, mode, datasets",
            EnvCommand.Run),
    ];

    public static int Run(string[] args)
    {
        if (args.Length == 0 || args[0] is "-h" or "--help" or "help")
        {
            PrintHelp(Console.Out);
            return args.Length == 0 ? 2 : 0;
        }
        var command = Commands.FirstOrDefault(c => c.Name == args[0]);
        if (command is null)
        {
            Console.Error.WriteLine($"rnn: unknown command '{args[0]}'.");
            PrintHelp(Console.Error);
            return 2;
        }
        try
        {
            TorchRuntime.Prepare();
            TorchRuntime.AnnounceOnce(Console.Error);   // stderr: stdout may be JSON or transcripts for a pipe
            return command.Run(args[1..]);
        }
        catch (UsageException e)
        {
            Console.Error.WriteLine($"rnn {command.Name}: {e.Message}");
            Console.Error.WriteLine($"usage: {command.Usage}");
            return 2;
        }
        catch (Exception e) when (e is IOException or InvalidDataException or UnauthorizedAccessException or ArgumentException or InvalidOperationException)
        {
            Console.Error.WriteLine($"rnn {command.Name}: {MessageOf(e)}");
            return 1;
        }
    }

    /// <summary>The message without .NET's "(Parameter 'x')" suffix, and with the library's advice to call
    /// <c>Datasets.Ensure("x")</c> or <c>Datasets.Verify("x")</c> given as the commands that do the same: neither
    /// means anything to a command-line user.</summary>
    internal static string MessageOf(Exception e)
    {
        var message = e is ArgumentException { ParamName: { } p } a ? a.Message.Replace($" (Parameter '{p}')", "") : e.Message;
        message = System.Text.RegularExpressions.Regex.Replace(message, @"Datasets\.Ensure\(""([^""]+)""\)", "`rnn data fetch $1`");
        return System.Text.RegularExpressions.Regex.Replace(message, @"Datasets\.Verify\(""([^""]+)""\)", "`rnn data verify $1`");
    }

    static void PrintHelp(TextWriter w)
    {
        w.WriteLine("rnn — the RnnNotebooks course from the command line");
        w.WriteLine();
        foreach (var c in Commands) w.WriteLine($"  {c.Usage}\n      {c.Summary}");
    }
}
