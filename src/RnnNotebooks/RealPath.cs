namespace RnnNotebooks;

/// <summary>Where a path really leads once every symbolic link along it is followed.</summary>
/// <remarks>Introduced in 00-getting-started.</remarks>
public static class RealPath
{
    /// <summary>The absolute path with each symbolic link among its existing parts replaced by its target
    /// (the parts that do not exist yet are kept as written).</summary>
    public static string Of(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        var full = Path.TrimEndingDirectorySeparator(Path.GetFullPath(path));
        var root = Path.GetPathRoot(full)!;
        var resolved = root;
        var parts = full[root.Length..].Split(Path.DirectorySeparatorChar, StringSplitOptions.RemoveEmptyEntries);
        for (var i = 0; i < parts.Length; i++)
        {
            var next = Path.Combine(resolved, parts[i]);
            FileSystemInfo info = Directory.Exists(next) ? new DirectoryInfo(next) : new FileInfo(next);
            if (!info.Exists)
                return Path.Combine([resolved, .. parts[i..]]);
            resolved = info.LinkTarget is null ? next : Path.TrimEndingDirectorySeparator(Of(
                Path.IsPathRooted(info.LinkTarget) ? info.LinkTarget : Path.Combine(resolved, info.LinkTarget)));
        }
        return resolved;
    }

    /// <summary>Whether two paths lead to the same place, through symbolic links too.</summary>
    public static bool Same(string a, string b) =>
        string.Equals(Of(a), Of(b), OperatingSystem.IsWindows() || OperatingSystem.IsMacOS()
            ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal);
}
