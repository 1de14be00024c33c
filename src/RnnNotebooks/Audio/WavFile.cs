using System.Buffers.Binary;
using System.Text;

namespace RnnNotebooks.Audio;

/// <summary>Mono audio in memory: samples in [-1, 1) and the rate they were taken at.</summary>
/// <param name="Samples">One float per sample; 16-bit PCM value / 32768.</param>
/// <param name="SampleRate">Samples per second.</param>
/// <remarks>Introduced in 05-speech-recognition.</remarks>
public sealed record AudioClip(float[] Samples, int SampleRate)
{
    /// <summary>Length in seconds.</summary>
    public double Seconds => (double)Samples.Length / SampleRate;

    /// <summary>A copy with <paramref name="seconds"/> of digital silence before and after.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="seconds"/> is negative or not a number.</exception>
    public AudioClip WithSilence(double seconds)
    {
        if (!(seconds >= 0)) throw new ArgumentOutOfRangeException(nameof(seconds), seconds, "Silence must be 0 seconds or more.");
        var pad = (int)Math.Round(seconds * SampleRate);
        var padded = new float[Samples.Length + 2 * pad];
        Samples.CopyTo(padded, pad);
        return this with { Samples = padded };
    }

    /// <summary>The clip played <paramref name="factor"/> times faster at the same sample rate: <c>1 / factor</c> as
    /// long, every frequency (pitch and formants alike) times <paramref name="factor"/>, as speeding up a tape does
    /// (windowed-sinc resampling, <see cref="Resampler"/>). A factor of 1 returns a copy.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="factor"/> is not positive.</exception>
    public AudioClip WithSpeed(double factor)
    {
        if (!(factor > 0) || double.IsInfinity(factor))
            throw new ArgumentOutOfRangeException(nameof(factor), factor, "A speed factor must be a positive number (1 = unchanged).");
        return factor == 1
            ? this with { Samples = (float[])Samples.Clone() }
            : this with { Samples = Resampler.Resample(Samples, SampleRate, SampleRate / factor) };
    }
}

/// <summary>Reads and writes the one WAV flavour the course uses: RIFF/WAVE, PCM, 16 bits, one channel.</summary>
/// <remarks>
/// Chunks other than <c>fmt </c> and <c>data</c> (LIST, fact, cue…) are skipped. A data chunk whose size is
/// 0xFFFFFFFF (written by a recorder that streamed and never came back to fill it in) runs to the end of the file.
/// Anything else — stereo, 8/24/32-bit, IEEE float, a file that is not RIFF/WAVE, a chunk longer than what follows
/// it, an empty data chunk, a directory — throws <see cref="InvalidDataException"/> naming the file, what was found
/// and how to fix it.
/// Introduced in 05-speech-recognition.
/// </remarks>
public static class WavFile
{
    const ushort FormatPcm = 1;
    const ushort FormatFloat = 3;
    const ushort FormatExtensible = 0xFFFE;
    const string ConvertHint = "Convert it first, e.g. `ffmpeg -i IN -ac 1 -c:a pcm_s16le OUT.wav`.";

    /// <summary>Reads a mono 16-bit PCM WAV file.</summary>
    /// <exception cref="InvalidDataException">Not a mono 16-bit PCM RIFF/WAVE file, truncated, without audio, or a
    /// directory.</exception>
    public static AudioClip Read(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (Directory.Exists(path))
            throw new InvalidDataException($"{path}: a directory, not a WAV file. Name the WAV files in it instead, e.g. {Path.Combine(path, "*.wav")}.");
        return Read(File.ReadAllBytes(path), path);
    }

    /// <summary>The size a streaming recorder leaves in a data chunk it never finished: read to the end of the file.</summary>
    const uint StreamingSize = 0xFFFFFFFF;

    /// <summary>Reads WAV bytes; <paramref name="name"/> is used in error messages.</summary>
    public static AudioClip Read(ReadOnlySpan<byte> bytes, string name = "<wav>")
    {
        if (bytes.Length < 12 || !Tag(bytes, 0, "RIFF") || !Tag(bytes, 8, "WAVE"))
            throw new InvalidDataException(
                $"{name}: not a WAV file (expected a RIFF/WAVE header, found " +
                $"'{Printable(bytes[..Math.Min(4, bytes.Length)])}'). {ConvertHint}");

        int? channels = null, rate = null, bits = null;
        ushort format = 0;
        long pos = 12;                                                          // long: a chunk size can reach 4 GiB
        while (pos + 8 <= bytes.Length)
        {
            var at = (int)pos;
            var id = Encoding.ASCII.GetString(bytes.Slice(at, 4));
            var size = BinaryPrimitives.ReadUInt32LittleEndian(bytes.Slice(at + 4, 4));
            var body = at + 8;
            var available = bytes.Length - body;
            if (id == "data")
            {
                if (channels is null)
                    throw new InvalidDataException($"{name}: the data chunk comes before any fmt chunk; the file is damaged.");
                Check(name, format, channels.Value, bits!.Value, rate!.Value);
                if (size == StreamingSize) size = (uint)available;
                else if (size > available)
                    throw new InvalidDataException(
                        $"{name}: truncated: the data chunk says {size} bytes but only {available} follow. " +
                        "The file was cut off while copying or recording; get a complete copy.");
                var count = (int)(size / 2);
                if (count == 0)
                    throw new InvalidDataException($"{name}: the data chunk is empty: the file holds no audio. Record or export it again.");
                var samples = new float[count];
                var data = bytes.Slice(body, count * 2);
                for (var i = 0; i < count; i++)
                    samples[i] = BinaryPrimitives.ReadInt16LittleEndian(data[(2 * i)..]) / 32768f;
                return new AudioClip(samples, rate.Value);
            }
            if (size > available)
                throw new InvalidDataException(
                    $"{name}: the '{Printable(bytes.Slice(at, 4))}' chunk says {size} bytes but only {available} follow; " +
                    "the file is damaged or cut off. Get a complete copy, or convert it again, e.g. `ffmpeg -i IN -ac 1 -c:a pcm_s16le OUT.wav`.");
            if (id == "fmt ")
            {
                if (size < 16)
                    throw new InvalidDataException($"{name}: the fmt chunk is {size} bytes, expected at least 16; the file is damaged.");
                var fmt = bytes.Slice(body, 16);
                format = BinaryPrimitives.ReadUInt16LittleEndian(fmt);
                channels = BinaryPrimitives.ReadUInt16LittleEndian(fmt[2..]);
                rate = (int)BinaryPrimitives.ReadUInt32LittleEndian(fmt[4..]);
                bits = BinaryPrimitives.ReadUInt16LittleEndian(fmt[14..]);
                if (format == FormatExtensible && size >= 40)
                    format = BinaryPrimitives.ReadUInt16LittleEndian(bytes.Slice(body + 24, 2));
            }
            pos = body + (long)size + (size & 1);                               // chunks are padded to even sizes
        }
        throw new InvalidDataException(
            channels is null
                ? $"{name}: no fmt chunk; the file is truncated or not a WAV file."
                : $"{name}: no data chunk; the file is truncated.");
    }

    static void Check(string name, ushort format, int channels, int bits, int rate)
    {
        if (format == FormatFloat)
            throw new InvalidDataException($"{name}: expected 16-bit PCM WAV, got {bits}-bit IEEE float. {ConvertHint}");
        if (format != FormatPcm)
            throw new InvalidDataException($"{name}: expected 16-bit PCM WAV, got format code {format} (compressed audio). {ConvertHint}");
        if (bits != 16)
            throw new InvalidDataException($"{name}: expected 16-bit PCM WAV, got {bits}-bit PCM. {ConvertHint}");
        if (channels != 1)
            throw new InvalidDataException($"{name}: expected mono (1 channel), got {channels} channels. {ConvertHint}");
        if (rate <= 0)
            throw new InvalidDataException($"{name}: the sample rate is {rate}; the header is damaged.");
    }

    /// <summary>Writes <paramref name="clip"/> as mono 16-bit PCM (samples clipped to [-1, 1]), atomically.</summary>
    public static void Write(string path, AudioClip clip)
    {
        ArgumentNullException.ThrowIfNull(clip);
        AtomicFile.WriteAllBytes(path, ToBytes(clip));
    }

    /// <summary>The bytes of a mono 16-bit PCM WAV file holding <paramref name="clip"/>.</summary>
    public static byte[] ToBytes(AudioClip clip)
    {
        var n = clip.Samples.Length;
        var bytes = new byte[44 + 2 * n];
        var s = bytes.AsSpan();
        Encoding.ASCII.GetBytes("RIFF", s);
        BinaryPrimitives.WriteUInt32LittleEndian(s[4..], (uint)(36 + 2 * n));
        Encoding.ASCII.GetBytes("WAVEfmt ", s[8..]);
        BinaryPrimitives.WriteUInt32LittleEndian(s[16..], 16);
        BinaryPrimitives.WriteUInt16LittleEndian(s[20..], FormatPcm);
        BinaryPrimitives.WriteUInt16LittleEndian(s[22..], 1);
        BinaryPrimitives.WriteUInt32LittleEndian(s[24..], (uint)clip.SampleRate);
        BinaryPrimitives.WriteUInt32LittleEndian(s[28..], (uint)clip.SampleRate * 2);
        BinaryPrimitives.WriteUInt16LittleEndian(s[32..], 2);
        BinaryPrimitives.WriteUInt16LittleEndian(s[34..], 16);
        Encoding.ASCII.GetBytes("data", s[36..]);
        BinaryPrimitives.WriteUInt32LittleEndian(s[40..], (uint)(2 * n));
        for (var i = 0; i < n; i++)
        {
            var v = Math.Clamp(MathF.Round(clip.Samples[i] * 32768f), short.MinValue, short.MaxValue);
            BinaryPrimitives.WriteInt16LittleEndian(s[(44 + 2 * i)..], (short)v);
        }
        return bytes;
    }

    static bool Tag(ReadOnlySpan<byte> bytes, int at, string tag) =>
        Encoding.ASCII.GetString(bytes.Slice(at, 4)) == tag;

    static string Printable(ReadOnlySpan<byte> b) =>
        new([.. Encoding.ASCII.GetString(b).Select(c => char.IsControl(c) || c > 126 ? '?' : c)]);
}
