using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.RegularExpressions;

namespace RnnNotebooks;

/// <summary>
/// Names for the temporary files and folders of atomic writes (<c>NAME.PID.GUID.tmp</c> beside their target), and the
/// removal of those a process left behind when it was killed in the middle of a write (a second Ctrl-C, SIGKILL, a power cut).
/// </summary>
/// <remarks>
/// <see cref="RemoveStale"/> never removes one a live writer may still be writing: it removes a temp file or folder only
/// when the process in its name is gone, or when that process started after the file was last written (the number
/// was reused, e.g. a container whose process is always number 1); a temp file of this very process only when no
/// write of this process holds it. Introduced in 00-getting-started.
/// </remarks>
public static partial class TempFiles
{
    static readonly ConcurrentDictionary<string, byte> Writing = new(StringComparer.Ordinal);

    // A process's start time is known only to the clock's resolution; a file written this close before it counts as its.
    static readonly TimeSpan StartSlack = TimeSpan.FromSeconds(2);

    /// <summary>A new temp path for <paramref name="target"/> (<c>TARGET.PID.GUID.tmp</c>), held as being written
    /// until <see cref="Release"/>.</summary>
    public static string Claim(string target)
    {
        ArgumentNullException.ThrowIfNull(target);
        var temp = $"{target}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp";
        Writing[Path.GetFullPath(temp)] = 0;
        return temp;
    }

    /// <summary>Ends the write of a path from <see cref="Claim"/>, deleting the file or folder if it is still there.</summary>
    public static void Release(string temp)
    {
        ArgumentNullException.ThrowIfNull(temp);
        try
        {
            if (File.Exists(temp)) File.Delete(temp);
            else if (Directory.Exists(temp)) Directory.Delete(temp, recursive: true);
        }
        finally
        {
            Writing.TryRemove(Path.GetFullPath(temp), out _);
        }
    }

    /// <summary>Deletes the temp files and folders in <paramref name="folder"/> that no live write can own (see the remarks);
    /// returns how many. One that cannot be deleted is left for a later call.</summary>
    /// <param name="folder">The folder the temp names are in (not searched below).</param>
    /// <param name="target">Only the temp names of this file or folder name, e.g. in a folder the user chose.</param>
    public static int RemoveStale(string folder, string? target = null)
    {
        ArgumentNullException.ThrowIfNull(folder);
        if (!Directory.Exists(folder)) return 0;
        var removed = 0;
        foreach (var path in Directory.EnumerateFileSystemEntries(folder, target is null ? "*.tmp" : target + ".*.tmp"))
        {
            var match = TempName().Match(Path.GetFileName(path));
            if (!match.Success || !int.TryParse(match.Groups[1].ValueSpan, out var pid)) continue;
            try
            {
                var isFolder = Directory.Exists(path);
                var written = isFolder ? LastWriteInside(path) : File.GetLastWriteTimeUtc(path);
                if (!IsStale(Path.GetFullPath(path), pid, written)) continue;
                if (isFolder) Directory.Delete(path, recursive: true);
                else File.Delete(path);
                removed++;
            }
            catch (IOException) { }
            catch (UnauthorizedAccessException) { }
        }
        return removed;
    }

    /// <summary>The latest write to a folder or anything in it.</summary>
    static DateTime LastWriteInside(string folder) =>
        Directory.EnumerateFileSystemEntries(folder, "*", SearchOption.AllDirectories)
            .Select(File.GetLastWriteTimeUtc).Append(Directory.GetLastWriteTimeUtc(folder)).Max();

    static bool IsStale(string path, int pid, DateTime lastWriteUtc)
    {
        if (pid == Environment.ProcessId) return !Writing.ContainsKey(path);
        try
        {
            using var process = Process.GetProcessById(pid);
            return process.HasExited || process.StartTime.ToUniversalTime() - StartSlack > lastWriteUtc;
        }
        catch (ArgumentException) { return true; }            // no such process
        catch (InvalidOperationException) { return true; }    // it exited while we looked
        catch (Exception e) when (e is System.ComponentModel.Win32Exception or NotSupportedException) { return false; }
    }

    [GeneratedRegex(@"\.(\d{1,10})\.[0-9a-f]{32}\.tmp$")]
    private static partial Regex TempName();
}
