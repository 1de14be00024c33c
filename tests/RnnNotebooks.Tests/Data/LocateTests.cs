using RnnNotebooks.Data;

namespace RnnNotebooks.Tests.Data;

/// <summary>
/// The resolution order: explicit path, then $RNN_DATA_DIR, then $RNN_PACK (PackTests), then shared/datasets found walking up, then the cache.
/// These tests set environment variables and the working directory, so they run alone (see ProcessStateCollection).
/// </summary>
[Collection("ProcessState")]
public sealed class LocateTests : IDisposable
{
    private readonly TempDirectory temp = new();
    private readonly FixtureDataset fixture = FixtureDataset.Create();
    private readonly EnvironmentVariableScope noDataDir = new(Datasets.DataDirVariable, null);
    private readonly EnvironmentVariableScope noXdg = new("XDG_CACHE_HOME", null);
    private readonly EnvironmentVariableScope noPack = new(OfflinePack.Variable, null);

    public void Dispose()
    {
        noPack.Dispose();
        noXdg.Dispose();
        noDataDir.Dispose();
        temp.Dispose();
    }

    /// <summary>A clean clone at &lt;temp&gt;/x/main with the data beside it at &lt;temp&gt;/x/shared/datasets.</summary>
    private string SharedCopy() => fixture.WriteTo(temp.Combine("x", "shared", "datasets"));

    private string CloneSubfolder()
    {
        var dir = temp.Combine("x", "main", "notebooks");
        Directory.CreateDirectory(dir);
        return dir;
    }

    private string Cache => temp.Combine("cache");

    [Fact]
    public void Locate_ExplicitPath_WinsOverEverything()
    {
        var explicitDir = fixture.WriteTo(temp.Combine("explicit"));
        using var env = new EnvironmentVariableScope(Datasets.DataDirVariable, Path.GetDirectoryName(fixture.WriteTo(temp.Combine("env"))));
        SharedCopy();

        var location = Datasets.Locate(fixture.Info, new DatasetOptions(ExplicitPath: explicitDir, SearchFrom: CloneSubfolder(), CacheDirectory: Cache));

        Assert.Equal((LocationKind.Explicit, explicitDir, true), (location.Kind, location.Directory, location.IsPresent));
    }

    [Fact]
    public void Locate_ExplicitPathIncomplete_IsReturnedNotPresent()
    {
        var explicitDir = temp.Combine("empty");
        SharedCopy();

        var location = Datasets.Locate(fixture.Info, new DatasetOptions(ExplicitPath: explicitDir, SearchFrom: CloneSubfolder()));

        Assert.Equal((LocationKind.Explicit, explicitDir, false), (location.Kind, location.Directory, location.IsPresent));
    }

    [Fact]
    public void Locate_DataDirVariable_WinsOverSharedAndCache()
    {
        var envDir = fixture.WriteTo(temp.Combine("env"));
        using var env = new EnvironmentVariableScope(Datasets.DataDirVariable, temp.Combine("env"));
        SharedCopy();
        fixture.WriteTo(Cache);

        var location = Datasets.Locate(fixture.Info, new DatasetOptions(SearchFrom: CloneSubfolder(), CacheDirectory: Cache));

        Assert.Equal((LocationKind.EnvironmentVariable, envDir, true), (location.Kind, location.Directory, location.IsPresent));
    }

    [Fact]
    public void Locate_IncompleteCopyInDataDir_FallsThroughToShared()
    {
        var envDir = fixture.WriteTo(temp.Combine("env"));
        File.Delete(Path.Combine(envDir, "input.txt"));
        using var env = new EnvironmentVariableScope(Datasets.DataDirVariable, temp.Combine("env"));
        var shared = SharedCopy();

        var location = Datasets.Locate(fixture.Info, new DatasetOptions(SearchFrom: CloneSubfolder(), CacheDirectory: Cache));

        Assert.Equal((LocationKind.SharedDatasets, shared), (location.Kind, location.Directory));
        Assert.Equal([envDir, shared], location.Searched);
    }

    [Fact]
    public void Locate_SharedDatasetsBesideClone_FoundByWalkingUp_AndWinsOverCache()
    {
        var shared = SharedCopy();
        fixture.WriteTo(Cache);

        var location = Datasets.Locate(fixture.Info, new DatasetOptions(SearchFrom: CloneSubfolder(), CacheDirectory: Cache));

        Assert.Equal((LocationKind.SharedDatasets, shared, true), (location.Kind, location.Directory, location.IsPresent));
    }

    [Fact]
    public void Locate_WalkUp_StopsAtTheSearchRoot()
    {
        SharedCopy();                                   // <temp>/x/shared/datasets, above the root below

        var location = Datasets.Locate(fixture.Info,
            new DatasetOptions(SearchFrom: CloneSubfolder(), CacheDirectory: Cache, SearchRoot: temp.Combine("x", "main")));

        Assert.Equal((LocationKind.Cache, false), (location.Kind, location.IsPresent));
    }

    [Fact]
    public void Locate_WalkUp_StartsFromWorkingDirectoryByDefault()
    {
        var shared = SharedCopy();
        using var cwd = new CurrentDirectoryScope(CloneSubfolder());

        var location = Datasets.Locate(fixture.Info, new DatasetOptions(CacheDirectory: Cache));

        Assert.Equal((LocationKind.SharedDatasets, shared), (location.Kind, location.Directory));
    }

    [Fact]
    public void Locate_OnlyInCache_FoundThere()
    {
        var cached = fixture.WriteTo(Cache);

        var location = Datasets.Locate(fixture.Info, new DatasetOptions(SearchFrom: CloneSubfolder(), CacheDirectory: Cache));

        Assert.Equal((LocationKind.Cache, cached, true), (location.Kind, location.Directory, location.IsPresent));
    }

    [Fact]
    public void Locate_NothingAnywhere_PointsAtCacheNotPresent()
    {
        var location = Datasets.Locate(fixture.Info, new DatasetOptions(SearchFrom: CloneSubfolder(), CacheDirectory: Cache));

        Assert.Equal((LocationKind.Cache, Path.Combine(Cache, fixture.Name), false), (location.Kind, location.Directory, location.IsPresent));
    }

    [Fact]
    public void CacheDirectory_FollowsXdgCacheHome()
    {
        using var xdg = new EnvironmentVariableScope("XDG_CACHE_HOME", temp.Combine("xdg"));
        var cached = fixture.WriteTo(temp.Combine("xdg", "rnn-notebooks", "datasets"));

        var location = Datasets.Locate(fixture.Info, new DatasetOptions(SearchFrom: CloneSubfolder()));

        Assert.Equal(temp.Combine("xdg", "rnn-notebooks", "datasets"), Datasets.CacheDirectory);
        Assert.Equal((LocationKind.Cache, cached), (location.Kind, location.Directory));
    }

    [Fact]
    public void CacheDirectory_WithoutXdg_IsUnderHomeDotCache() =>
        Assert.Equal(
            Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache", "rnn-notebooks", "datasets"),
            Datasets.CacheDirectory);

    [Fact]
    public void Status_ListsEveryDatasetCheaply()
    {
        // A root of its own: a shared/datasets above the system temp folder must not count.
        var status = Datasets.Status(new DatasetOptions(SearchFrom: CloneSubfolder(), CacheDirectory: Cache, SearchRoot: temp.Path));

        Assert.Equal(Datasets.Names, status.Select(s => s.Name));
        Assert.All(status, s => Assert.False(s.IsPresent));
        Assert.All(status, s => Assert.Equal(LocationKind.Cache, s.Kind));
        var flickr = status.Single(s => s.Name == "flickr8k");
        Assert.Equal((8_096, 110_414_955L, true), (flickr.Files, flickr.Bytes, flickr.CanDownload));
        Assert.Contains("CC BY-SA 4.0", status.Single(s => s.Name == "fsdd").Licence);
    }
}
