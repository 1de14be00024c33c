namespace RnnNotebooks.Data;

/// <summary>A registered dataset: what it is, its terms of use and every file it is made of.</summary>
/// <param name="Name">Folder name and registry key, e.g. <c>tinyshakespeare</c>.</param>
/// <param name="Description">One sentence on what the data is.</param>
/// <param name="Licence">The licence or terms of use, as far as they are known.</param>
/// <param name="Attribution">Whom to credit or cite.</param>
/// <param name="Files">Every registered file, sorted by path.</param>
/// <param name="ManualInstructions">How to obtain the files that cannot be downloaded automatically, if any.</param>
/// <remarks>Introduced in 00-setup.</remarks>
public sealed record DatasetInfo(
    string Name,
    string Description,
    string Licence,
    string Attribution,
    IReadOnlyList<DatasetFile> Files,
    string? ManualInstructions = null)
{
    /// <summary>Sum of the registered file sizes.</summary>
    public long TotalBytes => Files.Sum(f => f.Bytes);

    /// <summary>True when every file can be fetched by <see cref="Datasets.Ensure(string, DatasetOptions)"/>.</summary>
    public bool CanDownload => Files.All(f => f.CanDownload);

    /// <summary>The registered file with this relative path.</summary>
    /// <exception cref="DatasetException">The dataset has no such file.</exception>
    public DatasetFile GetFile(string relativePath)
    {
        var wanted = relativePath.Replace('\\', '/');
        return Files.FirstOrDefault(f => f.Path == wanted)
            ?? throw new DatasetException(Name,
                $"{Name}: no registered file '{relativePath}'. Registered files include: "
                + string.Join(", ", Files.Take(8).Select(f => f.Path)) + (Files.Count > 8 ? ", …" : "") + ".");
    }
}
