using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using RnnNotebooks.Notebook;

namespace RnnNotebooks.Cli;

/// <summary>
/// Executes the course's lessons headless, one process per lesson — the notebooks with dotnet-repl (one kernel
/// each) or the file-based apps with <c>dotnet run</c> — and reports status, wall time and headline results of each.
/// </summary>
public static class CourseRunner
{
    /// <summary>The folder with <c>RnnNotebooks.sln</c>, found by walking up from <paramref name="start"/>.</summary>
    public static string FindRepoRoot(string? start = null) => Course.FindRepoRoot(start);

    /// <summary>The lessons (<c>notebooks/NN-name.ipynb</c>, or <c>.cs</c> for the apps), in course order.</summary>
    public static IReadOnlyList<string> Discover(string repoRoot, IReadOnlyList<string>? only = null, LessonHost host = LessonHost.Notebook)
    {
        var dir = Path.Combine(repoRoot, "notebooks");
        var all = Directory.Exists(dir)
            ? Directory.GetFiles(dir, host == LessonHost.App ? "*.cs" : "*.ipynb")
                .Where(p => IsLessonName(Path.GetFileNameWithoutExtension(p)))
                .Order(StringComparer.Ordinal).ToList()
            : [];
        if (only is null || only.Count == 0) return all;

        var picked = new List<string>();
        foreach (var want in only)
        {
            var key = Path.GetFileNameWithoutExtension(want);
            var match = all.Where(p => Path.GetFileNameWithoutExtension(p) == key
                || Path.GetFileNameWithoutExtension(p).StartsWith(key + "-", StringComparison.Ordinal)).ToList();
            if (match.Count != 1)
                throw new ArgumentException(
                    $"'{want}' matches {match.Count} notebooks; expected one of: " +
                    string.Join(", ", all.Select(Path.GetFileNameWithoutExtension)), nameof(only));
            picked.Add(match[0]);
        }
        return picked.Distinct().ToList();
    }

    static bool IsLessonName(string name) =>
        name.Length > 3 && char.IsAsciiDigit(name[0]) && char.IsAsciiDigit(name[1]) && name[2] == '-';

    /// <summary>Runs the notebooks and writes <c>results.md</c> and <c>results.json</c>.</summary>
    /// <param name="options">What to run.</param>
    /// <param name="log">Progress lines (default: standard error).</param>
    public static CourseReport Run(CourseRunOptions options, Action<string>? log = null)
    {
        log ??= Console.Error.WriteLine;
        var root = Path.GetFullPath(options.RepoRoot);
        var outDir = Path.GetFullPath(options.OutputDirectory ?? Path.Combine(root, "artifacts", "notebooks"));
        Directory.CreateDirectory(outDir);
        var notebooks = Discover(root, options.Only, options.Host);
        var extension = options.Host == LessonHost.App ? ".cs" : ".ipynb";
        if (notebooks.Count == 0)
            throw new FileNotFoundException($"No lessons named NN-name{extension} in {Path.Combine(root, "notebooks")}.");
        if (options.PrepareDirectory is not null) notebooks = ToPrepare(notebooks, options, log);
        var environment = ChildEnvironment(options);

        var started = DateTimeOffset.Now;
        var clock = Stopwatch.StartNew();
        if (options.Host == LessonHost.Notebook)
            Exec(root, ["tool", "restore"], "restoring dotnet-repl (dotnet tool restore)", log);
        if (options.Build)
            Exec(root, ["build", Path.Combine("src", "RnnNotebooks", "RnnNotebooks.csproj"), "-c", "Debug", "--nologo", "-v", "q"],
                "building the library", log);

        var runs = new List<NotebookRun>();
        for (var i = 0; i < notebooks.Count; i++)
        {
            var name = Path.GetFileNameWithoutExtension(notebooks[i]);
            log($"[{i + 1}/{notebooks.Count}] {name} ({(options.Quick ? "quick" : "full")} mode) …");
            var timeout = options.Timeout ?? TimeSpan.FromMinutes(options.Quick ? 10 : 60);
            var run = options.Host == LessonHost.App
                ? RunApp(notebooks[i], outDir, options.Quick, timeout, environment, log)
                : RunOne(notebooks[i], outDir, options.Quick, timeout, log, environment: environment);
            runs.Add(run);
            log($"[{i + 1}/{notebooks.Count}] {name} {(run.Passed ? "passed" : "FAILED")} in {run.WallTime.TotalSeconds:F1} s" +
                (run.Results.Count > 0 ? "  " + string.Join("  ", run.Results.Select(CourseResults.FormatResult)) : ""));
            foreach (var error in run.Errors) log("    " + error.ReplaceLineEndings("\n    "));
            if (options.PrepareDirectory is { } prepared && Directory.Exists(prepared))
                log($"    prepared: {string.Join(", ", Directory.GetDirectories(prepared, name[..3] + "*").Select(Path.GetFileName).Order(StringComparer.Ordinal))}");
        }

        var mode = (options.Quick ? "quick" : "full") + (options.Host == LessonHost.App ? ", as apps" : "");
        var report = new CourseReport(mode, started, clock.Elapsed, runs);
        var reportDir = Path.GetDirectoryName(outDir)!;
        AtomicFile.WriteAllText(Path.Combine(reportDir, "results.md"), CourseResults.ToMarkdown(report, root));
        AtomicFile.WriteAllText(Path.Combine(reportDir, "results.json"), JsonSerializer.Serialize(report, Json.Options));
        log($"{runs.Count(r => r.Passed)} of {runs.Count} notebooks passed; report: {Path.Combine(reportDir, "results.md")}");
        return report;
    }

    /// <summary>Executes one notebook with dotnet-repl, in <paramref name="workingDirectory"/> (default: the notebook's
    /// folder, as VS Code does), writing the executed copy, log and results file into <paramref name="outDir"/>.</summary>
    internal static NotebookRun RunOne(string notebook, string outDir, bool quick, TimeSpan timeout, Action<string> log,
        string? workingDirectory = null, IReadOnlyDictionary<string, string?>? environment = null)
    {
        var name = Path.GetFileNameWithoutExtension(notebook);
        var executed = Path.Combine(outDir, name + ".ipynb");
        var logPath = Path.Combine(outDir, name + ".log");
        var resultsPath = Path.Combine(outDir, name + ".results.json");
        foreach (var stale in new[] { executed, logPath, resultsPath }) File.Delete(stale);

        var psi = new ProcessStartInfo(DotnetHost)
        {
            // dotnet-repl resolves relative paths against its working directory; VS Code uses the
            // notebook's folder, so run there too.
            WorkingDirectory = workingDirectory ?? Path.GetDirectoryName(notebook)!,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var arg in new[] { "tool", "run", "dotnet-repl", "--run", notebook, "--exit-after-run",
                     "--output-format", "ipynb", "--output-path", executed })
            psi.ArgumentList.Add(arg);
        psi.Environment[CourseMode.Variable] = quick ? "1" : "0";
        psi.Environment[Results.FileVariable] = resultsPath;
        if (environment is not null) foreach (var (variable, value) in environment) psi.Environment[variable] = value;

        var (exitCode, wallTime, _) = Execute(psi, name, logPath, timeout, log);

        var errors = new List<string>();
        if (exitCode is null) errors.Add($"timed out after {timeout.TotalMinutes:F0} min");
        if (File.Exists(executed)) errors.AddRange(NotebookErrors.Find(executed));
        else errors.Add($"dotnet-repl wrote no executed notebook; see {logPath}");
        if (exitCode is not null and not 0 && errors.Count == 0)
            errors.Add($"dotnet-repl exited with code {exitCode}; see {logPath}");

        var recorded = Results.Read(resultsPath);
        return new NotebookRun(name, errors.Count == 0 && exitCode == 0, wallTime, recorded.Results,
            errors, executed, logPath, exitCode) { Exercises = recorded.Exercises };
    }

    static NotebookRun RunApp(string app, string outDir, bool quick, TimeSpan timeout,
        IReadOnlyDictionary<string, string?> environment, Action<string> log)
    {
        var name = Path.GetFileNameWithoutExtension(app);
        var logPath = Path.Combine(outDir, name + ".app.log");
        var resultsPath = Path.Combine(outDir, name + ".app.results.json");
        foreach (var stale in new[] { logPath, resultsPath }) File.Delete(stale);

        // The app's relative paths resolve like the notebook's: from the notebooks folder.
        var psi = new ProcessStartInfo(DotnetHost)
        {
            WorkingDirectory = Path.GetDirectoryName(app)!,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var arg in new[] { "run", Path.GetFileName(app) }) psi.ArgumentList.Add(arg);
        psi.Environment[CourseMode.Variable] = quick ? "1" : "0";
        psi.Environment[Results.FileVariable] = resultsPath;
        foreach (var (variable, value) in environment) psi.Environment[variable] = value;

        var (exitCode, wallTime, lastLines) = Execute(psi, name, logPath, timeout, log);
        var errors = new List<string>();
        if (exitCode is null) errors.Add($"timed out after {timeout.TotalMinutes:F0} min");
        else if (exitCode != 0)
            errors.Add($"exited with code {exitCode}; see {logPath}" +
                (lastLines.Count > 0 ? "\n" + string.Join("\n", lastLines) : ""));
        var recorded = Results.Read(resultsPath);
        return new NotebookRun(name, errors.Count == 0, wallTime, recorded.Results, errors, logPath, logPath, exitCode)
        {
            Exercises = recorded.Exercises,
        };
    }

    /// <summary>True when the lesson has a training cell that can load a prepared model (it calls <c>Pretrained.OrTrain</c>).</summary>
    public static bool HasPreparedModels(string lesson) => File.ReadAllText(lesson).Contains("Pretrained.OrTrain(", StringComparison.Ordinal);

    /// <summary>The lessons a <c>--prepare</c> run trains: those with prepared models, after checking that it does not
    /// replace models already prepared unless asked.</summary>
    static IReadOnlyList<string> ToPrepare(IReadOnlyList<string> lessons, CourseRunOptions options, Action<string> log)
    {
        if (options.Quick)
            throw new ArgumentException("--prepare trains the full-mode models, so it cannot run in quick mode: drop --quick (and RNN_QUICK).");
        var dir = Path.GetFullPath(options.PrepareDirectory!);
        var preparing = lessons.Where(HasPreparedModels).ToList();
        var without = lessons.Except(preparing).Select(Path.GetFileNameWithoutExtension).ToList();
        if (preparing.Count == 0 || (options.Only is { Count: > 0 } && without.Count > 0))
            throw new ArgumentException($"{string.Join(", ", without)}: no cell of it loads a prepared model (Pretrained.OrTrain), so there " +
                "is nothing to prepare. Name lessons that have one, or none to prepare them all.");
        var existing = Directory.Exists(dir)
            ? preparing.SelectMany(l => Directory.GetDirectories(dir, Path.GetFileName(l)[..3] + "*")).Select(Path.GetFileName).Order(StringComparer.Ordinal).ToList()
            : [];
        if (existing.Count > 0 && !options.ReplacePrepared)
            throw new IOException($"{dir} already holds prepared models ({string.Join(", ", existing)}). Nothing was run. " +
                "Give --force to replace them, or prepare into another folder.");
        log($"… preparing the models of {string.Join(", ", preparing.Select(Path.GetFileNameWithoutExtension))} in {dir} (full mode" +
            (existing.Count > 0 ? $"; replacing {string.Join(", ", existing)})" : ")"));
        return preparing;
    }

    /// <summary>Variables set (or, when null, removed) for every lesson: only a <c>--prepare</c> run prepares, and it
    /// never loads what an earlier preparation left.</summary>
    static Dictionary<string, string?> ChildEnvironment(CourseRunOptions options) => options.PrepareDirectory is { } dir
        ? new()
        {
            [Pretrained.PrepareVariable] = Path.GetFullPath(dir),
            [Pretrained.ReplaceVariable] = options.ReplacePrepared ? "1" : null,
            [Pretrained.Variable] = null,
        }
        : new() { [Pretrained.PrepareVariable] = null, [Pretrained.ReplaceVariable] = null };

    /// <summary>Runs the process, copying what it prints to the log; returns its exit code (null after a
    /// timeout), wall time, and the last lines it printed (a build error or an exception's trace).</summary>
    static (int? ExitCode, TimeSpan WallTime, IReadOnlyList<string> LastLines) Execute(
        ProcessStartInfo psi, string name, string logPath, TimeSpan timeout, Action<string> log)
    {
        var clock = Stopwatch.StartNew();
        using var logFile = new StreamWriter(logPath, append: false, Encoding.UTF8) { AutoFlush = true };
        using var process = Process.Start(psi) ?? throw new InvalidOperationException("Could not start dotnet.");
        var lines = new List<string>();
        DataReceivedEventHandler copy = (_, e) =>
        {
            if (e.Data is null) return;
            lock (logFile) { logFile.WriteLine(e.Data); lines.Add(e.Data); }
        };
        process.OutputDataReceived += copy;
        process.ErrorDataReceived += copy;
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        int? exitCode = null;
        var nextHeartbeat = TimeSpan.FromSeconds(30);
        while (!process.WaitForExit(1000))
        {
            if (clock.Elapsed > timeout)
            {
                process.Kill(entireProcessTree: true);
                process.WaitForExit();
                break;
            }
            if (clock.Elapsed >= nextHeartbeat)
            {
                log($"    … {name} still running ({clock.Elapsed.TotalSeconds:F0} s)");
                nextHeartbeat += TimeSpan.FromSeconds(30);
            }
        }
        if (clock.Elapsed <= timeout) { process.WaitForExit(); exitCode = process.ExitCode; }
        clock.Stop();

        lock (logFile) return (exitCode, clock.Elapsed, lines.TakeLast(12).ToList());
    }

    /// <summary>The dotnet executable that started this process, or <c>dotnet</c> from PATH.</summary>
    static string DotnetHost =>
        Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host) ? host : "dotnet";

    internal static void Exec(string workingDirectory, IReadOnlyList<string> args, string what, Action<string> log)
    {
        log($"… {what}");
        var psi = new ProcessStartInfo(DotnetHost)
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi) ?? throw new InvalidOperationException("Could not start dotnet.");
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        p.WaitForExit();
        if (p.ExitCode != 0)
            throw new InvalidOperationException(
                $"'dotnet {string.Join(' ', args)}' failed with exit code {p.ExitCode} while {what}:\n{stdout.Result}{stderr.Result}");
    }
}
