using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using RnnNotebooks.Data;
using RnnNotebooks.Notebook;
using RnnNotebooks.Vision;

namespace RnnNotebooks.Cli.Packing;

/// <summary>What <c>rnn pack</c> should write.</summary>
/// <param name="Directory">The pack folder; it must not exist, or be empty, unless <paramref name="Force"/>.</param>
/// <param name="Os">The system of the machines that use the pack: one of <see cref="PackBuilder.Systems"/>.</param>
/// <param name="Datasets">The datasets to include; null: every registered one.</param>
/// <param name="Force">Replace an existing non-empty folder (only one that holds no clone of the course).</param>
/// <param name="RepoRoot">The clone whose restores say which packages the course needs; default: the one above the working directory.</param>
/// <param name="PackagesFolder">The NuGet global packages folder; default: the one the solution's restore used.</param>
/// <param name="ToolStore">Where <c>dotnet tool install -g</c> keeps tools (for the Jupyter kernel's package); default: <c>~/.dotnet/tools/.store</c>.</param>
/// <param name="FeaturesDirectory">Lesson 06's feature caches; default: <c>artifacts/cache/features</c> of the clone.</param>
/// <param name="NotebookKernelPackages">Include the packages the notebooks' <c>#r "nuget: …"</c> lines restore (a notebook
/// kernel's own restore); false packs only what the solution and the lessons' apps restore.</param>
public sealed record PackOptions(
    string Directory,
    string Os,
    IReadOnlyList<string>? Datasets = null,
    bool Force = false,
    string? RepoRoot = null,
    string? PackagesFolder = null,
    string? ToolStore = null,
    string? FeaturesDirectory = null,
    bool NotebookKernelPackages = true);

/// <summary>What went into a pack.</summary>
public sealed record PackResult(string Directory, int Files, long Bytes, IReadOnlyList<string> Datasets,
    IReadOnlyList<PackageId> Packages, IReadOnlyList<PackageId> Tools, IReadOnlyList<string> Features);

/// <summary>
/// Writes an offline pack (<see cref="OfflinePack"/>): checks that everything it needs is on this machine first, copies
/// it into a temp folder beside the target, checking each dataset file against its registered SHA-256 and each package
/// against the SHA-512 NuGet recorded, writes README.txt, pack.json and SHA256SUMS, and then renames the folder into place.
/// </summary>
public static class PackBuilder
{
    /// <summary>The systems TorchSharp-cpu ships libtorch for.</summary>
    public static readonly IReadOnlyList<string> Systems = ["linux-x64", "win-x64", "osx-arm64"];

    /// <summary>The system this process runs on, when it is one of <see cref="Systems"/>; else linux-x64.</summary>
    public static string CurrentSystem =>
        OperatingSystem.IsWindows() ? "win-x64" : OperatingSystem.IsMacOS() ? "osx-arm64" : "linux-x64";


    /// <summary>Writes the pack; <paramref name="log"/> is told each step.</summary>
    /// <exception cref="ArgumentException">An unknown system or dataset.</exception>
    /// <exception cref="IOException">The target is not empty, something the pack needs is not on this machine, or the disk is too small.</exception>
    public static PackResult Build(PackOptions options, Action<string>? log = null)
    {
        log ??= _ => { };
        if (!Systems.Contains(options.Os))
            throw new ArgumentException($"unknown system '{options.Os}'; choose one of {string.Join(", ", Systems)}.", nameof(options.Os));
        var target = Path.TrimEndingDirectorySeparator(Path.GetFullPath(options.Directory));
        var root = Path.GetFullPath(options.RepoRoot ?? Course.FindRepoRoot());
        CheckTarget(target, root, options.Force);

        var plan = PackPlan.Find(options, root);
        var parent = Path.GetDirectoryName(target)!;
        System.IO.Directory.CreateDirectory(parent);
        var free = new DriveInfo(parent).AvailableFreeSpace;
        if (free < plan.Bytes + (64L << 20))
            throw new IOException($"{parent}: {free / 1e6:N0} MB free, the pack needs {plan.Bytes / 1e6:N0} MB. Choose a folder on a larger disk.");

        // A pack killed while copying leaves its hidden temp folder beside the target; the next pack there removes it.
        var hidden = "." + Path.GetFileName(target);
        TempFiles.RemoveStale(parent, hidden);
        var temp = TempFiles.Claim(Path.Combine(parent, hidden));
        try
        {
            var sums = new SortedDictionary<string, string>(StringComparer.Ordinal);
            foreach (var d in plan.Datasets)
            {
                log($"{d.Info.Name}: {d.Info.Files.Count} files from {d.Location.Directory}");
                foreach (var file in d.Info.Files)
                {
                    var relative = $"{OfflinePack.DatasetsFolder}/{d.Info.Name}/{file.Path}";
                    var sha = Copy(d.Location.PathOf(file.Path), Path.Combine(temp, relative), null);
                    if (!file.Accepted.Any(v => v.Sha256 == sha))
                        throw new InvalidDataException($"{d.Location.PathOf(file.Path)}: SHA-256 {sha}, expected {file.Sha256}. The copy is damaged; "
                            + $"run `rnn data verify {d.Info.Name}` and fetch it again before packing.");
                    sums[relative] = sha;
                }
            }
            log($"{plan.Packages.Count} NuGet packages and {plan.Tools.Count} tool(s), {plan.PackageBytes / 1e6:N0} MB");
            // A tool's .sha512 beside its package records another hash than the file's (tool installs keep it differently),
            // so only the packages are checked against NuGet's record; the tools are checked by their install on the lab machine.
            foreach (var (package, path, sha512) in plan.Packages.Select(p => (p.Package, p.Path, Sha512: (string?)(p.Path + ".sha512")))
                         .Concat(plan.Tools.Select(t => (t.Package, t.Path, Sha512: (string?)null))))
            {
                var relative = $"{OfflinePack.NuGetFolder}/{package.FileName}";
                sums[relative] = Copy(path, Path.Combine(temp, relative), sha512);
            }
            foreach (var path in plan.Features)
            {
                var relative = $"{OfflinePack.FeaturesFolder}/{Path.GetFileName(path)}";
                log($"lesson 06 features: {Path.GetFileName(path)}");
                sums[relative] = Copy(path, Path.Combine(temp, relative), null);
            }
            var datasetNames = plan.Datasets.Select(d => d.Info.Name).ToList();
            var texts = new Dictionary<string, string>
            {
                ["nuget.config"] = NuGetConfig,
                ["README.txt"] = PackReadme.Text(options.Os, datasetNames, plan.Packages.Count, [.. plan.Tools.Select(t => t.Package)],
                    [.. plan.Features.Select(Path.GetFileName).OfType<string>()]),
                [OfflinePack.InfoFile] = Info(options.Os, plan),
            };
            foreach (var (name, text) in texts)
            {
                var bytes = Encoding.UTF8.GetBytes(text.ReplaceLineEndings(options.Os == "win-x64" && name == "README.txt" ? "\r\n" : "\n"));
                File.WriteAllBytes(Path.Combine(temp, name), bytes);
                sums[name] = Convert.ToHexStringLower(SHA256.HashData(bytes));
            }
            File.WriteAllText(Path.Combine(temp, OfflinePack.ChecksumsFile), string.Concat(sums.Select(s => $"{s.Value}  {s.Key}\n")));
            MoveIntoPlace(temp, target);
            var bytesWritten = new DirectoryInfo(target).EnumerateFiles("*", SearchOption.AllDirectories).Sum(f => f.Length);
            return new PackResult(target, sums.Count + 1, bytesWritten, datasetNames, [.. plan.Packages.Select(p => p.Package)],
                [.. plan.Tools.Select(t => t.Package)], [.. plan.Features.Select(Path.GetFileName).OfType<string>()]);
        }
        finally
        {
            TempFiles.Release(temp);
        }
    }

    /// <summary>The pack's feed as the only package source; a relative source is read relative to this file.</summary>
    internal const string NuGetConfig = """
        <?xml version="1.0" encoding="utf-8"?>
        <!-- The offline pack's feed as the only package source, for the configfile option of dotnet restore and dotnet tool. -->
        <configuration>
          <packageSources>
            <clear />
            <add key="rnn-pack" value="nuget" />
          </packageSources>
        </configuration>

        """;

    static void CheckTarget(string target, string root, bool force)
    {
        if (File.Exists(target)) throw new IOException($"{target} is a file; name a folder for the pack.");
        if (!System.IO.Directory.Exists(target) || !System.IO.Directory.EnumerateFileSystemEntries(target).Any()) return;
        if (!force)
            throw new IOException($"{target} is not empty. Name a new or empty folder, or pass --force to replace it.");
        var within = root.StartsWith(target + Path.DirectorySeparatorChar, StringComparison.Ordinal) || root == target;
        var cwd = Path.GetFullPath(Environment.CurrentDirectory);
        if (within || cwd == target || cwd.StartsWith(target + Path.DirectorySeparatorChar, StringComparison.Ordinal))
            throw new IOException($"{target} holds the course's clone or the working folder; --force replaces only other folders. Name another folder.");
    }

    /// <summary>Copies a file, returning its SHA-256; with <paramref name="sha512File"/> (NuGet's record of a package's
    /// SHA-512, base64) present, a copy that disagrees with it is an error.</summary>
    static string Copy(string source, string destination, string? sha512File)
    {
        System.IO.Directory.CreateDirectory(Path.GetDirectoryName(destination)!);
        using var sha256 = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        using var sha512 = IncrementalHash.CreateHash(HashAlgorithmName.SHA512);
        using (var input = File.OpenRead(source))
        using (var output = new FileStream(destination, FileMode.CreateNew, FileAccess.Write))
        {
            var buffer = new byte[1 << 20];
            int read;
            while ((read = input.Read(buffer)) > 0)
            {
                sha256.AppendData(buffer, 0, read);
                sha512.AppendData(buffer, 0, read);
                output.Write(buffer, 0, read);
            }
        }
        if (sha512File is not null && File.Exists(sha512File))
        {
            var recorded = File.ReadAllText(sha512File).Trim();
            var actual = Convert.ToBase64String(sha512.GetHashAndReset());
            if (recorded != actual)
                throw new InvalidDataException($"{source}: its SHA-512 differs from NuGet's record in {sha512File}; the package is damaged. "
                    + $"Delete its folder ({Path.GetDirectoryName(source)}) and run `dotnet restore` with internet, then pack again.");
        }
        return Convert.ToHexStringLower(sha256.GetHashAndReset());
    }

    static string Info(string os, PackPlan plan) => JsonSerializer.Serialize(new
    {
        format = 1,
        os,
        datasets = plan.Datasets.Select(d => new { name = d.Info.Name, files = d.Info.Files.Count, bytes = d.Info.TotalBytes }),
        packages = plan.Packages.Select(p => p.Package.ToString()),
        tools = plan.Tools.Select(t => t.Package.ToString()),
        features = plan.Features.Select(Path.GetFileName),
    }, new JsonSerializerOptions { WriteIndented = true }) + "\n";

    /// <summary>Replaces <paramref name="target"/> (absent, empty, or an old pack) by the finished temp folder: the old one
    /// is renamed aside first and deleted only after the new one is in place.</summary>
    static void MoveIntoPlace(string temp, string target)
    {
        string? old = null;
        if (System.IO.Directory.Exists(target))
        {
            old = TempFiles.Claim(Path.Combine(Path.GetDirectoryName(target)!, $".{Path.GetFileName(target)}.old"));
            System.IO.Directory.Move(target, old);
        }
        try
        {
            System.IO.Directory.Move(temp, target);
        }
        catch
        {
            if (old is not null)
            {
                System.IO.Directory.Move(old, target);
                TempFiles.Release(old);
            }
            throw;
        }
        if (old is not null) TempFiles.Release(old);   // deletes it
    }
}
