using System.Diagnostics;

namespace RnnNotebooks.Tests.Notebook;

/// <summary>Programs some tests drive when the machine has them: headless Chromium, Jupyter with the .NET kernel.</summary>
static class ExternalTools
{
    /// <summary>The Chromium executable on PATH, or null.</summary>
    public static readonly string? Chromium = new[] { "chromium", "chromium-browser", "google-chrome" }.Select(OnPath).FirstOrDefault(p => p is not null);

    /// <summary>True when <c>jupyter nbconvert</c> runs and the <c>.net-csharp</c> kernel is registered.</summary>
    public static readonly Lazy<bool> JupyterWithDotnetKernel = new(() =>
        OnPath("jupyter") is not null
        && Run("jupyter", ["kernelspec", "list"], TimeSpan.FromSeconds(60)).Output.Contains(".net-csharp", StringComparison.Ordinal)
        && Run("jupyter", ["nbconvert", "--version"], TimeSpan.FromSeconds(60)).ExitCode == 0
        // The kernel is started as `dotnet interactive`: a kernel registered by a tool that is not on PATH dies at once.
        && Run("dotnet", ["interactive", "--version"], TimeSpan.FromSeconds(60)).ExitCode == 0);

    static string? OnPath(string name) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator)
            .Select(dir => Path.Combine(dir, name)).FirstOrDefault(File.Exists);

    /// <summary>Skips the calling test, saying why, where Chromium is not installed.</summary>
    public static void RequireChromium() =>
        Assert.SkipWhen(Chromium is null, "needs Chromium on PATH (Debian/Ubuntu: apt-get install chromium)");

    /// <summary>Skips the calling test, saying why, where Jupyter or the .NET kernel is not installed.</summary>
    public static void RequireJupyter() =>
        Assert.SkipUnless(JupyterWithDotnetKernel.Value,
            "needs jupyter-nbconvert and the .net-csharp kernel (apt-get install jupyter-nbconvert python3-nbclient; " +
            "dotnet tool install -g Microsoft.dotnet-interactive --version 1.0.712001 with ~/.dotnet/tools on PATH, so that " +
            "`dotnet interactive --version` runs; dotnet interactive jupyter install)");

    /// <summary>Runs a program to the end; its exit code (-1 after a timeout) and everything it printed. A null value in
    /// <paramref name="environment"/> removes that variable.</summary>
    public static (int ExitCode, string Output) Run(string program, IEnumerable<string> args, TimeSpan timeout,
        string? workingDirectory = null, IReadOnlyDictionary<string, string?>? environment = null)
    {
        var psi = new ProcessStartInfo(program)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = workingDirectory ?? Directory.GetCurrentDirectory(),
        };
        foreach (var a in args) psi.ArgumentList.Add(a);
        foreach (var (k, v) in environment ?? new Dictionary<string, string?>())
            if (v is null) psi.Environment.Remove(k);
            else psi.Environment[k] = v;
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(timeout))
        {
            p.Kill(entireProcessTree: true);
            p.WaitForExit();
            return (-1, stdout.Result + stderr.Result);
        }
        return (p.ExitCode, stdout.Result + stderr.Result);
    }
}
