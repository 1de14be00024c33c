using System.Text.Json;
using System.Text.RegularExpressions;
using System.Xml.Linq;

namespace RnnNotebooks.Cli.Packing;

/// <summary>A package by id and version, as NuGet names it (the id's case as published, the version normalised).</summary>
public sealed record PackageId(string Id, string Version)
{
    /// <summary>The folder of this package in a global packages folder: <c>&lt;id&gt;/&lt;version&gt;</c>, lower case.</summary>
    public string Folder => $"{Id.ToLowerInvariant()}/{Version.ToLowerInvariant()}";

    /// <summary>The .nupkg's file name in that folder and in a folder feed.</summary>
    public string FileName => $"{Id.ToLowerInvariant()}.{Version.ToLowerInvariant()}.nupkg";

    public override string ToString() => $"{Id} {Version}";
}

/// <summary>
/// Which packages the course restores, found without a network: the solution's restores read from their
/// <c>project.assets.json</c>, and the notebooks' <c>#r "nuget: …"</c> packages with their dependencies read from the
/// .nuspec files in the global packages folder (a notebook kernel restores its own project, which leaves no assets file).
/// </summary>
public static partial class NuGetPackages
{
    /// <summary>The packages one restore used (every library of type <c>package</c>) and the packages folder it used.</summary>
    /// <exception cref="InvalidDataException">The file is not an assets file.</exception>
    public static (IReadOnlyList<PackageId> Packages, string? PackagesFolder) ReadAssets(string assetsPath)
    {
        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllBytes(assetsPath));
            var root = doc.RootElement;
            var packages = new List<PackageId>();
            foreach (var library in root.GetProperty("libraries").EnumerateObject())
            {
                if (library.Value.GetProperty("type").GetString() != "package") continue;
                var slash = library.Name.IndexOf('/');
                packages.Add(new PackageId(library.Name[..slash], library.Name[(slash + 1)..]));
            }
            string? folder = null;
            if (root.TryGetProperty("packageFolders", out var folders))
                folder = folders.EnumerateObject().Select(f => f.Name).FirstOrDefault();
            return (packages, folder);
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException or ArgumentOutOfRangeException)
        {
            throw new InvalidDataException($"{assetsPath}: not a NuGet assets file ({e.Message}). Run `dotnet restore` to write it again.", e);
        }
    }

    /// <summary>The <c>#r "nuget: Id, Version"</c> references in a notebook or lesson source.</summary>
    public static IEnumerable<PackageId> NotebookReferences(string text) =>
        NuGetReference().Matches(text).Select(m => new PackageId(m.Groups["id"].Value, m.Groups["version"].Value));

    [GeneratedRegex(@"#r\s+\\?""nuget:\s*(?<id>[A-Za-z0-9_.\-]+)\s*,\s*(?<version>[0-9][A-Za-z0-9.\-+]*)\s*\\?""")]
    private static partial Regex NuGetReference();

    /// <summary>
    /// <paramref name="roots"/> and every package they depend on for <paramref name="framework"/> (a <c>netX.Y</c>), each
    /// dependency resolved as NuGet does, to the lowest version in its range: here, the lowest one present in
    /// <paramref name="packagesFolder"/>. A package that is not there is reported in <c>Missing</c>, with who needs it.
    /// </summary>
    /// <remarks>A dependency on a package that the shared framework already contains, at that version or lower (listed in
    /// <paramref name="frameworkPackages"/>), is pruned as the .NET 10 SDK's restore does: it needs no package.</remarks>
    public static (IReadOnlyList<PackageId> Packages, IReadOnlyList<string> Missing) Closure(
        IEnumerable<PackageId> roots, string packagesFolder, IReadOnlyDictionary<string, string>? frameworkPackages = null,
        string framework = "net10.0")
    {
        frameworkPackages ??= new Dictionary<string, string>();
        var found = new Dictionary<string, PackageId>(StringComparer.OrdinalIgnoreCase);
        var missing = new List<string>();
        var queue = new Queue<(PackageId Package, string Why)>(roots.Select(r => (r, "a notebook's #r")));
        while (queue.TryDequeue(out var item))
        {
            var key = item.Package.ToString();
            if (found.ContainsKey(key)) continue;
            var nuspec = Path.Combine(packagesFolder, item.Package.Folder, item.Package.Id.ToLowerInvariant() + ".nuspec");
            if (!File.Exists(nuspec))
            {
                missing.Add($"{item.Package} (needed by {item.Why})");
                continue;
            }
            found[key] = item.Package;
            foreach (var (id, range) in Dependencies(nuspec, framework))
            {
                if (frameworkPackages.TryGetValue(id, out var inFramework) && ParseRange(range).Min is var min
                    && (min is null || VersionOrder.Compare(min, inFramework) <= 0))
                    continue;
                if (Lowest(packagesFolder, id, range) is { } version) queue.Enqueue((new PackageId(id, version), item.Package.ToString()));
                else missing.Add($"{id} {range} (needed by {item.Package})");
            }
        }
        return ([.. found.Values], missing.Distinct().ToList());
    }

    /// <summary>
    /// The packages the shared framework of <paramref name="majorVersion"/> replaces, with the highest version it replaces:
    /// <c>PackageOverrides.txt</c> of the newest <c>Microsoft.NETCore.App.Ref</c> pack of that version in the .NET installation
    /// this process runs on. Empty when there is none (the closure then asks for more packages, never fewer).
    /// </summary>
    public static IReadOnlyDictionary<string, string> FrameworkPackages(int majorVersion = 10)
    {
        var result = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        var runtime = System.Runtime.InteropServices.RuntimeEnvironment.GetRuntimeDirectory();   // <root>/shared/Microsoft.NETCore.App/<version>/
        var dotnetRoot = Path.GetFullPath(Path.Combine(runtime, "..", "..", ".."));
        var packs = Path.Combine(dotnetRoot, "packs", "Microsoft.NETCore.App.Ref");
        if (!Directory.Exists(packs)) return result;
        var newest = Directory.GetDirectories(packs).Select(Path.GetFileName).OfType<string>()
            .Where(v => v.StartsWith($"{majorVersion}.", StringComparison.Ordinal)).Max(VersionOrder);
        var overrides = newest is null ? null : Path.Combine(packs, newest, "data", "PackageOverrides.txt");
        if (overrides is null || !File.Exists(overrides)) return result;
        foreach (var line in File.ReadLines(overrides))
            if (line.Split('|') is [var id, var version]) result[id.Trim()] = version.Trim();
        return result;
    }

    /// <summary>The dependencies a project for <paramref name="framework"/> takes from a .nuspec: the group of the
    /// nearest compatible framework (the highest .NET, else the highest .NET Standard), else the ungrouped list.</summary>
    internal static IReadOnlyList<(string Id, string Range)> Dependencies(string nuspecPath, string framework)
    {
        var doc = XDocument.Load(nuspecPath);
        var dependencies = doc.Descendants().FirstOrDefault(e => e.Name.LocalName == "dependencies");
        if (dependencies is null) return [];
        static IReadOnlyList<(string, string)> Of(XElement e) =>
            [.. e.Elements().Where(d => d.Name.LocalName == "dependency")
                .Select(d => ((string)d.Attribute("id")!, (string?)d.Attribute("version") ?? "0.0.0"))];
        var groups = dependencies.Elements().Where(e => e.Name.LocalName == "group").ToList();
        if (groups.Count == 0) return Of(dependencies);
        var target = Framework.Parse(framework) ?? throw new ArgumentException($"'{framework}' is not a netX.Y framework.", nameof(framework));
        var best = groups
            .Select(g => (Group: g, Framework: Framework.Parse((string?)g.Attribute("targetFramework") ?? "")))
            .Where(g => g.Framework is { } f && f.IsCompatibleWith(target))
            .OrderByDescending(g => g.Framework!.Family == FrameworkFamily.Net)
            .ThenByDescending(g => g.Framework!.Version)
            .Select(g => g.Group)
            .FirstOrDefault();
        best ??= groups.FirstOrDefault(g => string.IsNullOrEmpty((string?)g.Attribute("targetFramework")));
        return best is null ? [] : Of(best);
    }

    /// <summary>The lowest version of <paramref name="id"/> in the packages folder that the NuGet range allows.</summary>
    internal static string? Lowest(string packagesFolder, string id, string range)
    {
        var folder = Path.Combine(packagesFolder, id.ToLowerInvariant());
        if (!Directory.Exists(folder)) return null;
        var (min, minInclusive, max, maxInclusive) = ParseRange(range);
        return Directory.GetDirectories(folder)
            .Select(Path.GetFileName)
            .OfType<string>()
            .Where(v => File.Exists(Path.Combine(folder, v, id.ToLowerInvariant() + ".nuspec")))
            .Where(v => min is null || (minInclusive ? VersionOrder.Compare(v, min) >= 0 : VersionOrder.Compare(v, min) > 0))
            .Where(v => max is null || (maxInclusive ? VersionOrder.Compare(v, max) <= 0 : VersionOrder.Compare(v, max) < 0))
            .OrderBy(v => v, VersionOrder)
            .FirstOrDefault();
    }

    /// <summary>NuGet's range syntax: <c>1.0</c> (at least 1.0), <c>[1.0]</c>, <c>[1.0, 2.0)</c>, <c>(, 2.0]</c>.</summary>
    internal static (string? Min, bool MinInclusive, string? Max, bool MaxInclusive) ParseRange(string range)
    {
        range = range.Trim();
        if (range.Length == 0) return (null, true, null, true);
        if (range[0] is not ('[' or '(')) return (range, true, null, true);
        var inner = range[1..^1];
        var parts = inner.Split(',');
        var min = parts[0].Trim();
        var max = parts.Length > 1 ? parts[1].Trim() : min;
        return (min.Length == 0 ? null : min, range[0] == '[', max.Length == 0 ? null : max, range[^1] == ']');
    }

    /// <summary>Orders versions as NuGet does: by their numbers, and a prerelease before its release.</summary>
    internal static readonly Comparer<string> VersionOrder = Comparer<string>.Create(CompareVersions);

    static int CompareVersions(string a, string b)
    {
        static (long[] Numbers, string? Label) Split(string v)
        {
            v = v.Split('+')[0];
            var dash = v.IndexOf('-');
            var core = dash < 0 ? v : v[..dash];
            var numbers = core.Split('.').Select(p => long.TryParse(p, out var n) ? n : 0).ToList();
            while (numbers.Count < 4) numbers.Add(0);
            return ([.. numbers], dash < 0 ? null : v[(dash + 1)..]);
        }
        var (x, y) = (Split(a), Split(b));
        for (var i = 0; i < 4; i++)
            if (x.Numbers[i] != y.Numbers[i]) return x.Numbers[i].CompareTo(y.Numbers[i]);
        if (x.Label is null || y.Label is null) return (x.Label is null ? 1 : 0) - (y.Label is null ? 1 : 0);
        var (p, q) = (x.Label.Split('.'), y.Label.Split('.'));
        for (var i = 0; i < Math.Min(p.Length, q.Length); i++)
        {
            var (pn, qn) = (long.TryParse(p[i], out var m), long.TryParse(q[i], out var n));
            var c = pn && qn ? m.CompareTo(n) : pn != qn ? (pn ? -1 : 1) : string.Compare(p[i], q[i], StringComparison.OrdinalIgnoreCase);
            if (c != 0) return c;
        }
        return p.Length.CompareTo(q.Length);
    }

    enum FrameworkFamily { Net, NetStandard, Other }

    /// <summary>A target framework as far as choosing a dependency group needs: its family and version.</summary>
    sealed record Framework(FrameworkFamily Family, Version Version)
    {
        public static Framework? Parse(string name)
        {
            var n = name.Trim().ToLowerInvariant();
            if (n.Length == 0) return null;
            if (n.Contains('-')) return new(FrameworkFamily.Other, new());    // OS-specific (net8.0-windows): not for a plain project
            foreach (var (prefix, family) in new[] { (".netstandard", FrameworkFamily.NetStandard), ("netstandard", FrameworkFamily.NetStandard),
                         (".netcoreapp", FrameworkFamily.Net), ("netcoreapp", FrameworkFamily.Net) })
                if (n.StartsWith(prefix, StringComparison.Ordinal) && Version.TryParse(Pad(n[prefix.Length..]), out var v)) return new(family, v);
            // "net5.0" and later carry a dot; "net462" (no dot) and ".NETFramework4.6.2" are .NET Framework.
            if (n.StartsWith("net", StringComparison.Ordinal) && n.Contains('.') && Version.TryParse(n[3..], out var net) && net.Major >= 5)
                return new(FrameworkFamily.Net, net);
            return new(FrameworkFamily.Other, new());
        }

        static string Pad(string v) => v.Contains('.') ? v : v + ".0";

        /// <summary>Whether a package's group for this framework applies to a project for <paramref name="project"/> (a .NET).</summary>
        public bool IsCompatibleWith(Framework project) => Family switch
        {
            FrameworkFamily.Net => Version <= project.Version,
            FrameworkFamily.NetStandard => Version <= new Version(2, 1),
            _ => false,
        };
    }
}
