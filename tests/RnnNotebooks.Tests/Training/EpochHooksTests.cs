using RnnNotebooks.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace RnnNotebooks.Tests.Training;

[Collection(TorchGlobalState.Name)]
public sealed class EpochHooksTests : IDisposable
{
    readonly TinyProblem problem = new();
    readonly int threadsBefore = torch.get_num_threads();
    readonly string dir = Path.Combine(Path.GetTempPath(), $"rnn-hooks-{Guid.NewGuid():N}");

    public EpochHooksTests() => torch.set_num_threads(1);

    public void Dispose()
    {
        problem.Dispose();
        torch.set_num_threads(threadsBefore);
        if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
    }

    /// <summary>Trains 4 epochs in one <see cref="Trainer.Fit"/> whose validation returns <paramref name="scores"/> in turn.</summary>
    TrainingState Train(MeanRegressor model, optim.Optimizer optimizer, double[] scores, params IEpochHook[] hooks)
    {
        var epoch = 0;
        return Trainer.Fit(model, optimizer, problem.Batches, TinyProblem.Loss(model), new TrainerOptions(Epochs: scores.Length, LogEvery: 0),
            validate: () => new Dictionary<string, double> { ["score"] = scores[epoch++] }, hooks: hooks);
    }

    [Fact]
    public void Fit_RunsHooksAtEveryEpochEnd_InOrder_AndOnceWhenItStops()
    {
        Seeds.Set(1);
        using var model = new MeanRegressor(numHiddens: 8);
        using var optimizer = optim.Adam(model.parameters(), lr: 0.01);
        var calls = new List<string>();
        var state = Train(model, optimizer, [3, 2, 1],
            new EpochAction(e => calls.Add($"a{e.Summary.Epoch}:{e.State.Epoch}:{e.State.History.Epochs.Count}")),
            new EpochAction(e => calls.Add($"b{e.Summary.Epoch}")),
            new SaveCheckpoint(s => calls.Add($"end{s.Epoch}:{s.History.StopReason}")));

        Assert.Equal(["a1:1:1", "b1", "end1:Completed", "a2:2:2", "b2", "end2:Completed", "a3:3:3", "b3", "end3:Completed", "end3:Completed"], calls);
        Assert.Equal(3, state.Epoch);
    }

    [Fact]
    public void KeepBest_EndsWithTheWeightsOfTheBestEpoch()
    {
        Seeds.Set(2);
        using var model = new MeanRegressor(numHiddens: 8);
        using var optimizer = optim.Adam(model.parameters(), lr: 0.05);
        Tensor? atBest = null;
        using var best = new KeepBest(model, new Score("score", HigherIsBetter: false));
        Train(model, optimizer, [3, 1, 2, 5], best, new EpochAction(e =>
        {
            if (e.Summary.Epoch == 2) atBest = nn.utils.parameters_to_vector(model.parameters()).detach().clone().DetachFromDisposeScope();
        }));

        using var now = nn.utils.parameters_to_vector(model.parameters()).detach();
        Assert.Equal(1, best.BestScore);
        Assert.Equal(2, best.BestState!.Epoch);
        Assert.Equal(atBest!.data<float>().ToArray(), now.data<float>().ToArray());     // epoch 2's weights
        atBest!.Dispose();
    }

    [Fact]
    public void ReduceOnPlateau_CutsTheRateAfterEachEpochNoBetterThanTheEarlierBest()
    {
        Seeds.Set(3);
        using var model = new MeanRegressor(numHiddens: 8);
        using var optimizer = optim.Adam(model.parameters(), lr: 0.01);
        var rates = new List<double>();
        Train(model, optimizer, [1.0, 2.0, 0.5, 0.5, 0.4], new ReduceOnPlateau(optimizer, new Score("score", HigherIsBetter: false), 0.5),
            new EpochAction(_ => rates.Add(optimizer.ParamGroups.First().LearningRate)));

        Assert.Equal([0.01, 0.005, 0.005, 0.0025, 0.0025], rates);
    }

    [Theory]
    [InlineData(new[] { 1.0, 1.0, 1.0, 0.8, 0.9, 0.9, 0.9, 0.85, 0.95, 0.95, 0.7, 0.9, 0.9, 0.9, 0.9 }, 3)]
    [InlineData(new[] { 1.0, 0.5, 0.6, 0.6, 0.4, 0.45, 0.45, 0.45, 0.45, 0.45, 0.45, 0.45 }, 2)]
    public void ReduceOnPlateau_WithPatienceFloorAndAnUninformativeScore_CutsEveryPatienceEpochsSinceTheBest(double[] scores, int patience)
    {
        Seeds.Set(3);
        using var model = new MeanRegressor(numHiddens: 8);
        using var optimizer = optim.Adam(model.parameters(), lr: 0.01);
        var rates = new List<double>();
        Train(model, optimizer, scores, new ReduceOnPlateau(optimizer, new Score("score", HigherIsBetter: false), 0.5, patience: patience,
                minLearningRate: 0.002, uninformative: 1),
            new EpochAction(_ => rates.Add(optimizer.ParamGroups.First().LearningRate)));

        // The rule written out: count the epochs since the (strictly) best one; cut at every multiple of the patience,
        // but not while the best is still the uninformative 1, and never below the floor.
        var expected = new List<double>();
        var (rate, best, bestAt) = (0.01, double.PositiveInfinity, 0);
        for (var i = 0; i < scores.Length; i++)
        {
            if (scores[i] < best) (best, bestAt) = (scores[i], i);
            var since = i - bestAt;
            if (best < 1 && since > 0 && since % patience == 0) rate = Math.Max(0.002, rate / 2);
            expected.Add(rate);
        }
        Assert.Equal(expected, rates);
        Assert.Contains(0.002, rates);                                  // the floor was reached
        Assert.Equal(0.01, rates[patience]);                            // nothing cut while the score was 1
    }

    [Fact]
    public void SaveCheckpoint_WithKeepBest_SavesOnlyNewBests()
    {
        Seeds.Set(4);
        using var model = new MeanRegressor(numHiddens: 8);
        using var optimizer = optim.Adam(model.parameters(), lr: 0.01);
        using var best = new KeepBest(model, new Score("score", HigherIsBetter: true));
        var saved = new List<int>();
        Train(model, optimizer, [0.2, 0.1, 0.3, 0.3], best, new SaveCheckpoint(s => saved.Add(s.Epoch), onlyBest: best));

        Assert.Equal([1, 3], saved);
    }

    [Fact]
    public void SaveCheckpoint_WithKeepBest_ResumedRunThatFindsNothingBetter_NeverSaves()
    {
        Seeds.Set(6);
        using var model = new MeanRegressor(numHiddens: 8);
        using var optimizer = optim.Adam(model.parameters(), lr: 0.01);
        var first = Train(model, optimizer, [0.9, 0.8]);                // the run being resumed: best score 0.9
        var scores = new Queue<double>([0.5, 0.4]);
        using var best = new KeepBest(model, new Score("score", HigherIsBetter: true));
        var saved = new List<int>();
        Trainer.Fit(model, optimizer, problem.Batches, TinyProblem.Loss(model), new TrainerOptions(Epochs: 4, LogEvery: 0),
            validate: () => new Dictionary<string, double> { ["score"] = scores.Dequeue() }, resume: first,
            hooks: [best, new SaveCheckpoint(s => saved.Add(s.Epoch), onlyBest: best)]);

        Assert.Empty(saved);
        Assert.Equal(0.9, best.BestScore);
    }

    [Fact]
    public void SaveCheckpoint_WithKeepBest_FirstRunStoppedBeforeAnyEpochEnd_StillSaves()
    {
        Seeds.Set(7);
        using var model = new MeanRegressor(numHiddens: 8);
        using var optimizer = optim.Adam(model.parameters(), lr: 0.01);
        using var cancel = new CancellationTokenSource();
        using var best = new KeepBest(model, new Score("score", HigherIsBetter: true));
        var saved = new List<int>();
        Trainer.Fit(model, optimizer, problem.Batches, TinyProblem.Loss(model), new TrainerOptions(Epochs: 3, LogEvery: 1),
            validate: () => new Dictionary<string, double> { ["score"] = 1 },
            progress: p => { if (p.Step == 2) cancel.Cancel(); }, cancellationToken: cancel.Token,
            hooks: [best, new SaveCheckpoint(s => saved.Add((int)s.Step), onlyBest: best)]);

        Assert.Equal([2], saved);
    }

    [Fact]
    public void Fit_Cancelled_StopsAtTheNextStep_AndTheSaveHookGetsTheStoppedState()
    {
        Seeds.Set(5);
        using var model = new MeanRegressor(numHiddens: 8);
        using var optimizer = optim.Adam(model.parameters(), lr: 0.01);
        using var cancel = new CancellationTokenSource();
        var saved = new List<TrainingState>();
        var state = Trainer.Fit(model, optimizer, problem.Batches, TinyProblem.Loss(model), new TrainerOptions(Epochs: 50, LogEvery: 1),
            progress: p => { if (p.Step == 6) cancel.Cancel(); }, cancellationToken: cancel.Token, hooks: [new SaveCheckpoint(saved.Add)]);

        Assert.Equal(StopReason.Cancelled, state.History.StopReason);
        Assert.Equal(6, state.Step);
        Assert.Equal(state, saved[^1]);
    }

    sealed record Options(string Data, int Hidden, int Epochs);

    static Options WithoutBudget(Options o) => o with { Epochs = 0 };

    void SaveCheckpointWith(Options? options)
    {
        Seeds.Set(6);
        using var model = new MeanRegressor(numHiddens: 4);
        Checkpoint.Save(dir, model, null, TrainingState.Start(new TrainerOptions(Epochs: 3)),
            options is null ? null : RunFolder.OptionsFiles(options));
    }

    [Fact]
    public void RunFolder_EmptyFolder_StartsANewRun_ButResumeAsksForACheckpoint()
    {
        var asked = new Options("a", 8, 3);
        Assert.False(RunFolder.ShouldResume(dir, asked, WithoutBudget, ExistingCheckpoint.ResumeIfSame, "model"));
        Assert.False(RunFolder.ShouldResume(dir, asked, WithoutBudget, ExistingCheckpoint.Replace, "model"));
        var error = Assert.Throws<InvalidOperationException>(() => RunFolder.ShouldResume(dir, asked, WithoutBudget, ExistingCheckpoint.Resume, "model"));
        Assert.Contains("--resume", error.Message);
    }

    [Fact]
    public void RunFolder_SameOptions_Resume_EvenWithAnotherBudget()
    {
        SaveCheckpointWith(new Options("a", 8, 3));
        Assert.True(RunFolder.ShouldResume(dir, new Options("a", 8, 10), WithoutBudget, ExistingCheckpoint.ResumeIfSame, "model"));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void RunFolder_OtherOrUnknownOptions_Refuse_NamingOutForceAndResume(bool optionsSaved)
    {
        SaveCheckpointWith(optionsSaved ? new Options("a", 8, 3) : null);
        var asked = new Options("a", 16, 3);

        var error = Assert.Throws<InvalidOperationException>(() => RunFolder.ShouldResume(dir, asked, WithoutBudget, ExistingCheckpoint.ResumeIfSame, "model"));

        foreach (var word in new[] { dir, "--out", "--force", "--resume", "unfinished" }) Assert.Contains(word, error.Message);
        if (optionsSaved) Assert.Contains("hidden 8 there, 16 now", error.Message);
        Assert.True(RunFolder.ShouldResume(dir, asked, WithoutBudget, ExistingCheckpoint.Resume, "model"));
        Assert.False(RunFolder.ShouldResume(dir, asked, WithoutBudget, ExistingCheckpoint.Replace, "model"));
    }
}
