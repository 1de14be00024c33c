using System.IO.Compression;
using System.Text;
using RnnNotebooks.Data;

namespace RnnNotebooks.Tests.Data;

public sealed class ReaderTests : IDisposable
{
    private const string Train = "the cat sat on the mat\n a dog <unk> N years\n";

    private readonly TempDirectory temp = new();

    public void Dispose() => temp.Dispose();

    private static byte[] ZipOf(params (string Name, string Text)[] members)
    {
        using var buffer = new MemoryStream();
        using (var zip = new ZipArchive(buffer, ZipArchiveMode.Create, leaveOpen: true))
        {
            foreach (var (name, text) in members)
            {
                using var writer = new StreamWriter(zip.CreateEntry(name).Open());
                writer.Write(string.Concat(Enumerable.Repeat(text, 200)));
            }
        }

        return buffer.ToArray();
    }

    private static byte[] GzipOf(string text)
    {
        using var buffer = new MemoryStream();
        using (var gzip = new GZipStream(buffer, CompressionLevel.Optimal, leaveOpen: true))
        {
            gzip.Write(Encoding.UTF8.GetBytes(text));
        }

        return buffer.ToArray();
    }

    private (FixtureDataset Fixture, DatasetOptions Options) Local(Dictionary<string, byte[]> contents)
    {
        var fixture = FixtureDataset.From(contents);
        return (fixture, new DatasetOptions(ExplicitPath: fixture.WriteTo(temp.Path), AllowDownload: false));
    }

    [Fact]
    public void ReadText_LocalCopy_ReturnsContents()
    {
        var (fixture, options) = Local(new() { ["a.txt"] = Encoding.UTF8.GetBytes("Zwei junge weiße Männer\n") });

        Assert.Equal("Zwei junge weiße Männer\n", Datasets.ReadText(fixture.Info, "a.txt", options));
    }

    [Fact]
    public void ReadZipText_Member_ReturnsText()
    {
        var (fixture, options) = Local(new() { ["ptb.zip"] = ZipOf(("ptb/ptb.train.txt", Train), ("ptb/ptb.valid.txt", "v\n")) });

        var text = Datasets.ReadZipText(fixture.Info, "ptb.zip", "ptb/ptb.train.txt", options);

        Assert.Equal(string.Concat(Enumerable.Repeat(Train, 200)), text);
    }

    [Fact]
    public void ReadZipText_MissingMember_ListsMembers()
    {
        var (fixture, options) = Local(new() { ["ptb.zip"] = ZipOf(("ptb/ptb.train.txt", Train)) });

        var ex = Assert.Throws<DatasetException>(() => Datasets.ReadZipText(fixture.Info, "ptb.zip", "ptb.train.txt", options));

        Assert.Contains("no member 'ptb.train.txt'. Members: ptb/ptb.train.txt.", ex.Message);
    }

    [Fact]
    public void ReadZipText_TruncatedZip_ThrowsNamingFileAndFix()
    {
        var zip = ZipOf(("fra.txt", "Go.\tVa !\n"));
        var path = temp.Combine("fra-eng.zip");
        File.WriteAllBytes(path, zip[..(zip.Length / 2)]);
        var info = FixtureDataset.From(new Dictionary<string, byte[]> { ["fra-eng.zip"] = zip }).Info;

        var ex = Assert.Throws<DatasetException>(() => Datasets.ReadZipFile(info, path, "fra-eng.zip", "fra.txt"));

        Assert.StartsWith($"{path}: not a readable zip archive (", ex.Message);
        Assert.Contains($"Expected {zip.Length} bytes with SHA-256 {FixtureDataset.Sha256(zip)}; the file has {zip.Length / 2} bytes.", ex.Message);
        Assert.Contains($"truncated or corrupt; delete it and run Datasets.Ensure(\"{info.Name}\") again", ex.Message);
        Assert.IsType<InvalidDataException>(ex.InnerException);
    }

    [Fact]
    public void ReadZipText_PtbCopyOfRightSizeButNotAZip_ThrowsClearError()
    {
        var dir = temp.Combine("ptb");
        Directory.CreateDirectory(dir);
        var path = Path.Combine(dir, "ptb.zip");
        File.WriteAllBytes(path, new byte[Datasets.Get("ptb").GetFile("ptb.zip").Bytes]);

        var ex = Assert.Throws<DatasetException>(() =>
            Datasets.ReadZipText("ptb", "ptb.zip", "ptb/ptb.train.txt", new DatasetOptions(ExplicitPath: dir, AllowDownload: false)));

        Assert.StartsWith($"{path}: not a readable zip archive", ex.Message);
        Assert.Equal("ptb", ex.Dataset);
    }

    [Fact]
    public void ReadGzipText_Member_Decompresses()
    {
        var (fixture, options) = Local(new() { ["task1/raw/val.de.gz"] = GzipOf("Zwei junge weiße Männer sind im Freien.\n") });

        Assert.Equal("Zwei junge weiße Männer sind im Freien.\n", Datasets.ReadGzipText(fixture.Info, "task1/raw/val.de.gz", options));
    }

    [Fact]
    public void ReadGzipText_TruncatedGzip_ThrowsNamingFile()
    {
        var gzip = GzipOf(string.Concat(Enumerable.Range(0, 5000).Select(i => $"line {i}\n")));
        var (fixture, options) = Local(new() { ["train.en.gz"] = gzip });
        var path = Path.Combine(options.ExplicitPath!, "train.en.gz");
        File.WriteAllBytes(path, gzip[..(gzip.Length / 2)]);

        var ex = Assert.Throws<DatasetException>(() => Datasets.ReadGzipFile(fixture.Info, path, "train.en.gz"));

        Assert.StartsWith($"{path}: not a readable gzip file", ex.Message);
        Assert.Contains($"the file has {gzip.Length / 2} bytes", ex.Message);
    }

    [Fact]
    public void ReadGzipText_NotGzip_ThrowsNamingFile()
    {
        var (fixture, options) = Local(new() { ["val.en.gz"] = Encoding.UTF8.GetBytes("plain text, not gzip") });

        var ex = Assert.Throws<DatasetException>(() => Datasets.ReadGzipText(fixture.Info, "val.en.gz", options));

        Assert.StartsWith($"{Path.Combine(options.ExplicitPath!, "val.en.gz")}: not a readable gzip file", ex.Message);
    }
}
