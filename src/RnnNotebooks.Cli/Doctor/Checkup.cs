namespace RnnNotebooks.Cli.Doctor;

/// <summary>
/// <c>rnn doctor</c>'s checks in order: can TorchSharp load here (platform, C and C++ runtimes, a tensor), is the
/// course installed where the notebooks look (library, packages, kernels, datasets, disk), and does notebook 00 run.
/// </summary>
/// <remarks>Every fact comes from <see cref="DoctorProbes"/>; the verdicts are the plain functions of
/// <see cref="PlatformChecks"/>, <see cref="InstallChecks"/> and <see cref="DatasetChecks"/>.</remarks>
public static class Checkup
{
    /// <summary>Where the notebooks load the library from when the setup cell cannot be read.</summary>
    const string DefaultLibrary = "../artifacts/bin/RnnNotebooks/debug/RnnNotebooks.dll";

    /// <summary>Runs every check, handing each to <paramref name="report"/> as it completes.</summary>
    /// <param name="probes">The machine's facts.</param>
    /// <param name="runNotebook">Run notebook 00 at the end (skipped anyway when a check failed).</param>
    /// <param name="report">Gets each check as soon as it is done (the notebook run takes a while).</param>
    /// <returns>Every check, in order.</returns>
    public static IReadOnlyList<Check> Run(DoctorProbes probes, bool runNotebook, Action<Check> report)
    {
        var checks = new List<Check>();
        void Add(Check c)
        {
            checks.Add(c);
            report(c);
        }
        bool Failed() => checks.Any(c => c.Status == CheckStatus.Fail);

        var machine = probes.Machine();
        Add(PlatformChecks.Platform(machine));
        if (machine.Os == "linux")
        {
            var needs = probes.TorchSharpNeeds() is { Count: > 0 } read ? read : PlatformChecks.KnownNeeds;
            Add(PlatformChecks.Glibc(probes.Glibc(), needs));
            Add(PlatformChecks.LibStdCxx(probes.LibStdCxxVersions(), needs, probes.GlibcxxFixOff));
        }
        Add(Failed() ? Check.Skip("torch", "not loaded: the checks above say it cannot.") : PlatformChecks.Torch(probes.LoadTorch));
        Add(PlatformChecks.Memory(probes.TotalMemory()));

        var setup = SetupCellReferences.Parse(probes.SetupCell() ?? "");
        var library = setup.Assemblies.FirstOrDefault(a => Path.GetFileName(a) == "RnnNotebooks.dll") ?? DefaultLibrary;
        var libraryPath = Path.GetFullPath(Path.Combine(probes.RepoRoot, "notebooks", library));
        var built = probes.WriteTime(libraryPath);
        Add(InstallChecks.Library(Path.GetRelativePath(probes.RepoRoot, libraryPath).Replace('\\', '/'), built, probes.NewestLibrarySource()));

        var missing = setup.Packages.Where(p => !probes.PackageRestored(p.Id, p.Version)).Select(p => $"{p.Id} {p.Version}").ToList();
        Add(InstallChecks.NuGetCache(probes.NuGetPackages, missing, probes.CanWrite(probes.NuGetPackages)));
        var repl = probes.ReplPinned();
        Add(InstallChecks.Repl(repl, repl is not null && probes.PackageRestored("dotnet-repl", repl)));
        Add(InstallChecks.Interactive(probes.InteractiveInstalled(), probes.JupyterKernel()));

        var datasets = probes.Datasets();
        foreach (var d in datasets) Add(DatasetChecks.Dataset(d));

        var downloads = datasets.Where(d => !d.Present && d.Source is not null).Sum(d => d.Bytes);
        Add(InstallChecks.Disk(
        [
            ("the build and executed notebooks", probes.RepoRoot, probes.FreeBytes(probes.RepoRoot), built is null ? InstallChecks.BuildBytes : 0),
            ("NuGet packages", probes.NuGetPackages, probes.FreeBytes(probes.NuGetPackages), missing.Count > 0 ? InstallChecks.RestoreBytes : 0),
            ("downloaded datasets", probes.DatasetCache, probes.FreeBytes(probes.DatasetCache), downloads),
        ]));

        if (!runNotebook) Add(Check.Skip("notebook 00", "not run (--no-run)."));
        else if (Failed()) Add(Check.Skip("notebook 00", "not run: fix the failures above first."));
        else Add(InstallChecks.Notebook(probes.RunNotebook00()));
        return checks;
    }

    /// <summary>The last line: how many checks passed, warned and failed, and whether the course can run.</summary>
    public static string Summary(IReadOnlyList<Check> checks)
    {
        int Count(CheckStatus s) => checks.Count(c => c.Status == s);
        var verdict = Count(CheckStatus.Fail) == 0
            ? "the course can run on this machine" + (Count(CheckStatus.Warn) > 0 ? " (see the warnings)" : "")
            : "the course cannot run here until the failed checks are fixed";
        return $"{Count(CheckStatus.Ok)} ok, {Count(CheckStatus.Warn)} warnings, {Count(CheckStatus.Fail)} failed: {verdict}.";
    }
}
