using System.CommandLine;
using RnnNotebooks.Notebook;

namespace RnnNotebooks.Cli;

/// <summary><c>rnn env</c>: what the course sees on this machine.</summary>
static class EnvCommand
{
    public static Command Build()
    {
        var command = new Command("env", "Show what the course sees: TorchSharp, threads, native fixes, mode, datasets.");
        command.SetAction(_ => Run());
        return command;
    }

    static int Run()
    {
        var session = Course.Setup();
        Console.WriteLine($"mode        {session.Mode} ({CourseMode.Variable}={Environment.GetEnvironmentVariable(CourseMode.Variable) ?? "unset"})");
        Console.WriteLine($"torch       {session.TorchSharp}, {session.Threads} thread(s) on {Environment.ProcessorCount} cores, device {session.Device}");
        Console.WriteLine($"libstdc++   {session.Native.SystemLibStdCxx ?? "n/a"} (GLIBCXX_3.4.32: {(session.Native.SystemHasGlibcxx332 ? "yes" : "no, TorchSharp's native library loaded from a patched copy")})");
        foreach (var p in session.Native.Patched) Console.WriteLine($"patched     {p}");
        Console.WriteLine($"MKL         {session.Native.MklDispatch}");
        return 0;
    }
}
