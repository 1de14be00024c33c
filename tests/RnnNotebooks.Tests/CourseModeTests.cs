namespace RnnNotebooks.Tests;

public class CourseModeTests
{
    [Theory]
    [InlineData(null, false)]
    [InlineData("", false)]
    [InlineData("0", false)]
    [InlineData("false", false)]
    [InlineData("1", true)]
    [InlineData(" TRUE ", true)]
    [InlineData("yes", true)]
    public void Parse_ReadsTheUsualSpellings(string? value, bool quick) => Assert.Equal(quick, CourseMode.Parse(value));

    [Fact]
    public void Parse_Unrecognised_IsAnErrorNamingTheVariable()
    {
        var e = Assert.Throws<ArgumentException>(() => CourseMode.Parse("fast"));
        Assert.Contains("RNN_QUICK=fast", e.Message);
    }
}

public class AtomicFileTests
{
    [Fact]
    public void Write_FailingWriter_LeavesTheOldFileAndNoTempFile()
    {
        var dir = Directory.CreateTempSubdirectory("atomic-");
        try
        {
            var path = Path.Combine(dir.FullName, "sub", "data.txt");
            AtomicFile.WriteAllText(path, "old");
            Assert.Throws<IOException>(() => AtomicFile.Write(path, temp =>
            {
                File.WriteAllText(temp, "half");
                throw new IOException("disk full");
            }));
            Assert.Equal("old", File.ReadAllText(path));
            Assert.Equal([path], Directory.GetFiles(Path.GetDirectoryName(path)!));
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }
}
