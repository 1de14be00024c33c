using System.Buffers.Binary;
using System.Text;
using RnnNotebooks.Audio;
using RnnNotebooks.Data;
using RnnNotebooks.Tests.Data;

namespace RnnNotebooks.Tests.Audio;

public sealed class WavFileTests : IDisposable
{
    readonly string dir = Directory.CreateTempSubdirectory("wav-tests").FullName;

    public void Dispose() => Directory.Delete(dir, recursive: true);

    /// <summary>A WAV file with any format fields and chunks, for malformed-input tests.</summary>
    internal static byte[] Build(ushort format = 1, ushort channels = 1, int rate = 8000, ushort bits = 16,
        byte[]? data = null, int? declaredDataSize = null, params (string Id, byte[] Body)[] extraChunks)
    {
        data ??= new byte[200];
        using var ms = new MemoryStream();
        using var w = new BinaryWriter(ms);
        w.Write(Encoding.ASCII.GetBytes("RIFF"));
        w.Write(0);
        w.Write(Encoding.ASCII.GetBytes("WAVEfmt "));
        w.Write(16);
        w.Write(format);
        w.Write(channels);
        w.Write(rate);
        w.Write(rate * channels * bits / 8);
        w.Write((ushort)(channels * bits / 8));
        w.Write(bits);
        foreach (var (id, body) in extraChunks)
        {
            w.Write(Encoding.ASCII.GetBytes(id));
            w.Write(body.Length);
            w.Write(body);
            if (body.Length % 2 == 1) w.Write((byte)0);
        }
        w.Write(Encoding.ASCII.GetBytes("data"));
        w.Write(declaredDataSize ?? data.Length);
        w.Write(data);
        w.Flush();
        var bytes = ms.ToArray();
        BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(4), bytes.Length - 8);
        return bytes;
    }

    string Save(byte[] bytes, string name = "x.wav")
    {
        var path = Path.Combine(dir, name);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    [Fact]
    public void WithSilence_PadsBothEndsWithZeros_AndLeavesTheClipAlone()
    {
        var clip = new AudioClip([0.5f, -0.25f, 0.125f], 8000);
        var padded = clip.WithSilence(0.001);   // 8 samples each side

        Assert.Equal(19, padded.Samples.Length);
        Assert.Equal(8000, padded.SampleRate);
        Assert.Equal(new float[] { 0.5f, -0.25f, 0.125f }, padded.Samples[8..11]);
        Assert.All(padded.Samples[..8].Concat(padded.Samples[11..]), v => Assert.Equal(0f, v));
        Assert.Equal(3, clip.Samples.Length);
        Assert.Equal(clip.Samples, clip.WithSilence(0).Samples);
        Assert.Equal("seconds", Assert.Throws<ArgumentOutOfRangeException>(() => clip.WithSilence(-1)).ParamName);
    }

    [Fact]
    public void WriteThenRead_GivesTheSamplesBack()
    {
        var samples = Enumerable.Range(0, 1000).Select(i => (float)(0.8 * Math.Sin(i * 0.05))).ToArray();
        var path = Path.Combine(dir, "tone.wav");
        WavFile.Write(path, new AudioClip(samples, 16000));

        var clip = WavFile.Read(path);

        Assert.Equal(16000, clip.SampleRate);
        Assert.Equal(samples.Length, clip.Samples.Length);
        Assert.All(samples.Zip(clip.Samples), p => Assert.True(Math.Abs(p.First - p.Second) <= 1.0 / 32768));
    }

    [Fact]
    public void Read_SkipsListChunkWithOddSize()
    {
        var data = new byte[] { 0x00, 0x40, 0x00, 0xC0 };                   // +16384, −16384
        var path = Save(Build(data: data, extraChunks: ("LIST", Encoding.ASCII.GetBytes("INFOISFT"+"x"))));

        var clip = WavFile.Read(path);

        Assert.Equal([0.5f, -0.5f], clip.Samples);
    }

    [Theory]
    [InlineData(1, 2, 16, "2 channels")]
    [InlineData(1, 1, 8, "8-bit PCM")]
    [InlineData(1, 1, 24, "24-bit PCM")]
    [InlineData(3, 1, 32, "IEEE float")]
    public void Read_RejectsOtherFormats_NamingFileAndFormat(int format, int channels, int bits, string found)
    {
        var path = Save(Build((ushort)format, (ushort)channels, bits: (ushort)bits), "odd.wav");

        var e = Assert.Throws<InvalidDataException>(() => WavFile.Read(path));

        Assert.Contains(path, e.Message);
        Assert.Contains(found, e.Message);
    }

    [Fact]
    public void Read_RejectsNonRiff()
    {
        var path = Save(Encoding.ASCII.GetBytes("ID3\u0004 this is an mp3, honestly"), "song.mp3");
        var e = Assert.Throws<InvalidDataException>(() => WavFile.Read(path));
        Assert.Contains(path, e.Message);
        Assert.Contains("RIFF", e.Message);
    }

    [Fact]
    public void Read_RejectsTruncatedDataChunk()
    {
        var path = Save(Build(data: new byte[100], declaredDataSize: 4000), "cut.wav");
        var e = Assert.Throws<InvalidDataException>(() => WavFile.Read(path));
        Assert.Contains("truncated", e.Message);
        Assert.Contains("4000", e.Message);
    }

    [Fact]
    public void Read_ChunkRunningPastTheEndOfTheFile_IsAnErrorNamingTheFileAndTheChunk()
    {
        var bytes = Build(extraChunks: ("LIST", new byte[10]));
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(40), 0xFFFFFFF0);   // the LIST chunk's size, after fmt
        var path = Save(bytes, "long-chunk.wav");

        var e = Assert.Throws<InvalidDataException>(() => WavFile.Read(path));

        Assert.Contains(path, e.Message);
        Assert.Contains("'LIST' chunk says 4294967280 bytes", e.Message);
    }

    [Fact]
    public void Read_StreamingDataSize_ReadsToTheEndOfTheFile()
    {
        var data = new byte[] { 0x00, 0x40, 0x00, 0xC0, 0x00, 0x20 };       // +16384, −16384, +8192
        var path = Save(Build(data: data, declaredDataSize: unchecked((int)0xFFFFFFFF)), "streamed.wav");

        Assert.Equal([0.5f, -0.5f, 0.25f], WavFile.Read(path).Samples);
    }

    [Fact]
    public void Read_EmptyDataChunk_OrADirectory_IsAnErrorNamingThePath()
    {
        var empty = Save(Build(data: []), "empty.wav");
        var e = Assert.Throws<InvalidDataException>(() => WavFile.Read(empty));
        Assert.Contains(empty, e.Message);
        Assert.Contains("data chunk is empty", e.Message);

        var folder = Directory.CreateDirectory(Path.Combine(dir, "takes.wav")).FullName;
        e = Assert.Throws<InvalidDataException>(() => WavFile.Read(folder));
        Assert.Contains(folder, e.Message);
        Assert.Contains("a directory, not a WAV file", e.Message);
    }

    [Fact]
    public void Read_FsddRecording_IsMono8kHz()
    {
        var location = RequiredData.Dataset("fsdd");
        var clip = WavFile.Read(location.PathOf("recordings/0_george_0.wav"));
        Assert.Equal(8000, clip.SampleRate);
        Assert.InRange(clip.Seconds, 0.14, 2.3);
        Assert.Contains(clip.Samples, s => Math.Abs(s) > 0.05);
    }
}
