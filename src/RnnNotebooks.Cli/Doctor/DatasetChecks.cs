namespace RnnNotebooks.Cli.Doctor;

/// <summary>One dataset as <c>rnn doctor</c> found it.</summary>
/// <param name="Name">The dataset name.</param>
/// <param name="Present">Every file is there with its registered size.</param>
/// <param name="Directory">Where it is, or where a download would go.</param>
/// <param name="Files">Number of registered files.</param>
/// <param name="Bytes">Total registered size.</param>
/// <param name="Problems">Files of a present copy that fail their SHA-256 (empty: all match).</param>
/// <param name="Source">A URL the dataset downloads from, or null when some of its files cannot be downloaded.</param>
/// <param name="Reachable">Whether <paramref name="Source"/> answered (null: not asked, the dataset is present).</param>
public sealed record DatasetState(
    string Name, bool Present, string Directory, int Files, long Bytes, IReadOnlyList<string> Problems, Uri? Source, bool? Reachable);

/// <summary>Each dataset present and matching <c>data/manifests/</c>, or downloadable from here.</summary>
public static class DatasetChecks
{
    public static Check Dataset(DatasetState d)
    {
        var name = $"dataset {d.Name}";
        var elsewhere = $"or copy the folder {d.Name}/ from a machine that has it and set {Data.Datasets.DataDirVariable} to its parent folder.";
        if (d.Present && d.Problems.Count == 0)
            return Check.Ok(name, $"{d.Files} file{(d.Files == 1 ? "" : "s")} in {d.Directory} {(d.Files == 1 ? "matches its" : "match their")} SHA-256.");
        if (d.Present)
            return Check.Fail(name, $"{d.Problems.Count} of {d.Files} files in {d.Directory} fail their SHA-256 (first: {d.Problems[0]}).",
                $"delete the files rnn data verify {d.Name} names and run rnn data fetch {d.Name}, {elsewhere}");
        if (d.Source is null)
            return Check.Fail(name, $"not found, and some of its files cannot be downloaded.", $"see rnn data list and data/manifests/, {elsewhere}");
        if (d.Reachable == true)
            return Check.Warn(name, $"not here yet; {d.Bytes / 1e6:F1} MB download when a lesson first needs it, from {d.Source.Host}.",
                $"rnn data fetch {d.Name} now (rnn data fetch --all before a class).");
        return Check.Fail(name, $"not found, and {d.Source.Host} cannot be reached from here.", $"rnn data fetch {d.Name} where there is internet, {elsewhere}");
    }
}
