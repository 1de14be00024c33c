namespace RnnNotebooks;

/// <summary>Writes files so that a reader never sees half of one: write a temp file beside it, then rename.</summary>
/// <remarks>Introduced in 00-getting-started.</remarks>
public static class AtomicFile
{
    /// <summary>Writes <paramref name="text"/> to <paramref name="path"/> atomically, creating the folder.</summary>
    public static void WriteAllText(string path, string text) =>
        Write(path, temp => File.WriteAllText(temp, text));

    /// <summary>Writes <paramref name="bytes"/> to <paramref name="path"/> atomically, creating the folder.</summary>
    public static void WriteAllBytes(string path, byte[] bytes) =>
        Write(path, temp => File.WriteAllBytes(temp, bytes));

    /// <summary>Lets <paramref name="write"/> fill a temp file, then moves it over <paramref name="path"/>.</summary>
    public static void Write(string path, Action<string> write)
    {
        var full = Path.GetFullPath(path);
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        var temp = TempFiles.Claim(full);
        try
        {
            write(temp);
            File.Move(temp, full, overwrite: true);
        }
        finally
        {
            TempFiles.Release(temp);
        }
    }
}
