using RnnNotebooks.Data;

namespace RnnNotebooks.Tests.Data;

/// <summary>
/// Checks the real course data when this machine has it: shared/datasets beside the repository, found by walking
/// up from the test's working directory. Every other Data test uses fixtures in temp folders instead.
/// </summary>
/// <remarks>
/// When the data is absent these tests are skipped with the reason, unless RNN_REQUIRE_SHARED_DATA=1 (CI sets
/// it); then absence is a failure (<see cref="RequiredData"/>). They run in the ProcessState collection because they clear RNN_DATA_DIR
/// to make sure the walk-up rule is the one being tested.
/// </remarks>
[Collection("ProcessState")]
public sealed class SharedDataTests
{
    private DatasetLocation? FindShared(string name)
    {
        var location = Datasets.Locate(name);
        if (location.Kind == LocationKind.SharedDatasets && location.IsPresent)
        {
            return location;
        }

        RequiredData.Missing($"{name}: no complete shared/datasets/{name} above {Environment.CurrentDirectory} "
            + $"(searched: {string.Join("; ", location.Searched)}).");
        return null;
    }

    [Theory]
    [InlineData("timemachine")]
    [InlineData("tinyshakespeare")]
    public void SharedDatasets_SmallTextSets_VerifyAgainstRegistry(string name)
    {
        using var noDataDir = new EnvironmentVariableScope(Datasets.DataDirVariable, null);
        if (FindShared(name) is not { } location)
        {
            return;
        }

        var result = Datasets.Verify(name).ThrowIfInvalid();

        Assert.Equal(location.Directory, result.Location.Directory);
        Assert.Equal(Datasets.Get(name).Files[0].Bytes, Datasets.ReadText(name, Datasets.Get(name).Files[0].Path).Length);
    }

    [Fact]
    public void SharedDatasets_Readers_OpenRealArchives()
    {
        using var noDataDir = new EnvironmentVariableScope(Datasets.DataDirVariable, null);
        var offline = new DatasetOptions(AllowDownload: false);
        if (FindShared("ptb") is not null)
        {
            var train = Datasets.ReadZipText("ptb", "ptb.zip", "ptb/ptb.train.txt", offline);
            Assert.Equal(42_068, train.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
        }

        if (FindShared("fra-eng") is not null)
        {
            Assert.StartsWith("Go.\tVa !", Datasets.ReadZipText("fra-eng", "fra-eng.zip", "fra.txt", offline));
        }

        if (FindShared("multi30k") is not null)
        {
            Assert.StartsWith("Zwei junge weiße Männer sind im Freien in der Nähe vieler Büsche.\n",
                Datasets.ReadGzipText("multi30k", "task1/raw/train.de.gz", offline));
        }
    }
}
