using RnnNotebooks.Notebook;
using RnnNotebooks.Tests.Training;
using TorchSharp;

namespace RnnNotebooks.Tests.Notebook;

/// <summary>Uses torch's global generator (a prepared model carries its state), so it runs alone.</summary>
[Collection(TorchGlobalState.Name)]
public sealed class PretrainedTests : IDisposable
{
    const string Name = "03-test-model";
    readonly string root = Path.Combine(Path.GetTempPath(), $"pretrained-{Guid.NewGuid():N}");
    readonly StringWriter output = new();
    int trainings;

    public void Dispose()
    {
        if (Directory.Exists(root)) Directory.Delete(root, recursive: true);
    }

    PretrainedSettings Full(string? pretrained = null, string? prepare = null, bool replace = false) =>
        new(Quick: false, pretrained, prepare, replace, output);

    double[] Train()
    {
        trainings++;
        return [1.5, 2.25, trainings];
    }

    static void Save(double[] losses, string dir) => File.WriteAllLines(Path.Combine(dir, "losses.txt"), losses.Select(l => l.ToString("R")));

    static double[] Load(string dir) => File.ReadAllLines(Path.Combine(dir, "losses.txt")).Select(double.Parse).ToArray();

    double[] Run(PretrainedSettings settings, Func<string, double[]>? load = null, Action<double[], string>? save = null) =>
        Pretrained.Run(settings, Name, Train, save ?? Save, load ?? Load);

    void Prepare() => Run(Full(prepare: root));

    [Fact]
    public void WithoutVariables_Trains_AndSaysNothing()
    {
        Assert.Equal([1.5, 2.25, 1], Run(Full()));
        Assert.Equal("", output.ToString());
        Assert.False(Directory.Exists(root));
    }

    [Fact]
    public void Prepare_SavesEveryFileAndAManifest_LeavingNoTemporaryFolder()
    {
        var trained = Run(Full(prepare: root));

        Assert.Equal(1, trainings);
        Assert.Equal([Name], Directory.GetFileSystemEntries(root).Select(Path.GetFileName));
        var folder = Path.Combine(root, Name);
        Assert.True(File.Exists(Path.Combine(folder, Pretrained.ManifestFile)));
        Assert.Equal(trained, Load(folder));
        Assert.Contains($"Saved the prepared model \"{Name}\" to {folder}", output.ToString());
    }

    [Fact]
    public void Pretrained_LoadsThePreparedResult_InsteadOfTraining_AndSaysFromWhere()
    {
        Prepare();
        output.GetStringBuilder().Clear();

        var loaded = Run(Full(pretrained: root));

        Assert.Equal(1, trainings);
        Assert.Equal([1.5, 2.25, 1], loaded);
        Assert.Contains($"Loaded the prepared model \"{Name}\" from {Path.Combine(root, Name)}", output.ToString());
        Assert.Contains("this cell did not train", output.ToString());
    }

    [Fact]
    public void Pretrained_RestoresTorchRandomState_SoLaterCellsDrawTheSameNumbers()
    {
        torch.random.manual_seed(5);
        Prepare();
        var afterPreparing = torch.rand(4).data<float>().ToArray();

        torch.random.manual_seed(99);
        Run(Full(pretrained: root));
        var afterLoading = torch.rand(4).data<float>().ToArray();

        Assert.Equal(afterPreparing, afterLoading);
    }

    [Fact]
    public void Pretrained_MissingModel_Trains_AndSaysItWasNotFound()
    {
        Directory.CreateDirectory(root);

        Run(Full(pretrained: root));

        Assert.Equal(1, trainings);
        Assert.Contains($"No prepared model \"{Name}\" in {root}", output.ToString());
        Assert.Contains($"rnn course --prepare {root} 03", output.ToString());
    }

    [Fact]
    public void Pretrained_FolderThatDoesNotExist_Trains_AndSaysSo()
    {
        Run(Full(pretrained: root));

        Assert.Equal(1, trainings);
        Assert.Contains($"No prepared model \"{Name}\" in {root}, a folder that does not exist", output.ToString());
    }

    [Fact]
    public void Pretrained_FolderWithoutManifest_IsAnErrorNamingTheFolderAndTheFix_NotARetrain()
    {
        var folder = Directory.CreateDirectory(Path.Combine(root, Name)).FullName;
        File.WriteAllText(Path.Combine(folder, "losses.txt"), "1.5");

        var e = Assert.Throws<InvalidDataException>(() => Run(Full(pretrained: root)));

        Assert.Equal(0, trainings);
        Assert.Contains(folder, e.Message);
        Assert.Contains(Pretrained.ManifestFile, e.Message);
        Assert.Contains("rnn course --prepare", e.Message);
        Assert.Contains($"unset {Pretrained.Variable}", e.Message);
    }

    [Fact]
    public void Pretrained_TruncatedFile_IsAnError()
    {
        Prepare();
        var losses = Path.Combine(root, Name, "losses.txt");
        File.WriteAllText(losses, "1.5");

        var e = Assert.Throws<InvalidDataException>(() => Run(Full(pretrained: root)));

        Assert.Contains("losses.txt", e.Message);
        Assert.Contains("truncated or changed", e.Message);
        Assert.Equal(1, trainings);
    }

    [Fact]
    public void Pretrained_LoadThatFails_IsAnErrorNamingTheFolder()
    {
        Prepare();

        var e = Assert.Throws<InvalidDataException>(() => Run(Full(pretrained: root),
            load: dir => throw new InvalidDataException($"{dir}/model.bin: does not fit the model")));

        Assert.Contains(Path.Combine(root, Name), e.Message);
        Assert.Contains("does not fit the model", e.Message);
        Assert.Equal(1, trainings);
    }

    [Fact]
    public void Prepare_RefusesToReplaceAPreparedModel_BeforeTraining_UnlessAsked()
    {
        Prepare();

        var e = Assert.Throws<IOException>(() => Run(Full(prepare: root)));
        Assert.Contains("--force", e.Message);
        Assert.Equal(1, trainings);

        Run(Full(prepare: root, replace: true));
        Assert.Equal(2, trainings);
        Assert.Equal([1.5, 2.25, 2], Load(Path.Combine(root, Name)));
        Assert.Equal([Name], Directory.GetFileSystemEntries(root).Select(Path.GetFileName));
    }

    [Fact]
    public void Prepare_RemovesTheTempFolderOfAKilledSave_ButNotOneALiveProcessIsWriting()
    {
        Directory.CreateDirectory(root);
        string Leftover(int pid)
        {
            var folder = TestProcesses.TempName(Path.Combine(root, "." + Name), pid);
            Directory.CreateDirectory(folder);
            File.WriteAllText(Path.Combine(folder, "losses.txt"), "1");
            return folder;
        }
        var dead = Leftover(TestProcesses.EndedId());
        using var live = TestProcesses.Live();
        try
        {
            var writing = Leftover(live.Id);

            Prepare();

            Assert.False(Directory.Exists(dead), "the temp folder of an ended process");
            Assert.True(Directory.Exists(writing), "a live process's temp folder must be kept");
            Assert.Equal([1.5, 2.25, 1], Run(Full(pretrained: root)));
        }
        finally
        {
            live.Kill();
            live.WaitForExit();
        }
    }

    [Fact]
    public void Prepare_SaveThatFails_LeavesNoFolder_AndKeepsTheEarlierModel()
    {
        Prepare();

        Assert.Throws<IOException>(() => Run(Full(prepare: root, replace: true),
            save: (losses, dir) => { Save(losses, dir); throw new IOException("disk full"); }));

        Assert.Equal([Name], Directory.GetFileSystemEntries(root).Select(Path.GetFileName));
        Assert.Equal([1.5, 2.25, 1], Run(Full(pretrained: root)));
    }

    [Fact]
    public void QuickMode_IgnoresBothVariables_TrainsAndSaysSo()
    {
        Prepare();

        Run(new PretrainedSettings(Quick: true, root, root, false, output));

        Assert.Equal(2, trainings);
        Assert.Contains("Quick mode: RNN_PRETRAINED and RNN_PREPARE ignored", output.ToString());
        Assert.Equal([1.5, 2.25, 1], Load(Path.Combine(root, Name)));
    }

    [Theory]
    [InlineData("")]
    [InlineData("../03-up")]
    [InlineData(".hidden")]
    [InlineData("03 char")]
    public void Name_ThatIsNotAPlainFolderName_IsRejected(string name)
    {
        var e = Assert.Throws<ArgumentException>(() => Pretrained.Run(Full(prepare: root), name, Train, Save, Load));
        Assert.Contains("cannot name a prepared model", e.Message);
        Assert.Equal(0, trainings);
    }
}

/// <summary>Sets environment variables, so it runs in the ProcessState collection.</summary>
[Collection("ProcessState")]
public sealed class PretrainedEnvironmentTests : IDisposable
{
    static readonly string[] Variables = [CourseMode.Variable, Pretrained.Variable, Pretrained.PrepareVariable, Pretrained.ReplaceVariable];
    readonly Dictionary<string, string?> previous = Variables.ToDictionary(v => v, Environment.GetEnvironmentVariable);

    public void Dispose()
    {
        foreach (var (name, value) in previous) Environment.SetEnvironmentVariable(name, value);
    }

    [Fact]
    public void Settings_ComeFromTheEnvironment_BlankMeaningUnset()
    {
        Environment.SetEnvironmentVariable(CourseMode.Variable, "0");
        Environment.SetEnvironmentVariable(Pretrained.Variable, " /srv/prepared ");
        Environment.SetEnvironmentVariable(Pretrained.PrepareVariable, " ");
        Environment.SetEnvironmentVariable(Pretrained.ReplaceVariable, "1");

        var settings = PretrainedSettings.FromEnvironment();

        Assert.False(settings.Quick);
        Assert.Equal("/srv/prepared", settings.PretrainedDirectory);
        Assert.Null(settings.PrepareDirectory);
        Assert.True(settings.Replace);
    }
}
