namespace RnnNotebooks.Data;

/// <summary>
/// An offline pack: a folder written by <c>rnn pack</c> that a teacher copies to machines without internet. It holds
/// verified datasets, a local NuGet feed, the notebook tools and lesson 06's image features; setting
/// <c>RNN_PACK</c> to it makes the library find the datasets (<see cref="Datasets"/>) and the features there.
/// </summary>
/// <remarks>Layout: <c>datasets/&lt;name&gt;/</c>, <c>features/*.features</c>, <c>nuget/*.nupkg</c> (a folder feed that
/// also holds the tools' packages), <c>nuget.config</c> (that feed as the only source), <c>README.txt</c>,
/// <c>pack.json</c> (what is in it) and <c>SHA256SUMS</c> (every other file's SHA-256, in <c>sha256sum</c>'s format).
/// Not from a lesson: it serves classrooms without internet (docs/offline.md).</remarks>
public static class OfflinePack
{
    /// <summary>Environment variable naming the pack folder.</summary>
    public const string Variable = "RNN_PACK";

    /// <summary>The pack's dataset folders, one per dataset, laid out as <c>shared/datasets</c> is.</summary>
    public const string DatasetsFolder = "datasets";

    /// <summary>Lesson 06's feature caches, named as in <c>artifacts/cache/features</c>.</summary>
    public const string FeaturesFolder = "features";

    /// <summary>The folder feed of <c>.nupkg</c> files.</summary>
    public const string NuGetFolder = "nuget";

    /// <summary>The manifest of every file in the pack: <c>&lt;sha256&gt;  &lt;relative path&gt;</c> per line.</summary>
    public const string ChecksumsFile = "SHA256SUMS";

    /// <summary>What the pack holds and for which system, as JSON.</summary>
    public const string InfoFile = "pack.json";

    /// <summary>The pack named by <c>RNN_PACK</c> as a full path, or null when the variable is unset or blank.</summary>
    /// <exception cref="DirectoryNotFoundException">The variable names no folder; the message says what to do.</exception>
    public static string? Directory
    {
        get
        {
            var value = Environment.GetEnvironmentVariable(Variable);
            if (string.IsNullOrWhiteSpace(value)) return null;
            if (!System.IO.Directory.Exists(value))
                throw new DirectoryNotFoundException(
                    $"{Variable} is set to '{value}', which is not a folder. Point it at the folder `rnn pack` wrote (the one with "
                    + $"{InfoFile} and {DatasetsFolder}/), or unset it.");
            return Path.GetFullPath(value);
        }
    }

    /// <summary>Where the pack keeps <paramref name="dataset"/>: <c>$RNN_PACK/datasets/&lt;name&gt;</c>, or null without a pack.</summary>
    public static string? DatasetDirectory(string dataset) =>
        Directory is { } pack ? Path.Combine(pack, DatasetsFolder, dataset) : null;

    /// <summary>The pack's copy of a feature cache file (<c>&lt;name&gt;.features</c>), or null without a pack or without that file.</summary>
    public static string? FeatureFile(string fileName) =>
        Directory is { } pack && Path.Combine(pack, FeaturesFolder, fileName) is var path && File.Exists(path) ? path : null;
}
