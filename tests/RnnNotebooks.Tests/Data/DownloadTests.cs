using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;
using RnnNotebooks.Data;

namespace RnnNotebooks.Tests.Data;

/// <summary>The real download path, against a local HTTP server on 127.0.0.1. Nothing here touches the internet.</summary>
public sealed class DownloadTests : IDisposable
{
    private readonly TempDirectory temp = new();
    private readonly FixtureDataset fixture = FixtureDataset.Create();

    public void Dispose() => temp.Dispose();

    private string Upstream => temp.Combine("upstream");

    private string Cache => temp.Combine("cache");

    private DatasetOptions Options(LocalHttpServer server) =>
        new(CacheDirectory: Cache, SearchFrom: temp.Path, MirrorBaseUrl: server.BaseUrl);

    private string FinalPath(string relative) => Path.Combine(Cache, fixture.Name, relative);

    private string[] LeftoverTempFiles() =>
        Directory.Exists(Cache) ? Directory.GetFiles(Cache, "*.tmp", SearchOption.AllDirectories) : [];

    [Fact]
    public void Download_GoodFiles_LandVerifiedWithNoTempFilesLeft()
    {
        fixture.WriteTo(Upstream);
        using var server = LocalHttpServer.ServeFolder(Upstream);

        var location = Datasets.Ensure(fixture.Info, Options(server));

        Assert.True(location.IsPresent);
        Assert.Equal(LocationKind.Cache, location.Kind);
        Assert.Equal(Path.Combine(Cache, fixture.Name), location.Directory);
        foreach (var (path, bytes) in fixture.Contents)
        {
            Assert.Equal(bytes, File.ReadAllBytes(FinalPath(path)));
        }

        Assert.Empty(LeftoverTempFiles());
        Assert.True(Datasets.Verify(fixture.Info, Options(server)).IsValid);
        Assert.Equal(["/" + fixture.Name + "/input.txt", "/" + fixture.Name + "/sub/notes.txt"], server.Requests.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Download_WrongChecksum_ThrowsNamingFile()
    {
        fixture.WriteTo(Upstream);
        using var server = LocalHttpServer.ServeFolder(Upstream, (path, bytes) =>
        {
            var corrupt = (byte[])bytes.Clone();
            corrupt[^2] ^= 0x20; // same size, different bytes
            return new Reply(200, corrupt);
        });

        var ex = Assert.Throws<DatasetException>(() => Datasets.Ensure(fixture.Info, Options(server)));

        var failed = fixture.Info.Files.Single(f => ex.Message.Contains(FinalPath(f.Path), StringComparison.Ordinal));
        Assert.StartsWith($"{FinalPath(failed.Path)}: SHA-256 mismatch, expected {failed.Sha256}, got ", ex.Message);
        Assert.Contains($"downloaded from {server.BaseUrl}{fixture.Name}/{failed.Path}", ex.Message);
        Assert.Contains("RNN_DATA_DIR", ex.Message);
        Assert.Equal(FinalPath(failed.Path), ex.FilePath);
        Assert.False(File.Exists(FinalPath(failed.Path)));
        Assert.Empty(LeftoverTempFiles());
    }

    [Fact]
    public void Download_NotFound_ThrowsNamingUrlAndStatus()
    {
        Directory.CreateDirectory(Upstream);
        using var server = LocalHttpServer.ServeFolder(Upstream);

        var ex = Assert.Throws<DatasetException>(() => Datasets.Ensure(fixture.Info, Options(server)));

        Assert.NotNull(ex.Url);
        Assert.StartsWith($"{ex.Url}: HTTP 404 Not Found while downloading {fixture.Name}/", ex.Message);
        Assert.StartsWith(server.BaseUrl.AbsoluteUri + fixture.Name + "/", ex.Url!.AbsoluteUri);
        Assert.DoesNotContain(fixture.Contents.Keys, p => File.Exists(FinalPath(p)));
        Assert.Empty(LeftoverTempFiles());
    }

    [Fact]
    public void Download_ServerError_ThrowsNamingUrlAndStatus()
    {
        using var server = new LocalHttpServer(_ => new Reply(500, Encoding.UTF8.GetBytes("boom")));

        var ex = Assert.Throws<DatasetException>(() => Datasets.Ensure(fixture.Info, Options(server)));

        Assert.Contains($"{ex.Url}: HTTP 500", ex.Message);
    }

    [Fact]
    public void Download_ConnectionDropsBeforeContentLength_ThrowsTruncated()
    {
        fixture.WriteTo(Upstream);
        using var server = LocalHttpServer.ServeFolder(Upstream,
            (_, bytes) => new Reply(200, bytes[..(bytes.Length / 2)], ContentLength: bytes.Length));
        var one = fixture.Info with { Files = [fixture.Info.GetFile("sub/notes.txt")] };

        var ex = Assert.Throws<DatasetException>(() => Datasets.Ensure(one, Options(server)));

        var expected = fixture.Contents["sub/notes.txt"].Length;
        Assert.StartsWith($"{server.BaseUrl}{fixture.Name}/sub/notes.txt: ", ex.Message);
        Assert.Contains($"of {expected} bytes", ex.Message);
        Assert.Contains("nothing was saved", ex.Message);
        Assert.False(File.Exists(FinalPath("sub/notes.txt")));
        Assert.Empty(LeftoverTempFiles());
    }

    [Fact]
    public void Download_CompleteResponseOfShortFile_ThrowsSizeMismatch()
    {
        fixture.WriteTo(Upstream);
        using var server = LocalHttpServer.ServeFolder(Upstream, (_, bytes) => new Reply(200, bytes[..^10]));
        var one = fixture.Info with { Files = [fixture.Info.GetFile("sub/notes.txt")] };

        var ex = Assert.Throws<DatasetException>(() => Datasets.Ensure(one, Options(server)));

        var expected = fixture.Contents["sub/notes.txt"].Length;
        Assert.StartsWith($"{FinalPath("sub/notes.txt")}: size mismatch, expected {expected} bytes, got {expected - 10}", ex.Message);
        Assert.False(File.Exists(FinalPath("sub/notes.txt")));
        Assert.Empty(LeftoverTempFiles());
    }

    [Fact]
    public void Download_ServerUnreachable_ThrowsNamingUrl()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop(); // nothing listens on this port now
        var options = new DatasetOptions(CacheDirectory: Cache, SearchFrom: temp.Path, MirrorBaseUrl: new Uri($"http://127.0.0.1:{port}/"));

        var ex = Assert.Throws<DatasetException>(() => Datasets.Ensure(fixture.Info, options));

        Assert.Contains($"http://127.0.0.1:{port}/{fixture.Name}/", ex.Message);
        Assert.Contains("request failed", ex.Message);
    }

    [Fact]
    public void Download_AppendFinalNewlineFixup_GivesRegisteredBytes()
    {
        var withFixup = FixtureDataset.Create(FileFixup.AppendFinalNewline);
        var root = withFixup.WriteTo(Upstream);
        foreach (var path in withFixup.Contents.Keys)
        {
            var full = Path.Combine(root, path);
            File.WriteAllBytes(full, File.ReadAllBytes(full)[..^1]); // upstream lacks the final newline
        }

        using var server = LocalHttpServer.ServeFolder(Upstream);
        var location = Datasets.Ensure(withFixup.Info, Options(server));

        Assert.True(Datasets.Verify(withFixup.Info, new DatasetOptions(ExplicitPath: location.Directory)).IsValid);
    }

    [Fact]
    public void Ensure_FilesAlreadyInTarget_AreNotDownloadedAgain()
    {
        fixture.WriteTo(Upstream);
        Directory.CreateDirectory(Path.GetDirectoryName(FinalPath("input.txt"))!);
        File.WriteAllBytes(FinalPath("input.txt"), fixture.Contents["input.txt"]);
        using var server = LocalHttpServer.ServeFolder(Upstream);
        var progress = new ConcurrentQueue<DownloadProgress>();

        Datasets.Ensure(fixture.Info, Options(server) with { Progress = new SyncProgress<DownloadProgress>(progress.Enqueue) });

        Assert.Equal(["/" + fixture.Name + "/sub/notes.txt"], server.Requests);
        var report = Assert.Single(progress);
        Assert.Equal(new DownloadProgress(fixture.Name, "sub/notes.txt", 1, 1, fixture.Contents["sub/notes.txt"].Length), report);
    }

    [Fact]
    public void Ensure_ExplicitIncompleteFolder_DownloadsIntoIt()
    {
        fixture.WriteTo(Upstream);
        using var server = LocalHttpServer.ServeFolder(Upstream);
        var target = temp.Combine("mine");

        var location = Datasets.Ensure(fixture.Info, new DatasetOptions(ExplicitPath: target, MirrorBaseUrl: server.BaseUrl));

        Assert.Equal((LocationKind.Explicit, target, true), (location.Kind, location.Directory, location.IsPresent));
        Assert.False(Directory.Exists(Cache));
    }

    [Fact]
    public void GetFile_EmbeddedFsddSpeakers_WritesVerifiedCopyWithoutNetwork()
    {
        var dir = temp.Combine("fsdd");
        var options = new DatasetOptions(ExplicitPath: dir, MirrorBaseUrl: new Uri("http://127.0.0.1:9/"));

        var text = Datasets.ReadText("fsdd", "speakers.csv", options);

        Assert.StartsWith("speaker,gender,accent,language\n", text);
        Assert.Equal(6, text.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
        Assert.Equal(Datasets.Get("fsdd").GetFile("speakers.csv").Sha256,
            FixtureDataset.Sha256(File.ReadAllBytes(Path.Combine(dir, "speakers.csv"))));
    }

    /// <summary>A dataset whose source serves other bytes than the course's copy (as flickr8k's photos): the
    /// registered course copy of each file, plus the served bytes, which the server hands out.</summary>
    private (DatasetInfo Info, Dictionary<string, byte[]> Served) ServedInAnotherVersion(int count)
    {
        var served = new Dictionary<string, byte[]>();
        var files = new List<DatasetFile>();
        for (var i = 0; i < count; i++)
        {
            var path = $"images/{i:D3}.jpg";
            var course = Encoding.UTF8.GetBytes($"course copy {i}");
            served[path] = Encoding.UTF8.GetBytes(string.Concat(Enumerable.Repeat($"original photo {i} ", 50 + i)));
            files.Add(new DatasetFile(path, FixtureDataset.Sha256(course), course.Length, FileSource.Url,
                new Uri("https://example.invalid/never-used/" + path), FileFixup.None,
                new FileVersion(FixtureDataset.Sha256(served[path]), served[path].Length)));
        }

        var info = new DatasetInfo("served-" + Guid.NewGuid().ToString("N")[..8], "Photos.", "Test licence.", "Tests.", files);
        foreach (var (path, bytes) in served)
        {
            var file = Path.Combine(Upstream, info.Name, path);
            Directory.CreateDirectory(Path.GetDirectoryName(file)!);
            File.WriteAllBytes(file, bytes);
        }

        return (info, served);
    }

    [Fact]
    public void Ensure_FilesTheSourceServesInAnotherVersion_AreCheckedAgainstThat_AndVerifyAcceptsThem()
    {
        var (info, served) = ServedInAnotherVersion(12);
        using var server = LocalHttpServer.ServeFolder(Upstream);
        var progress = new ConcurrentBag<DownloadProgress>();
        var options = Options(server) with { MaxParallelDownloads = 3, Progress = new SyncProgress<DownloadProgress>(progress.Add) };

        var location = Datasets.Ensure(info, options);

        Assert.True(location.IsPresent);
        foreach (var (path, bytes) in served)
            Assert.Equal(bytes, File.ReadAllBytes(Path.Combine(location.Directory, path)));
        Assert.True(Datasets.Verify(info, options).IsValid);
        Assert.Equal(12, progress.Max(p => p.FilesDone));
        Assert.Equal(served.Values.Sum(b => (long)b.Length), progress.Max(p => p.BytesDone));
    }

    [Fact]
    public void Ensure_AfterAnInterruptedFetch_DownloadsOnlyTheMissingFiles()
    {
        var (info, served) = ServedInAnotherVersion(6);
        using (var failing = LocalHttpServer.ServeFolder(Upstream, (path, bytes) =>
            path.EndsWith("003.jpg", StringComparison.Ordinal) ? new Reply(500, []) : new Reply(200, bytes)))
        {
            Assert.Throws<DatasetException>(() => Datasets.Ensure(info, Options(failing) with { MaxParallelDownloads = 1 }));
        }

        var have = Directory.GetFiles(Path.Combine(Cache, info.Name, "images")).Length;
        Assert.InRange(have, 1, 5);
        using var server = LocalHttpServer.ServeFolder(Upstream);
        Assert.True(Datasets.Ensure(info, Options(server)).IsPresent);
        Assert.Equal(6 - have, server.Requests.Count);
        Assert.Empty(LeftoverTempFiles());
    }

    [Fact]
    public void Ensure_RemovesTheTempFilesOfAKilledFetch_ButNotALiveOnes()
    {
        // A fetch killed in the middle of a file (a second Ctrl-C, SIGKILL) leaves NAME.PID.GUID.tmp beside it.
        var (info, _) = ServedInAnotherVersion(3);
        var images = Path.Combine(Cache, info.Name, "images");
        Directory.CreateDirectory(images);
        using var live = TestProcesses.Live();
        try
        {
            string Leftover(int pid)
            {
                var path = TestProcesses.TempName(Path.Combine(images, "001.jpg"), pid);
                File.WriteAllBytes(path, new byte[100]);
                return path;
            }
            var dead = Leftover(TestProcesses.EndedId());
            var fresh = Leftover(live.Id);

            using var server = LocalHttpServer.ServeFolder(Upstream);
            Assert.True(Datasets.Ensure(info, Options(server)).IsPresent);

            Assert.False(File.Exists(dead), "the temp file of an ended fetch");
            Assert.True(File.Exists(fresh), "a live process's temp file must be kept");
            Assert.Equal([fresh], LeftoverTempFiles());
        }
        finally
        {
            live.Kill();
            live.WaitForExit();
        }
    }

    [Fact]
    public void Ensure_ServedFileThatDoesNotMatch_IsRejectedNamingTheExpectedHash()
    {
        var (info, _) = ServedInAnotherVersion(2);
        using var server = LocalHttpServer.ServeFolder(Upstream, (_, bytes) =>
        {
            var corrupt = (byte[])bytes.Clone();
            corrupt[0] ^= 0x20;
            return new Reply(200, corrupt);
        });

        var ex = Assert.Throws<DatasetException>(() => Datasets.Ensure(info, Options(server)));

        var failed = info.Files.Single(f => ex.Message.Contains(f.Served!.Sha256, StringComparison.Ordinal));
        Assert.Contains("SHA-256 mismatch", ex.Message);
        Assert.False(File.Exists(Path.Combine(Cache, info.Name, failed.Path)));
    }

    [Fact]
    public void GetFile_MissingFileWithDownloadsOff_ThrowsNamingFileAndFix()
    {
        var dir = fixture.WriteTo(temp.Path);
        File.Delete(Path.Combine(dir, "sub", "notes.txt"));

        var ex = Assert.Throws<DatasetException>(() =>
            Datasets.GetFile(fixture.Info, "sub/notes.txt", new DatasetOptions(ExplicitPath: dir, AllowDownload: false)));

        Assert.StartsWith($"{Path.Combine(dir, "sub", "notes.txt")} is missing, and downloads are off", ex.Message);
        Assert.Contains("RNN_DATA_DIR", ex.Message);
    }

    [Fact]
    public void Ensure_TruncatedLocalFileWithDownloadsOff_ThrowsSizeMismatch()
    {
        var dir = fixture.WriteTo(temp.Path);
        var notes = Path.Combine(dir, "sub", "notes.txt");
        var full = fixture.Contents["sub/notes.txt"];
        File.WriteAllBytes(notes, full[..100]);

        var ex = Assert.Throws<DatasetException>(() =>
            Datasets.Ensure(fixture.Info, new DatasetOptions(ExplicitPath: dir, AllowDownload: false)));

        Assert.StartsWith($"{notes} has 100 bytes, expected {full.Length} (truncated?)", ex.Message);
    }

    /// <summary>Reports on the calling thread (Progress&lt;T&gt; would post to the thread pool).</summary>
    private sealed class SyncProgress<T>(Action<T> report) : IProgress<T>
    {
        public void Report(T value) => report(value);
    }
}
