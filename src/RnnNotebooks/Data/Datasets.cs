using System.Buffers.Binary;
using System.IO.Compression;
using System.Security.Cryptography;

namespace RnnNotebooks.Data;

/// <summary>
/// The one entry point for course data: which datasets exist (<see cref="All"/>), where a copy lives
/// (<see cref="Locate(string, DatasetOptions)"/>), fetching a missing one
/// (<see cref="Ensure(string, DatasetOptions)"/>), checking a copy (<see cref="Verify(string, DatasetOptions)"/>)
/// and reading its files (<see cref="ReadText(string, string, DatasetOptions)"/>,
/// <see cref="ReadZipText(string, string, string, DatasetOptions)"/>,
/// <see cref="ReadGzipText(string, string, DatasetOptions)"/>).
/// </summary>
/// <remarks>
/// A dataset is looked for, in order: <see cref="DatasetOptions.ExplicitPath"/>; <c>$RNN_DATA_DIR/&lt;name&gt;</c>;
/// <c>$RNN_PACK/datasets/&lt;name&gt;</c> (an offline pack, <see cref="OfflinePack"/>);
/// <c>&lt;ancestor&gt;/shared/datasets/&lt;name&gt;</c> for each ancestor of the working directory; the download
/// cache <c>$XDG_CACHE_HOME/rnn-notebooks/datasets/&lt;name&gt;</c> (default <c>~/.cache/…</c>).
/// Introduced in 00-setup.
/// </remarks>
public static class Datasets
{
    /// <summary>Environment variable naming a folder that contains dataset folders (<c>&lt;name&gt;/</c>).</summary>
    public const string DataDirVariable = "RNN_DATA_DIR";

    /// <summary>The registered datasets, in course order.</summary>
    public static IReadOnlyList<DatasetInfo> All => [.. DatasetCatalog.All.Values];

    /// <summary>The registered dataset names, in course order.</summary>
    public static IReadOnlyList<string> Names => [.. DatasetCatalog.All.Keys];

    /// <summary>The download cache root: <c>$XDG_CACHE_HOME/rnn-notebooks/datasets</c>, else <c>~/.cache/rnn-notebooks/datasets</c>.</summary>
    public static string CacheDirectory
    {
        get
        {
            var xdg = Environment.GetEnvironmentVariable("XDG_CACHE_HOME");
            var root = !string.IsNullOrWhiteSpace(xdg) && Path.IsPathRooted(xdg)
                ? xdg
                : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache");
            return Path.Combine(root, "rnn-notebooks", "datasets");
        }
    }

    /// <summary>The registry entry for <paramref name="name"/>.</summary>
    /// <exception cref="ArgumentException">No dataset has that name; the message lists the registered ones.</exception>
    public static DatasetInfo Get(string name) =>
        DatasetCatalog.All.TryGetValue(name, out var info)
            ? info
            : throw new ArgumentException($"Unknown dataset '{name}'. Registered datasets: {string.Join(", ", Names)}.", nameof(name));

    /// <summary>
    /// Finds the first place that holds every file of the dataset (existence and size only, no hashing).
    /// An explicit path is returned as is, complete or not. When no copy is found, the result points at the
    /// cache folder with <see cref="DatasetLocation.IsPresent"/> false.
    /// </summary>
    public static DatasetLocation Locate(string name, DatasetOptions? options = null) => Locate(Get(name), options);

    internal static DatasetLocation Locate(DatasetInfo info, DatasetOptions? options = null)
    {
        var name = info.Name;
        options ??= DatasetOptions.Default;
        var searched = new List<string>();
        foreach (var (kind, directory) in Candidates(name, options))
        {
            searched.Add(directory);
            var present = IsPresent(info, directory);
            if (present || kind == LocationKind.Explicit)
            {
                return new DatasetLocation(name, directory, kind, present, searched);
            }
        }

        return new DatasetLocation(name, CacheFolder(name, options), LocationKind.Cache, false, searched);
    }

    /// <summary>Like <see cref="EnsureAsync(string, DatasetOptions, CancellationToken)"/>, blocking until the files are in place.</summary>
    public static DatasetLocation Ensure(string name, DatasetOptions? options = null) => Ensure(Get(name), options);

    internal static DatasetLocation Ensure(DatasetInfo info, DatasetOptions? options = null) =>
        Task.Run(() => EnsureAsync(info, options)).GetAwaiter().GetResult();

    /// <summary>
    /// Returns a complete copy of the dataset, downloading what is missing when there is none: into the
    /// explicit path if one is given, otherwise into the cache. Every download is checked against the
    /// registered size and SHA-256 before it is moved into place. Files already in the target with the right
    /// size are kept.
    /// </summary>
    /// <exception cref="DatasetException">A download failed or did not match, or files that cannot be downloaded
    /// (flickr8k images) are missing; nothing is downloaded in that case and the message says how to get them.</exception>
    public static Task<DatasetLocation> EnsureAsync(string name, DatasetOptions? options = null, CancellationToken ct = default) =>
        EnsureAsync(Get(name), options, ct);

    internal static async Task<DatasetLocation> EnsureAsync(DatasetInfo info, DatasetOptions? options = null, CancellationToken ct = default)
    {
        options ??= DatasetOptions.Default;
        var name = info.Name;
        var location = Locate(info, options);
        if (location.IsPresent)
        {
            return location;
        }

        var (kind, target) = DownloadTarget(name, options);
        var missing = info.Files.Where(f => !HasRegisteredSize(target, f)).ToList();
        var manual = missing.Where(f => !f.CanDownload).ToList();
        if (manual.Count > 0)
        {
            throw ManualFilesMissing(info, target, manual, location.Searched);
        }

        if (!options.AllowDownload && missing.Count > 0)
        {
            throw DownloadsOff(info, target, missing, location.Searched);
        }

        await Downloader.FetchAllAsync(info, target, missing, options, ct).ConfigureAwait(false);
        return new DatasetLocation(name, target, kind, IsPresent(info, target), location.Searched);
    }

    /// <summary>
    /// The local path of one file, for readers. Uses the located copy when complete; otherwise the first place
    /// that has this file with the right size; otherwise downloads just this file (into the explicit path or the
    /// cache). flickr8k's captions can therefore be read without its images.
    /// </summary>
    public static string GetFile(string name, string relativePath, DatasetOptions? options = null) =>
        GetFile(Get(name), relativePath, options);

    internal static string GetFile(DatasetInfo info, string relativePath, DatasetOptions? options = null)
    {
        options ??= DatasetOptions.Default;
        var name = info.Name;
        var file = info.GetFile(relativePath);
        var location = Locate(info, options);
        if (location.IsPresent)
        {
            return location.PathOf(file.Path);
        }

        foreach (var (_, directory) in Candidates(name, options))
        {
            if (HasRegisteredSize(directory, file))
            {
                return PathIn(directory, file);
            }
        }

        var (_, target) = DownloadTarget(name, options);
        if (!file.CanDownload)
        {
            throw ManualFilesMissing(info, target, [file], location.Searched);
        }

        if (!options.AllowDownload)
        {
            throw DownloadsOff(info, target, [file], location.Searched);
        }

        Task.Run(() => Downloader.FetchAsync(info, file, target, options, CancellationToken.None)).GetAwaiter().GetResult();
        return PathIn(target, file);
    }

    /// <summary>
    /// Hashes every file of the located copy and compares sizes and SHA-256 with the registry. This reads the
    /// whole dataset (flickr8k: 8,096 files, 110 MB), so it is a separate call from <see cref="Locate(string, DatasetOptions)"/>.
    /// </summary>
    public static DatasetVerification Verify(string name, DatasetOptions? options = null) => Verify(Get(name), options);

    internal static DatasetVerification Verify(DatasetInfo info, DatasetOptions? options = null)
    {
        var location = Locate(info, options);
        var problems = new System.Collections.Concurrent.ConcurrentBag<FileProblem>();
        Parallel.ForEach(info.Files, new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount }, file =>
        {
            if (Check(info, location.PathOf(file.Path), file) is { } problem)
            {
                problems.Add(problem);
            }
        });
        return new DatasetVerification(location, info.Files.Count, [.. problems.OrderBy(p => p.Path, StringComparer.Ordinal)]);
    }

    /// <summary>One cheap line per registered dataset: where it is and whether it is complete (no hashing).</summary>
    public static IReadOnlyList<DatasetStatus> Status(DatasetOptions? options = null) =>
    [
        .. All.Select(info =>
        {
            var location = Locate(info, options);
            return new DatasetStatus(info.Name, location.IsPresent, location.Directory, location.Kind,
                info.Files.Count, info.TotalBytes, info.Licence, info.CanDownload);
        }),
    ];

    /// <summary>A whole text file of a dataset, as UTF-8, e.g. <c>ReadText("timemachine", "timemachine.txt")</c>.</summary>
    public static string ReadText(string name, string relativePath, DatasetOptions? options = null) =>
        ReadText(Get(name), relativePath, options);

    internal static string ReadText(DatasetInfo info, string relativePath, DatasetOptions? options = null) =>
        File.ReadAllText(GetFile(info, relativePath, options));

    /// <summary>
    /// One member of a zip file of a dataset, as UTF-8 text, e.g. <c>ReadZipText("ptb", "ptb.zip", "ptb/ptb.train.txt")</c>
    /// or <c>ReadZipText("fra-eng", "fra-eng.zip", "fra.txt")</c>.
    /// </summary>
    /// <exception cref="DatasetException">The zip is truncated or corrupt, or has no such member.</exception>
    public static string ReadZipText(string name, string zipPath, string entryName, DatasetOptions? options = null) =>
        ReadZipText(Get(name), zipPath, entryName, options);

    internal static string ReadZipText(DatasetInfo info, string zipPath, string entryName, DatasetOptions? options = null) =>
        ReadZipFile(info, GetFile(info, zipPath, options), zipPath, entryName);

    /// <summary>A gzip-compressed text file of a dataset, decompressed, e.g. <c>ReadGzipText("multi30k", "task1/raw/train.de.gz")</c>.</summary>
    /// <exception cref="DatasetException">The file is not valid gzip (truncated or corrupt).</exception>
    public static string ReadGzipText(string name, string relativePath, DatasetOptions? options = null) =>
        ReadGzipText(Get(name), relativePath, options);

    internal static string ReadGzipText(DatasetInfo info, string relativePath, DatasetOptions? options = null) =>
        ReadGzipFile(info, GetFile(info, relativePath, options), relativePath);

    internal static string ReadZipFile(DatasetInfo info, string path, string zipPath, string entryName)
    {
        try
        {
            using var zip = ZipFile.OpenRead(path);
            var entry = zip.GetEntry(entryName)
                ?? throw new DatasetException(info.Name,
                    $"{path}: no member '{entryName}'. Members: {string.Join(", ", zip.Entries.Select(e => e.FullName))}.", path);
            using var reader = new StreamReader(entry.Open());
            return reader.ReadToEnd();
        }
        catch (InvalidDataException ex)
        {
            throw Corrupt(info, path, zipPath, "zip archive", ex);
        }
    }

    internal static string ReadGzipFile(DatasetInfo info, string path, string relativePath)
    {
        try
        {
            using var file = File.OpenRead(path);
            using var text = new MemoryStream();
            using (var gzip = new GZipStream(file, CompressionMode.Decompress, leaveOpen: true))
            {
                gzip.CopyTo(text);
            }

            // GZipStream stops quietly at the end of a truncated file. The gzip trailer's last 4 bytes hold the
            // decompressed size mod 2^32 (of the last member; every registered .gz has one member), so a cut-off
            // file almost surely disagrees with what was decompressed.
            if (file.Length < 18)
            {
                throw new InvalidDataException($"{file.Length} bytes is shorter than any gzip file");
            }

            var trailer = new byte[4];
            file.Seek(-4, SeekOrigin.End);
            file.ReadExactly(trailer);
            var listed = BinaryPrimitives.ReadUInt32LittleEndian(trailer);
            if (listed != (uint)text.Length)
            {
                throw new InvalidDataException($"the data ends early: decompressed {text.Length} bytes, the gzip trailer says {listed}");
            }

            text.Position = 0;
            using var reader = new StreamReader(text);
            return reader.ReadToEnd();
        }
        catch (InvalidDataException ex)
        {
            throw Corrupt(info, path, relativePath, "gzip file", ex);
        }
    }

    private static DatasetException Corrupt(DatasetInfo info, string path, string relativePath, string what, Exception inner)
    {
        var expected = info.Files.FirstOrDefault(f => f.Path == relativePath.Replace('\\', '/'));
        var sizes = expected is null ? "" : $" Expected {expected.Bytes} bytes with SHA-256 {expected.Sha256}; the file has {new FileInfo(path).Length} bytes.";
        return new DatasetException(info.Name,
            $"{path}: not a readable {what} ({inner.Message}).{sizes} The file is truncated or corrupt; delete it and "
            + $"run Datasets.Ensure(\"{info.Name}\") again, or set {DataDirVariable} to a folder holding a verified copy of {info.Name}/.",
            path, inner: inner);
    }

    internal static bool IsPresent(DatasetInfo info, string directory) =>
        Directory.Exists(directory) && info.Files.All(f => HasRegisteredSize(directory, f));

    private static bool HasRegisteredSize(string directory, DatasetFile file)
    {
        var fileInfo = new FileInfo(PathIn(directory, file));
        return fileInfo.Exists && file.Accepted.Any(v => v.Bytes == fileInfo.Length);
    }

    private static string PathIn(string directory, DatasetFile file) =>
        Path.Combine(directory, file.Path.Replace('/', Path.DirectorySeparatorChar));

    private static string CacheFolder(string name, DatasetOptions options) =>
        Path.GetFullPath(Path.Combine(options.CacheDirectory ?? CacheDirectory, name));

    private static (LocationKind Kind, string Directory) DownloadTarget(string name, DatasetOptions options) =>
        options.ExplicitPath is { } explicitPath
            ? (LocationKind.Explicit, Path.GetFullPath(explicitPath))
            : (LocationKind.Cache, CacheFolder(name, options));

    /// <summary>The places tried, in order. With an explicit path, only that one.</summary>
    private static IEnumerable<(LocationKind Kind, string Directory)> Candidates(string name, DatasetOptions options)
    {
        if (options.ExplicitPath is { } explicitPath)
        {
            yield return (LocationKind.Explicit, Path.GetFullPath(explicitPath));
            yield break;
        }

        var dataDir = Environment.GetEnvironmentVariable(DataDirVariable);
        if (!string.IsNullOrWhiteSpace(dataDir))
        {
            if (!Directory.Exists(dataDir))
            {
                throw new DatasetException(name,
                    $"{DataDirVariable} is set to '{dataDir}', which is not a folder. Point it at the folder that contains "
                    + $"the dataset folders ({name}/ and the others), or unset it to use shared/datasets and the download cache.",
                    dataDir);
            }

            yield return (LocationKind.EnvironmentVariable, Path.GetFullPath(Path.Combine(dataDir, name)));
        }

        string? packed;
        try
        {
            packed = OfflinePack.DatasetDirectory(name);
        }
        catch (DirectoryNotFoundException ex)
        {
            throw new DatasetException(name, ex.Message, Environment.GetEnvironmentVariable(OfflinePack.Variable), inner: ex);
        }

        if (packed is not null)
        {
            yield return (LocationKind.Pack, packed);
        }

        var root = options.SearchRoot is null ? null : Path.TrimEndingDirectorySeparator(Path.GetFullPath(options.SearchRoot));
        for (var dir = new DirectoryInfo(options.SearchFrom ?? Environment.CurrentDirectory); dir is not null; dir = dir.Parent)
        {
            var shared = Path.Combine(dir.FullName, "shared", "datasets", name);
            if (Directory.Exists(shared))
            {
                yield return (LocationKind.SharedDatasets, shared);
            }

            if (root is not null && Path.TrimEndingDirectorySeparator(dir.FullName) == root)
            {
                break;
            }
        }

        yield return (LocationKind.Cache, CacheFolder(name, options));
    }

    private static FileProblem? Check(DatasetInfo info, string path, DatasetFile file)
    {
        var fix = file.CanDownload
            ? $"delete it and run Datasets.Ensure(\"{info.Name}\") again, or set {DataDirVariable} to a verified copy."
            : $"replace it with a verified copy (see Datasets.Get(\"{info.Name}\").ManualInstructions).";
        var fileInfo = new FileInfo(path);
        if (!fileInfo.Exists)
        {
            var get = file.CanDownload
                ? $"Run Datasets.Ensure(\"{info.Name}\") to download it, or set {DataDirVariable} to a complete copy."
                : info.ManualInstructions;
            return new FileProblem(file.Path, FileProblemKind.Missing,
                $"{path}: missing (expected {file.Bytes} bytes, SHA-256 {file.Sha256}). {get}");
        }

        if (file.Accepted.All(v => v.Bytes != fileInfo.Length))
        {
            return new FileProblem(file.Path, FileProblemKind.WrongSize,
                $"{path}: size mismatch, expected {file.Bytes} bytes, got {fileInfo.Length}; the file is probably truncated. Fix: {fix}");
        }

        string actual;
        using (var stream = File.OpenRead(path))
        {
            actual = Convert.ToHexStringLower(SHA256.HashData(stream));
        }

        return file.Accepted.Any(v => v.Sha256 == actual && v.Bytes == fileInfo.Length)
            ? null
            : new FileProblem(file.Path, FileProblemKind.WrongChecksum,
                $"{path}: SHA-256 mismatch, expected {file.Sha256}, got {actual}. The file may be corrupt or the upstream "
                + $"file changed. Fix: {fix}");
    }

    private static DatasetException DownloadsOff(DatasetInfo info, string target, IReadOnlyList<DatasetFile> files, IReadOnlyList<string> searched)
    {
        var first = PathIn(target, files[0]);
        var size = new FileInfo(first) is { Exists: true } found
            ? $"has {found.Length} bytes, expected {files[0].Bytes} (truncated?)"
            : "is missing";
        var others = files.Count == 1 ? "" : $" ({files.Count - 1} other files are missing or the wrong size too)";
        return new DatasetException(info.Name,
            $"{first} {size}{others}, and downloads are off (AllowDownload = false). Looked in: {string.Join("; ", searched)}. "
            + $"Copy a verified {info.Name}/ folder there, set {DataDirVariable} to the folder that contains one, or allow downloads.",
            first);
    }

    private static DatasetException ManualFilesMissing(DatasetInfo info, string target, IReadOnlyList<DatasetFile> files, IReadOnlyList<string> searched)
    {
        var first = PathIn(target, files[0]);
        var count = files.Count == 1 ? "is missing" : $"and {files.Count - 1} other files are missing";
        return new DatasetException(info.Name,
            $"{first} {count} and cannot be downloaded automatically. Looked in: {string.Join("; ", searched)}. "
            + info.ManualInstructions,
            first);
    }
}
