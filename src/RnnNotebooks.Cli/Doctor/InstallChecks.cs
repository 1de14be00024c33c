using System.Text.RegularExpressions;

namespace RnnNotebooks.Cli.Doctor;

/// <summary>What the notebooks' setup cell (<c>tools/setup-cell.csx</c>) loads: NuGet packages and assembly files
/// (paths relative to <c>notebooks/</c>).</summary>
public sealed record SetupCellReferences(IReadOnlyList<(string Id, string Version)> Packages, IReadOnlyList<string> Assemblies)
{
    /// <summary>Reads the <c>#r "nuget: Id, Version"</c> and <c>#r "file.dll"</c> lines of a setup cell.</summary>
    public static SetupCellReferences Parse(string setupCell)
    {
        var packages = new List<(string, string)>();
        var files = new List<string>();
        foreach (Match m in Regex.Matches(setupCell, @"^#r\s+""([^""]+)""", RegexOptions.Multiline))
        {
            var reference = m.Groups[1].Value;
            if (reference.StartsWith("nuget:", StringComparison.OrdinalIgnoreCase))
            {
                var parts = reference["nuget:".Length..].Split(',', StringSplitOptions.TrimEntries);
                if (parts.Length == 2) packages.Add((parts[0], parts[1]));
            }
            else files.Add(reference);
        }
        return new(packages, files);
    }
}

/// <summary>Whether the course is installed where the notebooks look: the library, NuGet packages, the notebook
/// kernels, disk space, and a run of notebook 00.</summary>
public static class InstallChecks
{
    /// <summary>The .NET Interactive kernel the course is tested with (its last release; <c>.devcontainer/post-create.sh</c>).</summary>
    public const string InteractiveVersion = "1.0.712001";

    /// <summary>About what a restore of the course adds to the NuGet cache: libtorch for three systems (1.2 GB) and
    /// the rest of the solution's packages and tools.</summary>
    public const long RestoreBytes = 3_100_000_000;

    /// <summary>About what a build of the whole solution writes under <c>artifacts/</c>.</summary>
    public const long BuildBytes = 2_900_000_000;

    /// <param name="relativePath">Where the notebooks load the library from, relative to the repository.</param>
    /// <param name="built">When the library file was written, or null when it is missing.</param>
    /// <param name="newestSource">The newest source file of the library and when it changed, or null.</param>
    public static Check Library(string relativePath, DateTime? built, (string Path, DateTime Changed)? newestSource)
    {
        const string name = "library";
        const string build = "dotnet build src/RnnNotebooks (rnn course builds it too).";
        var where = relativePath;
        if (built is null)
            return Check.Fail(name, $"not built: the notebooks load {where}, which does not exist.", build);
        if (newestSource is { } s && s.Changed > built)
            return Check.Warn(name, $"{where} is older than {s.Path}.", "dotnet build src/RnnNotebooks, then restart any open notebook's kernel.");
        return Check.Ok(name, $"{where} is built and newer than its sources.");
    }

    /// <param name="directory">The NuGet global packages folder.</param>
    /// <param name="missing">Packages the notebooks need that are not in it (id/version).</param>
    /// <param name="writable">Whether a file can be created there.</param>
    public static Check NuGetCache(string directory, IReadOnlyList<string> missing, bool writable)
    {
        const string name = "NuGet cache";
        if (missing.Count == 0)
            return Check.Ok(name, $"the notebooks' packages are in {directory}; nothing to download{(writable ? "" : " (it is read-only, which is fine)")}.");
        var list = string.Join(", ", missing);
        if (writable)
            return Check.Ok(name, $"{directory} is writable; the first build or notebook downloads {list} (about {RestoreBytes / 1e9:F0} GB in all).");
        return Check.Fail(name, $"{directory} is not writable and lacks {list}.",
            "set NUGET_PACKAGES to a writable folder with 4 GB free, or restore once as the folder's owner (dotnet restore RnnNotebooks.sln).");
    }

    /// <param name="pinned">dotnet-repl's version in <c>.config/dotnet-tools.json</c>, or null when it is not there.</param>
    /// <param name="restored">Whether that version is in the NuGet cache.</param>
    public static Check Repl(string? pinned, bool restored)
    {
        const string name = "dotnet-repl";
        if (pinned is null)
            return Check.Fail(name, "no dotnet-repl in .config/dotnet-tools.json; rnn course runs the notebooks with it.", "restore .config/dotnet-tools.json from the repository (git checkout .config).");
        return restored
            ? Check.Ok(name, $"{pinned} (pinned in .config/dotnet-tools.json) is restored; rnn course runs the notebooks with it.")
            : Check.Warn(name, $"{pinned} (pinned in .config/dotnet-tools.json) is not restored yet.", "dotnet tool restore (rnn course does it first).");
    }

    /// <param name="installed">The global <c>Microsoft.dotnet-interactive</c> tool's version, or null.</param>
    /// <param name="kernelRegistered">Whether Jupyter has a <c>.net-csharp</c> kernel.</param>
    public static Check Interactive(string? installed, bool kernelRegistered)
    {
        const string name = "dotnet-interactive";
        const string install = $"dotnet tool install -g Microsoft.dotnet-interactive --version {InteractiveVersion} && dotnet interactive jupyter install";
        if (installed is null)
            return Check.Warn(name, "not installed: Jupyter has no C# kernel (VS Code's Polyglot Notebooks installs its own copy).", install + " (only for Jupyter).");
        if (installed != InteractiveVersion)
            return Check.Warn(name, $"{installed}; the course is tested with {InteractiveVersion}, its last release.",
                $"dotnet tool update -g Microsoft.dotnet-interactive --version {InteractiveVersion}.");
        return kernelRegistered
            ? Check.Ok(name, $"{installed}, registered with Jupyter as .net-csharp.")
            : Check.Warn(name, $"{installed}, but Jupyter has no .net-csharp kernel.", "dotnet interactive jupyter install.");
    }

    /// <summary>Free space against what is still to be written at each place (builds, packages, datasets).</summary>
    /// <param name="places">Each place: what it is for, its path, free bytes (null: unknown) and bytes still needed.</param>
    public static Check Disk(IReadOnlyList<(string What, string Path, long? Free, long Needed)> places)
    {
        const string name = "disk";
        const long margin = 1_000_000_000;   // executed notebooks, checkpoints, a kernel's temporary files
        static string Gb(long bytes) => $"{bytes / 1e9:F1} GB";
        var known = places.Where(p => p.Free is not null).ToList();
        if (known.Count == 0) return Check.Warn(name, "free space unknown.", "make sure there are a few GB free for the build and the packages.");
        var shortOf = known.Where(p => p.Free < p.Needed).ToList();
        if (shortOf.Count > 0)
            return Check.Fail(name, string.Join("; ", shortOf.Select(p => $"{Gb(p.Free!.Value)} free at {p.Path} ({p.What}), about {Gb(p.Needed)} needed")) + ".",
                "free some space there, or point NUGET_PACKAGES / RNN_DATA_DIR at a disk that has it (docs/setup.md#disk-and-memory).");
        var tight = known.Where(p => p.Free < p.Needed + margin).ToList();
        var summary = string.Join("; ", known.Select(p => $"{Gb(p.Free!.Value)} free for {p.What}" + (p.Needed > 0 ? $" ({Gb(p.Needed)} still to come)" : "")));
        return tight.Count > 0
            ? Check.Warn(name, summary + ".", "keep at least 1 GB more free for executed notebooks and checkpoints.")
            : Check.Ok(name, summary + ".");
    }

    /// <summary>Notebook 00 executed headless in quick mode, as <c>rnn course --quick 00</c> does.</summary>
    public static Check Notebook(NotebookRun run)
    {
        const string name = "notebook 00";
        if (run.Passed)
            return Check.Ok(name, $"{run.Name} ran clean in quick mode in {run.WallTime.TotalSeconds:F0} s.");
        var first = run.Errors.FirstOrDefault()?.Split('\n')[0] ?? "it failed";
        return Check.Fail(name, $"{run.Name} failed in quick mode: {first}",
            $"read {run.LogPath} and docs/troubleshooting.md; rnn course --quick 00 runs it again.");
    }
}
