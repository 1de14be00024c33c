using RnnNotebooks.Data;

namespace RnnNotebooks.Tests.Data;

public sealed class VerifyTests : IDisposable
{
    private readonly TempDirectory temp = new();
    private readonly FixtureDataset fixture = FixtureDataset.Create();

    public void Dispose() => temp.Dispose();

    private DatasetVerification VerifyAt(string dir) => Datasets.Verify(fixture.Info, new DatasetOptions(ExplicitPath: dir));

    [Fact]
    public void Verify_GoodCopy_IsValid()
    {
        var result = VerifyAt(fixture.WriteTo(temp.Path));

        Assert.True(result.IsValid);
        Assert.Equal(2, result.FilesChecked);
        Assert.Same(result, result.ThrowIfInvalid());
    }

    [Fact]
    public void Verify_CorruptFile_ReportsChecksumMismatchNamingFile()
    {
        var dir = fixture.WriteTo(temp.Path);
        var path = Path.Combine(dir, "input.txt");
        var bytes = File.ReadAllBytes(path);
        bytes[0] ^= 1;
        File.WriteAllBytes(path, bytes);

        var problem = Assert.Single(VerifyAt(dir).Problems);

        Assert.Equal(("input.txt", FileProblemKind.WrongChecksum), (problem.Path, problem.Kind));
        Assert.StartsWith($"{path}: SHA-256 mismatch, expected {fixture.Info.GetFile("input.txt").Sha256}, got {FixtureDataset.Sha256(bytes)}.", problem.Message);
        Assert.Contains("RNN_DATA_DIR", problem.Message);
    }

    [Fact]
    public void Verify_TruncatedFile_ReportsSizeMismatch()
    {
        var dir = fixture.WriteTo(temp.Path);
        var path = Path.Combine(dir, "sub", "notes.txt");
        File.WriteAllBytes(path, File.ReadAllBytes(path)[..1000]);

        var problem = Assert.Single(VerifyAt(dir).Problems);

        Assert.Equal(FileProblemKind.WrongSize, problem.Kind);
        Assert.StartsWith($"{path}: size mismatch, expected {fixture.Contents["sub/notes.txt"].Length} bytes, got 1000", problem.Message);
    }

    [Fact]
    public void Verify_MissingFile_ThrowIfInvalidNamesIt()
    {
        var dir = fixture.WriteTo(temp.Path);
        var path = Path.Combine(dir, "sub", "notes.txt");
        File.Delete(path);

        var result = VerifyAt(dir);
        var ex = Assert.Throws<DatasetException>(() => result.ThrowIfInvalid());

        Assert.Equal(FileProblemKind.Missing, Assert.Single(result.Problems).Kind);
        Assert.Equal(path, ex.FilePath);
        Assert.Contains($"1 of 2 files failed verification", ex.Message);
        Assert.Contains($"{path}: missing", ex.Message);
    }
}
