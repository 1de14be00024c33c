using RnnNotebooks.Notebook;

namespace RnnNotebooks.Cli;

static class EnvCommand
{
    public static int Run(string[] argv)
    {
        new CliArgs(argv, new HashSet<string>(), new HashSet<string>()).EnsureAllUsed();
        var session = Course.Setup();
        Console.WriteLine($"mode        {session.Mode} ({CourseMode.Variable}={Environment.GetEnvironmentVariable(CourseMode.Variable) ?? "unset"})");
        Console.WriteLine($"torch       {session.TorchSharp}, {session.Threads} thread(s) on {Environment.ProcessorCount} cores, device {session.Device}");
        Console.WriteLine($"libstdc++   {session.Native.SystemLibStdCxx ?? "n/a"} (GLIBCXX_3.4.32: {(session.Native.SystemHasGlibcxx332 ? "yes" : "no, TorchSharp's native library loaded from a patched copy")})");
        foreach (var p in session.Native.Patched) Console.WriteLine($"patched     {p}");
        Console.WriteLine($"MKL         {session.Native.MklDispatch}");
        return 0;
    }
}
