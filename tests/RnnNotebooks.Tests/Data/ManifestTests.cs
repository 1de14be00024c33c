using RnnNotebooks.Data;

namespace RnnNotebooks.Tests.Data;

public class ManifestTests
{
    public static TheoryData<string> Names => [.. Datasets.Names];

    [Fact]
    public void Registry_ListsTheEightCourseDatasets() =>
        Assert.Equal(
            ["tinyshakespeare", "timemachine", "ptb", "fra-eng", "multi30k", "fsdd", "yesno", "flickr8k"],
            Datasets.Names);

    [Theory]
    [MemberData(nameof(Names))]
    public void Registry_EveryDataset_IsWellFormed(string name)
    {
        var info = Datasets.Get(name);
        Assert.False(string.IsNullOrWhiteSpace(info.Description));
        Assert.False(string.IsNullOrWhiteSpace(info.Licence));
        Assert.False(string.IsNullOrWhiteSpace(info.Attribution));
        Assert.NotEmpty(info.Files);
        Assert.Equal(info.Files.Count, info.Files.Select(f => f.Path).Distinct(StringComparer.Ordinal).Count());
        foreach (var file in info.Files)
        {
            Assert.Matches("^[0-9a-f]{64}$", file.Sha256);
            Assert.True(file.Bytes > 0, $"{name}/{file.Path}: size {file.Bytes}");
            Assert.DoesNotContain("..", file.Path.Split('/'));
            switch (file.Source)
            {
                case FileSource.Url:
                    // Raw-file URLs pinned to a full commit hash, so the bytes cannot drift.
                    Assert.NotNull(file.Url);
                    Assert.Equal("https", file.Url!.Scheme);
                    Assert.Matches("^https://raw\\.githubusercontent\\.com/[^/]+/[^/]+/[0-9a-f]{40}/", file.Url.AbsoluteUri);
                    break;
                case FileSource.Manual:
                    Assert.Null(file.Url);
                    Assert.Equal("flickr8k", name);
                    Assert.StartsWith("images/", file.Path);
                    break;
                case FileSource.Embedded:
                    Assert.Null(file.Url);
                    break;
            }
        }
    }

    [Theory]
    [InlineData("tinyshakespeare", 1, 1_115_394)]
    [InlineData("timemachine", 1, 178_979)]
    [InlineData("ptb", 1, 1_981_551)]
    [InlineData("fra-eng", 2, 2_952_196)]
    [InlineData("multi30k", 50, 12_470_639)]
    [InlineData("fsdd", 2_501, 16_513_349)] // SOURCE.md gives no total; this is the sum of its sizes (speakers.csv: 189 bytes, see data/manifests/README.md)
    [InlineData("yesno", 61, 5_886_193)]
    [InlineData("flickr8k", 8_096, 110_414_955)] // SOURCE.md says 110,845,035; see data/manifests/README.md
    public void Registry_FileCountsAndSizes_MatchSourceMd(string name, int files, long bytes)
    {
        var info = Datasets.Get(name);
        Assert.Equal(files, info.Files.Count);
        Assert.Equal(bytes, info.TotalBytes);
    }

    [Fact]
    public void Flickr8k_EveryFileDownloads_ImagesFromThePinnedCommit_CheckedAgainstWhatItServes()
    {
        var info = Datasets.Get("flickr8k");
        Assert.True(info.CanDownload);
        Assert.All(info.Files, f => Assert.Equal(FileSource.Url, f.Source));
        var images = info.Files.Where(f => f.Path.StartsWith("images/", StringComparison.Ordinal)).ToList();
        Assert.Equal(8_091, images.Count);
        Assert.All(images, f =>
        {
            Assert.Equal("https://raw.githubusercontent.com/RlNZLER/Image-Text-Matching/56a15d913c3f290e2ee896386ece6076c1eea02e/data/"
                + f.Path, f.Url!.AbsoluteUri);
            Assert.NotNull(f.Served);
            Assert.NotEqual(f.Sha256, f.Served!.Sha256);
        });
        Assert.Equal(216_777_822L, images.Sum(f => f.Served!.Bytes));   // SOURCE.md: the commit's 8,091 blobs
        Assert.All(info.Files.Where(f => !f.Path.StartsWith("images/", StringComparison.Ordinal)), f => Assert.Null(f.Served));
        Assert.Equal(FileFixup.AppendFinalNewline, info.GetFile("Flickr8k.token.txt").Fixup);
    }

    [Fact]
    public void EmbeddedManifests_AreTheManyFileDatasets() =>
        Assert.Equal(["flickr8k", "fsdd", "multi30k", "yesno"], Manifest.EmbeddedManifestNames().Order(StringComparer.Ordinal));

    [Fact]
    public void EmbeddedFiles_MatchTheirRegisteredSha256()
    {
        var embedded = Datasets.All.SelectMany(d => d.Files.Where(f => f.Source == FileSource.Embedded).Select(f => (d.Name, File: f))).ToList();
        Assert.NotEmpty(embedded);
        foreach (var (name, file) in embedded)
        {
            using var stream = Manifest.OpenEmbedded(name, file.Path);
            using var copy = new MemoryStream();
            stream.CopyTo(copy);
            Assert.Equal(file.Bytes, copy.Length);
            Assert.Equal(file.Sha256, FixtureDataset.Sha256(copy.ToArray()));
        }
    }

    [Theory]
    [InlineData("abc\t10\ta.txt\thttps://example.org/a\t-", "64-digit")]
    [InlineData("{0}\t0\ta.txt\thttps://example.org/a\t-", "positive byte count")]
    [InlineData("{0}\t10\t../a.txt\thttps://example.org/a\t-", "relative path")]
    [InlineData("{0}\t10\ta.txt\thttp://example.org/a\t-", "https URL")]
    [InlineData("{0}\t10\ta.txt\thttps://example.org/a", "5 tab-separated columns")]
    [InlineData("{0}\t10\ta.txt\thttps://example.org/a\tgzip", "fixup")]
    [InlineData("{0}\t10\ta.txt\tmanual\t-\n{0}\t10\ta.txt\tmanual\t-", "listed twice")]
    public void ManifestParse_BadLine_ThrowsNamingLineAndProblem(string text, string expected)
    {
        var lines = "# header\n" + string.Format(text, new string('a', 64));
        var ex = Assert.Throws<InvalidDataException>(() => Manifest.Parse(new StringReader(lines), "test.tsv"));
        Assert.StartsWith("test.tsv:", ex.Message);
        Assert.Contains(expected, ex.Message);
    }

    [Fact]
    public void ManifestParse_GoodLines_ReadsEveryColumn()
    {
        var sha = new string('b', 64);
        var files = Manifest.Parse(new StringReader(
            $"# comment\n{sha}\t12\tz/b.txt\thttps://example.org/b.txt\tappend-final-newline\n{sha}\t3\ta.jpg\tmanual\t-\n"), "t.tsv");
        Assert.Equal(["a.jpg", "z/b.txt"], files.Select(f => f.Path));
        Assert.Equal(new DatasetFile("z/b.txt", sha, 12, FileSource.Url, new Uri("https://example.org/b.txt"), FileFixup.AppendFinalNewline), files[1]);
        Assert.False(files[0].CanDownload);
    }

    [Fact]
    public void ManifestParse_ServedColumn_ReadsTheVersionTheSourceServes()
    {
        var (sha, other) = (new string('b', 64), new string('c', 64));
        var files = Manifest.Parse(new StringReader(
            $"{sha}\t12\ta.jpg\thttps://example.org/a.jpg\t-\t{other}:30\n{sha}\t3\tb.txt\thttps://example.org/b.txt\t-\t-\n"), "t.tsv");
        Assert.Equal(new FileVersion(other, 30), files[0].Served);
        Assert.Equal([new FileVersion(sha, 12), new FileVersion(other, 30)], files[0].Accepted);
        Assert.Null(files[1].Served);
        var bad = Assert.Throws<InvalidDataException>(() => Manifest.Parse(new StringReader(
            $"{sha}\t12\ta.jpg\thttps://example.org/a.jpg\t-\t{other}\n"), "t.tsv"));
        Assert.Contains("served column", bad.Message);
    }

    [Fact]
    public void Get_UnknownName_ListsRegisteredNames()
    {
        var ex = Assert.Throws<ArgumentException>(() => Datasets.Get("shakespeare"));
        Assert.Contains("tinyshakespeare", ex.Message);
    }

    [Fact]
    public void GetFile_UnknownPath_NamesDatasetAndExamples()
    {
        var ex = Assert.Throws<DatasetException>(() => Datasets.Get("ptb").GetFile("ptb.train.txt"));
        Assert.Contains("ptb.zip", ex.Message);
    }
}
