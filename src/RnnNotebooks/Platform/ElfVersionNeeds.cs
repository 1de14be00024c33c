using System.Buffers.Binary;
using System.Text;

namespace RnnNotebooks.Platform;

/// <summary>One entry of an ELF file's <c>.gnu.version_r</c> table: "this library needs version X of file Y".</summary>
/// <param name="File">The library the version is needed from, e.g. <c>libstdc++.so.6</c>.</param>
/// <param name="Version">The version name, e.g. <c>GLIBCXX_3.4.32</c>.</param>
/// <param name="IsWeak">True when the entry carries <c>VER_FLG_WEAK</c>: the loader only notes its absence.</param>
public sealed record VersionNeed(string File, string Version, bool IsWeak);

/// <summary>
/// Reads and edits the version-needs table of a 64-bit little-endian ELF shared library.
/// </summary>
/// <remarks>
/// TorchSharp 0.107's <c>libLibTorchSharp.so</c> was linked by GCC 13 and asks for <c>GLIBCXX_3.4.32</c>
/// only because of a link-time marker symbol (<c>std::ios_base_library_init()</c>) that is never called.
/// Marking that one need weak lets the library load on GCC-12 systems (Debian 12, Ubuntu 22.04).
/// Introduced in 00-getting-started.
/// </remarks>
public static class ElfVersionNeeds
{
    const uint ShtGnuVerneed = 0x6ffffffe;
    const ushort VerFlagWeak = 0x2;

    /// <summary>Lists every version need in the library at <paramref name="path"/>.</summary>
    public static IReadOnlyList<VersionNeed> Read(string path)
    {
        var bytes = File.ReadAllBytes(path);
        return Walk(bytes, path).Select(e => e.Need).ToList();
    }

    /// <summary>
    /// Marks the need for <paramref name="version"/> weak. Returns true when the file was changed,
    /// false when there was no such need or it was already weak. The new file is written beside the old
    /// one and renamed over it, so a process that has the library mapped keeps its copy intact.
    /// </summary>
    public static bool MakeWeak(string path, string version)
    {
        var bytes = File.ReadAllBytes(path);
        var changed = false;
        foreach (var entry in Walk(bytes, path))
        {
            if (entry.Need.Version != version || entry.Need.IsWeak) continue;
            var flags = BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(entry.FlagsOffset));
            BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(entry.FlagsOffset), (ushort)(flags | VerFlagWeak));
            changed = true;
        }
        if (!changed) return false;

        AtomicFile.Write(path, temp =>
        {
            File.WriteAllBytes(temp, bytes);
            if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(temp, File.GetUnixFileMode(path));
        });
        return true;
    }

    readonly record struct Entry(VersionNeed Need, int FlagsOffset);

    static IEnumerable<Entry> Walk(byte[] b, string path)
    {
        if (b.Length < 64 || b[0] != 0x7f || b[1] != (byte)'E' || b[2] != (byte)'L' || b[3] != (byte)'F')
            throw new InvalidDataException($"{path}: not an ELF file.");
        if (b[4] != 2 || b[5] != 1)
            throw new InvalidDataException($"{path}: expected a 64-bit little-endian ELF file (class {b[4]}, data {b[5]}).");

        var s = b.AsSpan();
        var shoff = checked((int)BinaryPrimitives.ReadUInt64LittleEndian(s[0x28..]));
        int shentsize = BinaryPrimitives.ReadUInt16LittleEndian(s[0x3A..]);
        int shnum = BinaryPrimitives.ReadUInt16LittleEndian(s[0x3C..]);
        if (shoff <= 0 || shoff + (long)shnum * shentsize > b.Length)
            throw new InvalidDataException($"{path}: section header table lies outside the file; the file is truncated.");

        var entries = new List<Entry>();
        for (var i = 0; i < shnum; i++)
        {
            var sh = shoff + i * shentsize;
            if (BinaryPrimitives.ReadUInt32LittleEndian(s[(sh + 4)..]) != ShtGnuVerneed) continue;

            var offset = checked((int)BinaryPrimitives.ReadUInt64LittleEndian(s[(sh + 24)..]));
            var link = (int)BinaryPrimitives.ReadUInt32LittleEndian(s[(sh + 40)..]);
            var count = (int)BinaryPrimitives.ReadUInt32LittleEndian(s[(sh + 44)..]);
            var strtab = checked((int)BinaryPrimitives.ReadUInt64LittleEndian(s[(shoff + link * shentsize + 24)..]));

            var vn = offset;
            for (var n = 0; n < count; n++)
            {
                int auxCount = BinaryPrimitives.ReadUInt16LittleEndian(s[(vn + 2)..]);
                var file = CString(b, strtab + (int)BinaryPrimitives.ReadUInt32LittleEndian(s[(vn + 4)..]));
                var aux = vn + (int)BinaryPrimitives.ReadUInt32LittleEndian(s[(vn + 8)..]);
                for (var a = 0; a < auxCount; a++)
                {
                    var flags = BinaryPrimitives.ReadUInt16LittleEndian(s[(aux + 4)..]);
                    var name = CString(b, strtab + (int)BinaryPrimitives.ReadUInt32LittleEndian(s[(aux + 8)..]));
                    entries.Add(new Entry(new VersionNeed(file, name, (flags & VerFlagWeak) != 0), aux + 4));
                    aux += (int)BinaryPrimitives.ReadUInt32LittleEndian(s[(aux + 12)..]);
                }
                var next = (int)BinaryPrimitives.ReadUInt32LittleEndian(s[(vn + 12)..]);
                if (next == 0) break;
                vn += next;
            }
        }
        return entries;
    }

    static string CString(byte[] b, int start)
    {
        var end = Array.IndexOf(b, (byte)0, start);
        if (end < 0) throw new InvalidDataException("Unterminated string in ELF string table.");
        return Encoding.ASCII.GetString(b, start, end - start);
    }
}
