namespace RnnNotebooks.Data;

/// <summary>Where the bytes of a registered file can come from.</summary>
public enum FileSource
{
    /// <summary>A raw-file URL at a pinned upstream commit.</summary>
    Url,

    /// <summary>Shipped inside RnnNotebooks.dll (a small file with no upstream copy of these bytes).</summary>
    Embedded,

    /// <summary>No public URL serves these bytes; the user must copy them in (see <see cref="DatasetInfo.ManualInstructions"/>).</summary>
    Manual,
}

/// <summary>A byte-level change applied to a download before it is checked against the manifest.</summary>
public enum FileFixup
{
    /// <summary>The download is used as is.</summary>
    None,

    /// <summary>The upstream file lacks a final newline; one is appended when missing.</summary>
    AppendFinalNewline,
}

/// <summary>One file of a dataset, as recorded in the registry.</summary>
/// <param name="Path">Path relative to the dataset folder, with forward slashes (e.g. <c>recordings/0_george_0.wav</c>).</param>
/// <param name="Sha256">Lower-case hex SHA-256 of the file's bytes.</param>
/// <param name="Bytes">Size in bytes.</param>
/// <param name="Source">Where the bytes come from.</param>
/// <param name="Url">Canonical download URL when <paramref name="Source"/> is <see cref="FileSource.Url"/>.</param>
/// <param name="Fixup">Change applied to the downloaded bytes before checking them.</param>
/// <param name="Served">What the URL serves when it is not the course's copy (flickr8k's photos: the course
/// re-encoded them smaller, the source serves the originals): a download is checked against this, and a file
/// matching either this or <paramref name="Sha256"/>/<paramref name="Bytes"/> is accepted.</param>
public sealed record DatasetFile(
    string Path,
    string Sha256,
    long Bytes,
    FileSource Source,
    Uri? Url = null,
    FileFixup Fixup = FileFixup.None,
    FileVersion? Served = null)
{
    /// <summary>The versions of the file that are accepted: the course's copy, then what the source serves.</summary>
    public IReadOnlyList<FileVersion> Accepted =>
        Served is null ? [new(Sha256, Bytes)] : [new(Sha256, Bytes), Served];

    /// <summary>The version a download must match.</summary>
    internal FileVersion Downloaded => Served ?? new(Sha256, Bytes);

    /// <summary>True when <see cref="Datasets.Ensure(string, DatasetOptions)"/> can fetch this file without the user's help.</summary>
    public bool CanDownload => Source != FileSource.Manual;
}

/// <summary>One accepted version of a dataset file.</summary>
/// <param name="Sha256">Lower-case hex SHA-256.</param>
/// <param name="Bytes">Size in bytes.</param>
public sealed record FileVersion(string Sha256, long Bytes);
