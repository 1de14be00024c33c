using System.Text;

namespace RnnNotebooks.Text;

/// <summary>Reads a user's text file the way the course expects it: UTF-8, with <c>\n</c> line ends.</summary>
/// <remarks>Introduced in 03-language-modeling.</remarks>
public static class TextFile
{
    static readonly UTF8Encoding Strict = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>
    /// The text of <paramref name="path"/> decoded as UTF-8 (a leading byte-order mark dropped), with Windows
    /// (<c>\r\n</c>) and old Mac (<c>\r</c>) line ends turned into <c>\n</c>, so a file saved on any system gives the
    /// same characters.
    /// </summary>
    /// <exception cref="FileNotFoundException">No such file (or a directory was given).</exception>
    /// <exception cref="InvalidDataException">The file is not UTF-8; the message names the first bad byte and how to convert it.</exception>
    public static string ReadUtf8(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (Directory.Exists(path))
            throw new FileNotFoundException($"{path}: is a directory, not a file. Give the path of a text file inside it.", path);
        if (!File.Exists(path))
            throw new FileNotFoundException($"{path}: no such file.", path);
        var bytes = File.ReadAllBytes(path);
        var start = bytes.AsSpan().StartsWith(Encoding.UTF8.Preamble) ? Encoding.UTF8.Preamble.Length : 0;
        string text;
        try
        {
            text = Strict.GetString(bytes, start, bytes.Length - start);
        }
        catch (DecoderFallbackException e)
        {
            var offset = start + Math.Max(0, e.Index);
            throw new InvalidDataException(
                $"{path}: not UTF-8 (byte 0x{bytes[Math.Min(offset, bytes.Length - 1)]:X2} at offset {offset} is not valid UTF-8; " +
                "the file is probably Latin-1 or Windows-1252). Convert it to UTF-8, e.g. `iconv -f latin1 -t utf-8 FILE > FILE.utf8`, " +
                "and give the converted file.", e);
        }
        return text.Contains('\r') ? text.Replace("\r\n", "\n").Replace('\r', '\n') : text;
    }
}
