namespace RnnNotebooks.Data;

/// <summary>How <see cref="Datasets.Locate(string, DatasetOptions)"/> found a dataset folder, in the order the places are tried.</summary>
public enum LocationKind
{
    /// <summary>The path passed by the caller (<see cref="DatasetOptions.ExplicitPath"/>).</summary>
    Explicit,

    /// <summary><c>$RNN_DATA_DIR/&lt;name&gt;</c>.</summary>
    EnvironmentVariable,

    /// <summary><c>$RNN_PACK/datasets/&lt;name&gt;</c>, an offline pack written by <c>rnn pack</c>.</summary>
    Pack,

    /// <summary><c>&lt;ancestor&gt;/shared/datasets/&lt;name&gt;</c>, walking up from the working directory.</summary>
    SharedDatasets,

    /// <summary>The per-user download cache, <c>$XDG_CACHE_HOME/rnn-notebooks/datasets/&lt;name&gt;</c>.</summary>
    Cache,
}

/// <summary>Settings for locating, downloading and reading datasets. Every member is optional.</summary>
/// <param name="ExplicitPath">A folder that holds the dataset's files directly; it wins over every other place,
/// and <see cref="Datasets.Ensure(string, DatasetOptions)"/> downloads into it when it is incomplete.</param>
/// <param name="CacheDirectory">Replaces the per-user cache root (the folder that holds <c>&lt;name&gt;/</c>).</param>
/// <param name="SearchFrom">Where the walk up for <c>shared/datasets</c> starts; default: the working directory.</param>
/// <param name="SearchRoot">The last folder the walk up looks in (it must hold <paramref name="SearchFrom"/>); default: the
/// file-system root. A test that needs "no shared data anywhere" sets both to a folder of its own.</param>
/// <param name="MirrorBaseUrl">Download from <c>{MirrorBaseUrl}/{name}/{path}</c> instead of the canonical URLs,
/// e.g. a course mirror or a local test server with the same layout as <c>shared/datasets</c>.</param>
/// <param name="HttpClient">The client used for downloads; default: a shared client with a 5-minute timeout.</param>
/// <param name="MaxParallelDownloads">How many files are downloaded at once.</param>
/// <param name="Progress">Receives one report per file written during <see cref="Datasets.Ensure(string, DatasetOptions)"/>.</param>
/// <param name="AllowDownload">False: never use the network; a missing or wrong-size file is an error that names it.</param>
public sealed record DatasetOptions(
    string? ExplicitPath = null,
    string? CacheDirectory = null,
    string? SearchFrom = null,
    Uri? MirrorBaseUrl = null,
    HttpClient? HttpClient = null,
    int MaxParallelDownloads = 8,
    IProgress<DownloadProgress>? Progress = null,
    bool AllowDownload = true,
    string? SearchRoot = null)
{
    /// <summary>All defaults.</summary>
    public static DatasetOptions Default { get; } = new();
}

/// <summary>Where a dataset lives, how that place was found, and whether all its files are there.</summary>
/// <param name="Name">The dataset name.</param>
/// <param name="Directory">The dataset folder (when nothing was found: where a download would go).</param>
/// <param name="Kind">Which rule chose <paramref name="Directory"/>.</param>
/// <param name="IsPresent">Every registered file exists there with its registered size (no hashing).</param>
/// <param name="Searched">Every folder that was checked, in order, for error messages.</param>
public sealed record DatasetLocation(
    string Name,
    string Directory,
    LocationKind Kind,
    bool IsPresent,
    IReadOnlyList<string> Searched)
{
    /// <summary>The full local path of a file of this dataset.</summary>
    public string PathOf(string relativePath) =>
        System.IO.Path.Combine(Directory, relativePath.Replace('/', System.IO.Path.DirectorySeparatorChar));
}

/// <summary>A one-line summary of a dataset for notebook 00 and the CLI.</summary>
/// <param name="Name">The dataset name.</param>
/// <param name="IsPresent">All files exist with the right sizes at <paramref name="Directory"/>.</param>
/// <param name="Directory">Where it was found, or where a download would go.</param>
/// <param name="Kind">How <paramref name="Directory"/> was chosen.</param>
/// <param name="Files">Number of registered files.</param>
/// <param name="Bytes">Total registered size.</param>
/// <param name="Licence">Licence or terms of use.</param>
/// <param name="CanDownload">Whether <see cref="Datasets.Ensure(string, DatasetOptions)"/> can fetch every file.</param>
public sealed record DatasetStatus(
    string Name,
    bool IsPresent,
    string Directory,
    LocationKind Kind,
    int Files,
    long Bytes,
    string Licence,
    bool CanDownload);

/// <summary>What is wrong with one local file.</summary>
public enum FileProblemKind
{
    /// <summary>The file does not exist.</summary>
    Missing,

    /// <summary>The file has a different size from the registered one (often a truncated copy).</summary>
    WrongSize,

    /// <summary>The size matches but the SHA-256 does not.</summary>
    WrongChecksum,
}

/// <summary>One file that failed verification.</summary>
/// <param name="Path">Relative path in the dataset.</param>
/// <param name="Kind">What is wrong.</param>
/// <param name="Message">A full sentence naming the local file, the expected and the actual value, and the fix.</param>
public sealed record FileProblem(string Path, FileProblemKind Kind, string Message);

/// <summary>The result of <see cref="Datasets.Verify(string, DatasetOptions)"/>: every registered file hashed and compared.</summary>
/// <param name="Location">The copy that was checked.</param>
/// <param name="FilesChecked">Number of registered files.</param>
/// <param name="Problems">The files that failed, sorted by path; empty when the copy is good.</param>
public sealed record DatasetVerification(DatasetLocation Location, int FilesChecked, IReadOnlyList<FileProblem> Problems)
{
    /// <summary>True when every file exists with the registered size and SHA-256.</summary>
    public bool IsValid => Problems.Count == 0;

    /// <summary>Throws a <see cref="DatasetException"/> listing the first problems unless the copy is valid.</summary>
    public DatasetVerification ThrowIfInvalid()
    {
        if (IsValid)
        {
            return this;
        }

        var shown = string.Join(Environment.NewLine, Problems.Take(5).Select(p => "  " + p.Message));
        var more = Problems.Count > 5 ? $"{Environment.NewLine}  … and {Problems.Count - 5} more." : "";
        throw new DatasetException(Location.Name,
            $"{Location.Name} at {Location.Directory}: {Problems.Count} of {FilesChecked} files failed verification:"
            + Environment.NewLine + shown + more,
            Location.PathOf(Problems[0].Path));
    }
}

/// <summary>Progress of <see cref="Datasets.Ensure(string, DatasetOptions)"/>, reported after each file is written.</summary>
/// <param name="Dataset">The dataset name.</param>
/// <param name="Path">The file just written (relative path).</param>
/// <param name="FilesDone">Files written so far in this call.</param>
/// <param name="FilesTotal">Files this call has to write.</param>
/// <param name="BytesDone">Bytes written so far in this call.</param>
public sealed record DownloadProgress(string Dataset, string Path, int FilesDone, int FilesTotal, long BytesDone);
