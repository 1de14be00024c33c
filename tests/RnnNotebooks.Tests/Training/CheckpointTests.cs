using RnnNotebooks.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace RnnNotebooks.Tests.Training;

[Collection(TorchGlobalState.Name)]
public class CheckpointTests : IDisposable
{
    readonly TinyProblem problem = new();
    readonly DirectoryInfo dir = Directory.CreateTempSubdirectory("checkpoint-");
    readonly int threadsBefore = torch.get_num_threads();

    public CheckpointTests() => torch.set_num_threads(1);

    public void Dispose()
    {
        problem.Dispose();
        dir.Delete(recursive: true);
        torch.set_num_threads(threadsBefore);
    }

    static bool Same(Tensor a, Tensor b) => a.allclose(b, rtol: 0, atol: 0);

    string ModelPath => Stored("model");

    /// <summary>The one stored file of the checkpoint with this stem (they are stored under hashed names).</summary>
    string Stored(string stem) => Directory.GetFiles(dir.FullName, stem + ".*.bin").Single();

    static TrainerOptions Options(int? maxSteps = null) => new(Epochs: 3, ClipGradNorm: 1.0, MaxSteps: maxSteps);

    TrainingState Fit(MeanRegressor model, optim.Optimizer optimizer, TrainerOptions options, TrainingState? resume = null) =>
        Trainer.Fit(model, optimizer, problem.Batches, TinyProblem.Loss(model), options,
            validate: problem.Validation(model), resume: resume);

    /// <summary>Trains a few steps and saves; returns the model's output on the problem's inputs.</summary>
    Tensor TrainAndSave(int numHiddens = 8)
    {
        Seeds.Set(11);
        using var model = new MeanRegressor(numHiddens);
        using var optimizer = optim.Adam(model.parameters(), lr: 0.02);
        var state = Fit(model, optimizer, Options(maxSteps: 3));
        Checkpoint.Save(dir.FullName, model, optimizer, state);
        model.eval();
        using (torch.no_grad()) return model.forward(problem.X);
    }

    /// <summary>Loads the checkpoint into a fresh model (with an Adam optimizer to resume, or none) and returns the
    /// training state and the model's output on the problem's inputs.</summary>
    (TrainingState State, Tensor Output) LoadAndRun(bool resume = true)
    {
        using var model = new MeanRegressor(numHiddens: 8);
        using var optimizer = resume ? optim.Adam(model.parameters(), lr: 0.02) : null;
        var state = Checkpoint.Load(dir.FullName, model, optimizer);
        model.eval();
        using (torch.no_grad()) return (state, model.forward(problem.X));
    }

    [Fact]
    public void SaveThenLoad_GivesIdenticalOutputsAndState()
    {
        using var expected = TrainAndSave();

        Seeds.Set(99);
        var (state, output) = LoadAndRun();
        using var actual = output;

        Assert.True(Same(actual, expected), "outputs after loading should equal those before saving");
        Assert.Equal((0, 3, 3L, 11), (state.Epoch, state.BatchInEpoch, state.Step, state.Seed ?? -1));
        Assert.Equal(Options(maxSteps: 3), state.Options);
        Assert.Equal(StopReason.MaxSteps, state.History.StopReason);
        Assert.Equal(state, Checkpoint.ReadState(dir.FullName) with { History = state.History });
        Assert.DoesNotContain(dir.GetFiles(), f => f.Name.EndsWith(".tmp", StringComparison.Ordinal));
    }

    [Fact]
    public void Save_WithABeforeStepHook_WritesACheckpointWithoutTheHook()
    {
        Seeds.Set(12);
        using var model = new MeanRegressor(numHiddens: 8);
        using var optimizer = optim.Adam(model.parameters(), lr: 0.02);
        var calls = 0;
        var state = Fit(model, optimizer, new TrainerOptions(Epochs: 1, MaxSteps: 2, BeforeStep: _ => calls++));

        Checkpoint.Save(dir.FullName, model, optimizer, state);     // a delegate cannot be written as JSON: it must be left out
        var loaded = Checkpoint.Load(dir.FullName, model, optimizer);

        Assert.Equal(2, calls);
        Assert.Null(loaded.Options.BeforeStep);
        Assert.Equal(state.Step, loaded.Step);
    }

    [Fact]
    public void Resume_MatchesAnUninterruptedRun()
    {
        // Dropout draws from torch's generator every step, so this also checks that its state is restored.
        (MeanRegressor, optim.Optimizer) Build()
        {
            var model = new MeanRegressor(numHiddens: 8, dropoutRate: 0.2);
            return (model, optim.Adam(model.parameters(), lr: 0.02));
        }

        Seeds.Set(21);
        var (model, optimizer) = Build();
        var uninterrupted = Fit(model, optimizer, Options());
        model.Dispose();
        optimizer.Dispose();

        Seeds.Set(21);
        (model, optimizer) = Build();
        var firstHalf = Fit(model, optimizer, Options(maxSteps: 6));   // stops in the middle of epoch 2
        Checkpoint.Save(dir.FullName, model, optimizer, firstHalf);
        model.Dispose();
        optimizer.Dispose();

        Seeds.Set(1234);   // a fresh process would start elsewhere too
        (model, optimizer) = Build();
        var loaded = Checkpoint.Load(dir.FullName, model, optimizer);
        var resumed = Fit(model, optimizer, Options(), resume: loaded);
        model.Dispose();
        optimizer.Dispose();

        Assert.Equal((1, 2), (firstHalf.Epoch, firstHalf.BatchInEpoch));
        Assert.Equal(12, uninterrupted.History.Losses.Count);
        Assert.Equal(uninterrupted.History.Losses, resumed.History.Losses, (a, b) => Math.Abs(a - b) <= 1e-6);
        Assert.Equal(uninterrupted.History.GradNorms, resumed.History.GradNorms, (a, b) => Math.Abs(a - b) <= 1e-6);
        Assert.Equal(uninterrupted.History.Series("val_loss"), resumed.History.Series("val_loss"), (a, b) => Math.Abs(a - b) <= 1e-6);
        Assert.Equal(StopReason.Completed, resumed.History.StopReason);
        Assert.True(resumed.ElapsedSeconds >= firstHalf.ElapsedSeconds);
    }

    [Fact]
    public void Load_TruncatedModelFile_ThrowsNamingTheFile_AndLeavesTheModelAlone()
    {
        TrainAndSave().Dispose();
        var bytes = File.ReadAllBytes(ModelPath);
        File.WriteAllBytes(ModelPath, bytes[..(bytes.Length / 2)]);

        Seeds.Set(5);
        using var model = new MeanRegressor(numHiddens: 8);
        using var before = nn.utils.parameters_to_vector(model.parameters()).detach().clone();
        var e = Assert.Throws<InvalidDataException>(() => Checkpoint.Load(dir.FullName, model));

        Assert.Contains(ModelPath, e.Message);
        Assert.Contains("truncated", e.Message);
        Assert.True(Same(nn.utils.parameters_to_vector(model.parameters()), before));
    }

    [Fact]
    public void Load_ChangedModelFile_SaysItIsCorrupt()
    {
        TrainAndSave().Dispose();
        var bytes = File.ReadAllBytes(ModelPath);
        bytes[^1] ^= 0xff;
        File.WriteAllBytes(ModelPath, bytes);

        using var model = new MeanRegressor(numHiddens: 8);
        var e = Assert.Throws<InvalidDataException>(() => Checkpoint.Load(dir.FullName, model));

        Assert.Contains(ModelPath, e.Message);
        Assert.Contains("corrupt", e.Message);
    }

    [Fact]
    public void Load_TruncatedManifest_ThrowsNamingTheManifest()
    {
        TrainAndSave().Dispose();
        var manifest = Path.Combine(dir.FullName, Checkpoint.ManifestFile);
        File.WriteAllText(manifest, File.ReadAllText(manifest)[..100]);

        using var model = new MeanRegressor(numHiddens: 8);
        var e = Assert.Throws<InvalidDataException>(() => Checkpoint.Load(dir.FullName, model));

        Assert.Contains(manifest, e.Message);
    }

    [Fact]
    public void Load_MissingCheckpointOrFile_ThrowsFileNotFound_NamingIt()
    {
        using var model = new MeanRegressor(numHiddens: 8);
        var none = Assert.Throws<FileNotFoundException>(() => Checkpoint.Load(dir.FullName, model));
        Assert.Contains(Path.Combine(dir.FullName, Checkpoint.ManifestFile), none.Message);

        TrainAndSave().Dispose();
        var modelPath = ModelPath;
        File.Delete(modelPath);
        var missing = Assert.Throws<FileNotFoundException>(() => Checkpoint.Load(dir.FullName, model));
        Assert.Equal(modelPath, missing.FileName);
        Assert.Contains(modelPath, missing.Message);
    }

    [Fact]
    public void Load_IntoAModelOfAnotherSize_ThrowsNamingTheMismatchedShapes()
    {
        TrainAndSave(numHiddens: 8).Dispose();

        using var model = new MeanRegressor(numHiddens: 16);
        using var before = nn.utils.parameters_to_vector(model.parameters()).detach().clone();
        var e = Assert.Throws<InvalidDataException>(() => Checkpoint.Load(dir.FullName, model));

        Assert.Contains(ModelPath, e.Message);
        Assert.Contains("'head.weight' is [1, 8] in the file but [1, 16] in the model", e.Message);
        Assert.Contains("same class and sizes", e.Message);
        Assert.True(Same(nn.utils.parameters_to_vector(model.parameters()), before));
    }

    [Fact]
    public void Load_WithAnotherOptimizerType_ThrowsNamingTheOptimizerFile()
    {
        TrainAndSave().Dispose();

        using var model = new MeanRegressor(numHiddens: 8);
        using var sgd = optim.SGD(model.parameters(), learningRate: 0.1);
        var e = Assert.Throws<InvalidDataException>(() => Checkpoint.Load(dir.FullName, model, sgd));

        Assert.Contains(Stored("optimizer"), e.Message);
        Assert.Contains("Adam", e.Message);
    }

    [Fact]
    public void Save_WithoutOptimizer_LoadsWeightsOnly_AndRefusesToRestoreAnOptimizer()
    {
        Seeds.Set(3);
        using var model = new MeanRegressor(numHiddens: 8);
        Checkpoint.Save(dir.FullName, model, null, TrainingState.Start(Options()));

        using var fresh = new MeanRegressor(numHiddens: 8);
        using var adam = optim.Adam(fresh.parameters());
        Checkpoint.Load(dir.FullName, fresh);
        var e = Assert.Throws<InvalidDataException>(() => Checkpoint.Load(dir.FullName, fresh, adam));

        Assert.Contains("no optimizer state", e.Message);
        Assert.Empty(Directory.GetFiles(dir.FullName, "optimizer*"));
        Assert.True(Same(nn.utils.parameters_to_vector(fresh.parameters()), nn.utils.parameters_to_vector(model.parameters())));
    }

    [Theory]
    [InlineData(Checkpoint.ModelFile)]
    [InlineData(Checkpoint.OptimizerFile)]
    [InlineData(Checkpoint.ManifestFile)]
    public void Save_FailingPartWay_LeavesThePreviousCheckpointLoadable(string failingFile)
    {
        using var expected = TrainAndSave();
        Seeds.Set(12);
        using (var other = new MeanRegressor(numHiddens: 8))
        using (var adam = optim.Adam(other.parameters(), lr: 0.02))
        {
            Checkpoint.BeforeWrite = name =>
            {
                if (name == failingFile) throw new IOException("No space left on device");
            };
            try
            {
                Assert.Throws<IOException>(() => Checkpoint.Save(dir.FullName, other, adam, TrainingState.Start(Options())));
            }
            finally
            {
                Checkpoint.BeforeWrite = null;
            }
        }

        var (state, output) = LoadAndRun();
        using var actual = output;
        Assert.True(Same(actual, expected), "the previous checkpoint's weights should load after a failed save");
        Assert.Equal(3L, state.Step);
        Assert.Empty(Directory.GetFiles(dir.FullName, "*.tmp"));
    }

    [Fact]
    public void Save_Again_RemovesTheFilesTheNewManifestDoesNotList()
    {
        TrainAndSave().Dispose();
        Seeds.Set(12);
        using var other = new MeanRegressor(numHiddens: 8);
        Checkpoint.Save(dir.FullName, other, null, TrainingState.Start(Options()));

        Assert.Equal([Checkpoint.ManifestFile, Path.GetFileName(ModelPath)],
            Directory.GetFiles(dir.FullName).Select(Path.GetFileName).Order());
    }

    [Fact]
    public void Load_ForInference_NeedsOnlyTheWeights_ButResumeChecksEveryFile()
    {
        using var expected = TrainAndSave();
        var optimizerPath = Stored("optimizer");
        File.Delete(optimizerPath);

        using (var actual = LoadAndRun(resume: false).Output)
            Assert.True(Same(actual, expected));

        using var model = new MeanRegressor(numHiddens: 8);
        using var adam = optim.Adam(model.parameters(), lr: 0.02);
        var e = Assert.Throws<FileNotFoundException>(() => Checkpoint.Load(dir.FullName, model, adam));
        Assert.Contains(optimizerPath, e.Message);
    }

    string Leftover(string name, int pid, DateTime? written = null)
    {
        var path = TestProcesses.TempName(Path.Combine(dir.FullName, name), pid);
        File.WriteAllBytes(path, new byte[1000]);
        if (written is { } w) File.SetLastWriteTimeUtc(path, w);
        return path;
    }

    [Fact]
    public void Save_RemovesTheTempFilesOfAKilledSave_ButNeverOneALiveWriterMayStillWrite()
    {
        // A second Ctrl-C or a kill in the middle of a save leaves NAME.PID.GUID.tmp files; nothing else removes them.
        TrainAndSave().Dispose();
        using var live = TestProcesses.Live();
        try
        {
            var dead = Leftover(Checkpoint.ModelFile, TestProcesses.EndedId());
            var deadManifest = Leftover(Checkpoint.ManifestFile, TestProcesses.EndedId());
            var reused = Leftover(Checkpoint.OptimizerFile, live.Id, written: DateTime.UtcNow.AddHours(-1));   // before that process began
            var fresh = Leftover(Checkpoint.ModelFile, live.Id);
            var mineUnclaimed = Leftover(Checkpoint.ModelFile, Environment.ProcessId);
            var mineWriting = TempFiles.Claim(Path.Combine(dir.FullName, Checkpoint.ModelFile));
            File.WriteAllBytes(mineWriting, [1, 2, 3]);
            var unrelated = Path.Combine(dir.FullName, "notes.tmp");
            File.WriteAllText(unrelated, "a user's file");
            try
            {
                using var expected = TrainAndSave();

                Assert.False(File.Exists(dead), "a leftover of an ended process");
                Assert.False(File.Exists(deadManifest), "a leftover manifest of an ended process");
                Assert.False(File.Exists(reused), "a leftover older than the live process of that number");
                Assert.False(File.Exists(mineUnclaimed), "a leftover of an earlier process of this number");
                Assert.True(File.Exists(fresh), "a live process's temp file must be kept");
                Assert.True(File.Exists(mineWriting), "a temp file this process is writing must be kept");
                Assert.True(File.Exists(unrelated), "only the writers' own temp names are touched");
                var (_, output) = LoadAndRun();
                using var actual = output;
                Assert.True(Same(actual, expected));
            }
            finally
            {
                TempFiles.Release(mineWriting);
            }
            Assert.False(File.Exists(mineWriting));
        }
        finally
        {
            live.Kill();
            live.WaitForExit();
        }
    }
}
