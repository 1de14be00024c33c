using System.Globalization;

namespace RnnNotebooks.Data;

/// <summary>
/// Reads the tab-separated manifests in data/manifests (embedded in the assembly):
/// <c>sha256, bytes, path, source, fixup</c> and optionally <c>served</c> (<c>sha256:bytes</c> of what the URL
/// serves when that differs from the course's copy, or <c>-</c>); source is an https URL, <c>manual</c> or <c>embedded</c>.
/// </summary>
internal static class Manifest
{
    private const string ResourcePrefix = "RnnNotebooks.Data.Manifests.";
    private const string EmbeddedPrefix = "RnnNotebooks.Data.Embedded.";

    /// <summary>Parses one manifest; <paramref name="origin"/> names it in error messages.</summary>
    public static IReadOnlyList<DatasetFile> Parse(TextReader reader, string origin)
    {
        var files = new List<DatasetFile>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var lineNumber = 0;
        while (reader.ReadLine() is { } line)
        {
            lineNumber++;
            if (line.Length == 0 || line.StartsWith('#'))
            {
                continue;
            }

            var where = $"{origin}:{lineNumber}";
            var cols = line.Split('\t');
            if (cols.Length is not (5 or 6))
            {
                throw new InvalidDataException($"{where}: expected 5 tab-separated columns (sha256, bytes, path, source, fixup, and optionally served), got {cols.Length}.");
            }

            var served = cols.Length == 6 ? ParseServed(cols[5], where) : null;

            var (sha, bytesText, path, sourceText, fixupText) = (cols[0], cols[1], cols[2], cols[3], cols[4]);
            if (!IsSha256(sha))
            {
                throw new InvalidDataException($"{where}: expected a 64-digit lower-case hex SHA-256, got '{sha}'.");
            }

            if (!long.TryParse(bytesText, NumberStyles.None, CultureInfo.InvariantCulture, out var bytes) || bytes <= 0)
            {
                throw new InvalidDataException($"{where}: expected a positive byte count, got '{bytesText}'.");
            }

            if (!IsSafeRelativePath(path))
            {
                throw new InvalidDataException($"{where}: expected a relative path with forward slashes and no '..', got '{path}'.");
            }

            if (!seen.Add(path))
            {
                throw new InvalidDataException($"{where}: path '{path}' is listed twice.");
            }

            var fixup = fixupText switch
            {
                "-" => FileFixup.None,
                "append-final-newline" => FileFixup.AppendFinalNewline,
                _ => throw new InvalidDataException($"{where}: expected fixup '-' or 'append-final-newline', got '{fixupText}'."),
            };

            files.Add(sourceText switch
            {
                "manual" => new DatasetFile(path, sha, bytes, FileSource.Manual, null, fixup),
                "embedded" => new DatasetFile(path, sha, bytes, FileSource.Embedded, null, fixup),
                _ when Uri.TryCreate(sourceText, UriKind.Absolute, out var url) && url.Scheme == Uri.UriSchemeHttps
                    => new DatasetFile(path, sha, bytes, FileSource.Url, url, fixup, served),
                _ => throw new InvalidDataException($"{where}: expected an https URL, 'manual' or 'embedded' as source, got '{sourceText}'."),
            });
        }

        files.Sort((a, b) => string.CompareOrdinal(a.Path, b.Path));
        return files;
    }

    /// <summary>Loads data/manifests/&lt;name&gt;.tsv from the assembly.</summary>
    public static IReadOnlyList<DatasetFile> Load(string name)
    {
        var resource = ResourcePrefix + name + ".tsv";
        using var stream = typeof(Manifest).Assembly.GetManifestResourceStream(resource)
            ?? throw new InvalidOperationException($"{resource}: manifest not embedded in {typeof(Manifest).Assembly.GetName().Name}.dll; check the EmbeddedResource items in RnnNotebooks.csproj.");
        using var reader = new StreamReader(stream);
        return Parse(reader, $"data/manifests/{name}.tsv");
    }

    /// <summary>The names of the manifests embedded in the assembly.</summary>
    public static IEnumerable<string> EmbeddedManifestNames() =>
        typeof(Manifest).Assembly.GetManifestResourceNames()
            .Where(n => n.StartsWith(ResourcePrefix, StringComparison.Ordinal) && n.EndsWith(".tsv", StringComparison.Ordinal))
            .Select(n => n[ResourcePrefix.Length..^".tsv".Length]);

    /// <summary>Opens a file shipped under data/embedded/&lt;dataset&gt;/&lt;path&gt;.</summary>
    public static Stream OpenEmbedded(string dataset, string path)
    {
        var assembly = typeof(Manifest).Assembly;
        var wanted = EmbeddedPrefix + dataset + "/" + path;
        // RecursiveDir uses the build machine's separator, so compare with forward slashes.
        var name = assembly.GetManifestResourceNames().FirstOrDefault(n => n.Replace('\\', '/') == wanted);
        return (name is null ? null : assembly.GetManifestResourceStream(name))
            ?? throw new InvalidOperationException($"{wanted}: file not embedded in {assembly.GetName().Name}.dll; check the EmbeddedResource items in RnnNotebooks.csproj.");
    }

    private static FileVersion? ParseServed(string text, string where)
    {
        if (text == "-")
        {
            return null;
        }

        var parts = text.Split(':');
        return parts.Length == 2 && IsSha256(parts[0])
            && long.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var bytes) && bytes > 0
            ? new FileVersion(parts[0], bytes)
            : throw new InvalidDataException($"{where}: expected '-' or 'sha256:bytes' in the served column, got '{text}'.");
    }

    internal static bool IsSha256(string s) =>
        s.Length == 64 && s.All(c => c is >= '0' and <= '9' or >= 'a' and <= 'f');

    private static bool IsSafeRelativePath(string path) =>
        path.Length > 0 && !path.StartsWith('/') && !path.Contains('\\') && !path.Contains(':')
        && path.Split('/').All(part => part.Length > 0 && part != "." && part != "..");
}
