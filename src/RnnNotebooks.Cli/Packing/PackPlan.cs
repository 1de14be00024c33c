using System.Text.Json;
using RnnNotebooks.Data;
using RnnNotebooks.Vision;

namespace RnnNotebooks.Cli.Packing;

sealed record DatasetPart(DatasetInfo Info, DatasetLocation Location);

/// <summary>Every file a pack takes, found on this machine before anything is written: the datasets, the packages the
/// solution's restores and the notebook kernels' <c>#r "nuget: …"</c> lines use, the notebook tools, lesson 06's features.</summary>
sealed record PackPlan(IReadOnlyList<DatasetPart> Datasets, IReadOnlyList<(PackageId Package, string Path)> Packages,
    IReadOnlyList<(PackageId Package, string Path)> Tools, IReadOnlyList<string> Features)
{
    public long PackageBytes => Packages.Concat(Tools).Sum(p => new FileInfo(p.Path).Length);

    public long Bytes => Datasets.Sum(d => d.Info.TotalBytes) + PackageBytes + Features.Sum(f => new FileInfo(f).Length);

    /// <summary>The Jupyter kernel's tool (VS Code and Jupyter run notebooks with it); packed when installed here.</summary>
    const string KernelTool = "microsoft.dotnet-interactive";

    /// <summary>Finds every file the pack needs, or fails naming everything that is missing and how to get it.</summary>
    public static PackPlan Find(PackOptions options, string root)
    {
        var problems = new List<string>();

        var datasets = new List<DatasetPart>();
        foreach (var name in options.Datasets ?? Data.Datasets.Names)
        {
            var info = Data.Datasets.Get(name);
            var location = Data.Datasets.Locate(name);
            if (location.IsPresent) datasets.Add(new(info, location));
            else problems.Add($"dataset {name} is not on this machine (looked in {string.Join("; ", location.Searched)}): "
                + (info.CanDownload ? $"`rnn data fetch {name}`" : info.ManualInstructions) + ", or leave it out with --datasets.");
        }

        var (needed, packagesFolder) = SolutionPackages(root, options.PackagesFolder, problems);
        var notebookRoots = options.NotebookKernelPackages
            ? NotebookSources(root).SelectMany(f => NuGetPackages.NotebookReferences(File.ReadAllText(f))).Distinct().ToList()
            : [];
        var (kernel, kernelMissing) = NuGetPackages.Closure(notebookRoots, packagesFolder, NuGetPackages.FrameworkPackages());
        problems.AddRange(kernelMissing.Select(m => $"package {m} is not in {packagesFolder}: run notebook 00 once on this machine "
            + "with internet (`rnn course 00 --quick`) so its kernel restores it."));
        var packages = new List<(PackageId, string)>();
        foreach (var package in needed.Concat(kernel).DistinctBy(p => p.Folder))
        {
            var path = Path.Combine(packagesFolder, package.Folder, package.FileName);
            if (File.Exists(path)) packages.Add((package, path));
            else problems.Add($"package {package} has no .nupkg in {packagesFolder}: `dotnet restore` with internet puts it there.");
        }
        var natives = $"libtorch-cpu-{options.Os}";
        if (!packages.Any(p => p.Item1.Id.Equals(natives, StringComparison.OrdinalIgnoreCase)))
            problems.Add($"package {natives} (libtorch for {options.Os}) is not among the packages the course restores here; "
                + "TorchSharp-cpu brings it, so restore the solution with internet first.");

        var tools = NotebookTools(root, packagesFolder, options.ToolStore, problems);

        var featuresDirectory = options.FeaturesDirectory ?? Path.Combine(root, "artifacts", "cache", "features");
        var features = new List<string>();
        if (System.IO.Directory.Exists(featuresDirectory))
            foreach (var path in System.IO.Directory.GetFiles(featuresDirectory, "*.features").Order(StringComparer.Ordinal))
            {
                try
                {
                    FeatureCache.ReadHeader(path);
                    features.Add(path);
                }
                catch (InvalidDataException e)
                {
                    problems.Add($"{e.Message} (or move it out of {featuresDirectory} to pack without it)");
                }
            }

        if (problems.Count > 0)
            throw new IOException($"the pack cannot be made yet; nothing was written. {problems.Count} thing(s) to fix:\n  "
                + string.Join("\n  ", problems.Distinct().Take(30)) + (problems.Count > 30 ? $"\n  … and {problems.Count - 30} more." : ""));
        return new PackPlan(datasets, packages, tools, features);
    }

    /// <summary>Every package the restores of the solution's projects used, and the packages folder to take them from.</summary>
    static (IReadOnlyList<PackageId> Packages, string Folder) SolutionPackages(string root, string? packagesFolder, List<string> problems)
    {
        var packages = new List<PackageId>();
        string? usedFolder = null;
        foreach (var (name, projectDirectory) in SolutionProjects(root))
        {
            var assets = new[] { Path.Combine(root, "artifacts", "obj", name, "project.assets.json"), Path.Combine(projectDirectory, "obj", "project.assets.json") }
                .FirstOrDefault(File.Exists);
            if (assets is null)
            {
                problems.Add($"project {name} has not been restored (no obj/project.assets.json): run `dotnet restore` in {root} with internet first.");
                continue;
            }
            var (used, folder) = NuGetPackages.ReadAssets(assets);
            packages.AddRange(used);
            usedFolder ??= folder;
        }
        var nugetPackages = Environment.GetEnvironmentVariable("NUGET_PACKAGES");
        var chosen = packagesFolder ?? usedFolder ?? (string.IsNullOrWhiteSpace(nugetPackages)
            ? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages")
            : nugetPackages);
        return (packages, Path.TrimEndingDirectorySeparator(chosen));
    }

    /// <summary>The C# projects of RnnNotebooks.sln, by name and folder.</summary>
    internal static IEnumerable<(string Name, string Directory)> SolutionProjects(string root)
    {
        var solution = Path.Combine(root, "RnnNotebooks.sln");
        foreach (var line in File.ReadLines(solution))
        {
            var parts = line.Split('"');
            if (!line.StartsWith("Project(", StringComparison.Ordinal) || parts.Length < 6 || !parts[5].EndsWith(".csproj", StringComparison.Ordinal)) continue;
            var path = Path.Combine(root, parts[5].Replace('\\', Path.DirectorySeparatorChar));
            yield return (Path.GetFileNameWithoutExtension(path), Path.GetDirectoryName(path)!);
        }
    }

    /// <summary>The files whose <c>#r "nuget: …"</c> lines a notebook kernel restores: the shared setup cell and the lesson sources.</summary>
    static IEnumerable<string> NotebookSources(string root)
    {
        var tools = Path.Combine(root, "tools");
        if (File.Exists(Path.Combine(tools, "setup-cell.csx"))) yield return Path.Combine(tools, "setup-cell.csx");
        var sources = Path.Combine(tools, "notebook-sources");
        if (System.IO.Directory.Exists(sources))
            foreach (var f in System.IO.Directory.GetFiles(sources, "*.txt").Order(StringComparer.Ordinal)) yield return f;
    }

    /// <summary>The notebook tools' packages: every tool of .config/dotnet-tools.json (dotnet-repl runs the notebooks
    /// headless; required) and the Jupyter kernel's tool when it is installed here (optional).</summary>
    static IReadOnlyList<(PackageId Package, string Path)> NotebookTools(string root, string packagesFolder, string? toolStore, List<string> problems)
    {
        var tools = new List<(PackageId, string)>();
        var manifest = Path.Combine(root, ".config", "dotnet-tools.json");
        if (File.Exists(manifest))
        {
            using var doc = JsonDocument.Parse(File.ReadAllText(manifest));
            foreach (var tool in doc.RootElement.GetProperty("tools").EnumerateObject())
            {
                var package = new PackageId(tool.Name, tool.Value.GetProperty("version").GetString()!);
                var path = Path.Combine(packagesFolder, package.Folder, package.FileName);
                if (File.Exists(path)) tools.Add((package, path));
                else problems.Add($"tool {package} has no .nupkg in {packagesFolder}: run `dotnet tool restore` in {root} with internet first.");
            }
        }
        var store = Path.Combine(toolStore ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".dotnet", "tools", ".store"), KernelTool);
        if (System.IO.Directory.Exists(store))
        {
            var version = System.IO.Directory.GetDirectories(store).Select(Path.GetFileName).OfType<string>().Max(NuGetPackages.VersionOrder);
            if (version is not null)
            {
                var package = new PackageId("Microsoft.dotnet-interactive", version);
                var path = Path.Combine(store, version, KernelTool, version, package.FileName);
                if (File.Exists(path)) tools.Add((package, path));
            }
        }
        return tools;
    }
}
