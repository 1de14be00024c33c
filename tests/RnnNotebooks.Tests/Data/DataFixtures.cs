using System.Security.Cryptography;
using System.Text;
using RnnNotebooks.Data;

namespace RnnNotebooks.Tests.Data;

/// <summary>A fresh folder under the system temp directory, deleted on dispose.</summary>
internal sealed class TempDirectory : IDisposable
{
    public TempDirectory()
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "rnn-data-tests-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public string Combine(params string[] parts) => System.IO.Path.Combine([Path, .. parts]);

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}

/// <summary>A small made-up dataset, registered only inside the test, with its true bytes.</summary>
internal sealed class FixtureDataset
{
    private FixtureDataset(DatasetInfo info, IReadOnlyDictionary<string, byte[]> contents)
    {
        Info = info;
        Contents = contents;
    }

    public DatasetInfo Info { get; }

    public string Name => Info.Name;

    /// <summary>Relative path → the registered bytes.</summary>
    public IReadOnlyDictionary<string, byte[]> Contents { get; }

    /// <summary>Two text files, one in a subfolder, under a unique name so parallel tests never share one.</summary>
    public static FixtureDataset Create(FileFixup fixup = FileFixup.None) =>
        From(new Dictionary<string, byte[]>
        {
            ["input.txt"] = Encoding.UTF8.GetBytes("First Citizen:\nBefore we proceed any further, hear me speak.\n"),
            ["sub/notes.txt"] = Encoding.UTF8.GetBytes(string.Concat(Enumerable.Repeat("all work and no play\n", 5000))),
        }, fixup);

    /// <summary>A dataset made of exactly these files.</summary>
    public static FixtureDataset From(IReadOnlyDictionary<string, byte[]> contents, FileFixup fixup = FileFixup.None)
    {
        var files = contents
            .OrderBy(kv => kv.Key, StringComparer.Ordinal)
            .Select(kv => new DatasetFile(kv.Key, Sha256(kv.Value), kv.Value.Length, FileSource.Url,
                new Uri("https://example.invalid/never-used/" + kv.Key), fixup))
            .ToList();
        var info = new DatasetInfo("fixture-" + Guid.NewGuid().ToString("N")[..8], "A test dataset.", "Test licence.", "Tests.", files);
        return new FixtureDataset(info, contents);
    }

    /// <summary>Writes the registered bytes under <c>root/&lt;name&gt;/</c> and returns that folder.</summary>
    public string WriteTo(string root)
    {
        var dir = System.IO.Path.Combine(root, Name);
        foreach (var (path, bytes) in Contents)
        {
            var full = System.IO.Path.Combine(dir, path);
            Directory.CreateDirectory(System.IO.Path.GetDirectoryName(full)!);
            File.WriteAllBytes(full, bytes);
        }

        return dir;
    }

    public static string Sha256(byte[] bytes) => Convert.ToHexStringLower(SHA256.HashData(bytes));
}

/// <summary>Sets an environment variable for the lifetime of the object, then restores the old value.</summary>
internal sealed class EnvironmentVariableScope : IDisposable
{
    private readonly string name;
    private readonly string? previous;

    public EnvironmentVariableScope(string name, string? value)
    {
        this.name = name;
        previous = Environment.GetEnvironmentVariable(name);
        Environment.SetEnvironmentVariable(name, value);
    }

    public void Dispose() => Environment.SetEnvironmentVariable(name, previous);
}

/// <summary>Changes the working directory for the lifetime of the object, then restores it.</summary>
internal sealed class CurrentDirectoryScope : IDisposable
{
    private readonly string previous = Environment.CurrentDirectory;

    public CurrentDirectoryScope(string directory) => Environment.CurrentDirectory = directory;

    public void Dispose() => Environment.CurrentDirectory = previous;
}
