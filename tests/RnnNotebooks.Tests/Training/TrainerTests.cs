using RnnNotebooks.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace RnnNotebooks.Tests.Training;

[Collection(TorchGlobalState.Name)]
public class TrainerTests : IDisposable
{
    readonly TinyProblem problem = new();
    readonly int threadsBefore = torch.get_num_threads();

    public TrainerTests() => torch.set_num_threads(1);

    public void Dispose()
    {
        problem.Dispose();
        torch.set_num_threads(threadsBefore);
    }

    TrainingState Train(int seed, TrainerOptions options, Action<TrainingProgress>? progress = null,
        CancellationToken cancellationToken = default)
    {
        Seeds.Set(seed);
        using var model = new MeanRegressor(numHiddens: 8);
        using var optimizer = optim.Adam(model.parameters(), lr: 0.02);
        return Trainer.Fit(model, optimizer, problem.Batches, TinyProblem.Loss(model), options,
            tokens: b => b.X.shape[0] * b.X.shape[1], validate: problem.Validation(model), progress: progress,
            cancellationToken: cancellationToken);
    }

    [Fact]
    public void Fit_CallsBeforeStep_WithTheUpdateCount_BeforeEveryUpdate()
    {
        var seen = new List<long>();
        var state = Train(seed: 1, new TrainerOptions(Epochs: 2, BeforeStep: seen.Add));

        Assert.Equal(Enumerable.Range(0, (int)state.Step).Select(i => (long)i), seen);
        Assert.Equal(2 * problem.BatchesPerEpoch, seen.Count);
    }

    [Fact]
    public void Fit_CallsAfterStep_AfterEveryUpdate_WithTheWeightsAlreadyChanged()
    {
        var seen = new List<long>();
        var changed = 0;
        float[]? last = null;
        Seeds.Set(2);
        using var model = new MeanRegressor(numHiddens: 8);
        using var optimizer = optim.Adam(model.parameters(), lr: 0.02);
        var state = Trainer.Fit(model, optimizer, problem.Batches, TinyProblem.Loss(model),
            new TrainerOptions(Epochs: 2, AfterStep: n =>
            {
                seen.Add(n);
                var now = model.parameters().First().data<float>().ToArray();
                if (last is not null && !now.SequenceEqual(last)) changed++;
                last = now;
            }));

        Assert.Equal(Enumerable.Range(0, (int)state.Step).Select(i => (long)i), seen);
        Assert.Equal(seen.Count - 1, changed);   // every call after the first saw new weights
    }

    [Fact]
    public void Fit_BeforeStep_CanScheduleTheLearningRate_AndAZeroRateFreezesTheWeights()
    {
        Seeds.Set(3);
        using var model = new MeanRegressor(numHiddens: 8);
        using var optimizer = optim.Adam(model.parameters(), lr: 0.02);
        var before = model.parameters().Select(p => p.detach().clone()).ToList();
        Trainer.Fit(model, optimizer, problem.Batches, TinyProblem.Loss(model),
            new TrainerOptions(Epochs: 1, BeforeStep: _ => LearningRates.Set(optimizer, 0.0)));

        foreach (var (p, q) in model.parameters().Zip(before)) Assert.True(p.detach().allclose(q, rtol: 0, atol: 0), "a zero learning rate changed a weight");
        Assert.Equal(0.0, optimizer.ParamGroups.First().LearningRate);
    }

    [Theory]
    [InlineData(0.0, 0.0, 2e-3)]
    [InlineData(0.5, 0.0, 1e-3)]
    [InlineData(1.0, 0.0, 0.0)]
    [InlineData(1.0, 0.1, 2e-4)]
    [InlineData(2.0, 0.0, 0.0)]          // clamped: past the budget stays at the floor
    [InlineData(0.25, 0.0, 1.7071067811865475e-3)]   // 2e-3 · (1 + cos 45°) / 2
    public void Cosine_FallsFromTheBaseRateToTheFloor(double progress, double floor, double expected) =>
        Assert.Equal(expected, LearningRates.Cosine(2e-3, progress, floor), 12);

    [Theory]
    [InlineData(0.0, 2e-3)]
    [InlineData(0.7, 2e-3)]             // the decay starts at 1 − 0.3
    [InlineData(0.85, 1e-3)]            // halfway through the decay
    [InlineData(0.775, 1.7071067811865475e-3)]   // a quarter of the way: 2e-3 · (1 + cos 45°) / 2
    [InlineData(1.0, 0.0)]
    [InlineData(1.5, 0.0)]
    public void HoldThenCosine_HoldsTheBaseRate_ThenFallsToZeroOverTheLastFraction(double progress, double expected) =>
        Assert.Equal(expected, LearningRates.HoldThenCosine(2e-3, progress, decayFraction: 0.3), 12);

    [Theory]
    [InlineData(0.0)]
    [InlineData(1.5)]
    [InlineData(double.NaN)]
    public void HoldThenCosine_RejectsADecayFractionOutsideZeroToOne(double fraction) =>
        Assert.Throws<ArgumentOutOfRangeException>(() => LearningRates.HoldThenCosine(2e-3, 0.5, fraction));

    [Fact]
    public void Fit_ReducesTheLossOfATinyLstmRegression()
    {
        var state = Train(seed: 1, new TrainerOptions(Epochs: 25));

        var valLoss = state.History.Series("val_loss");
        Assert.Equal(StopReason.Completed, state.History.StopReason);
        Assert.False(state.History.StoppedEarly);
        Assert.Equal(25 * problem.BatchesPerEpoch, state.History.Losses.Count);
        Assert.True(valLoss[^1] < 0.2 * valLoss[0], $"validation loss went from {valLoss[0]} to {valLoss[^1]}");
        Assert.True(state.IsComplete);
    }

    [Fact]
    public void Fit_SameSeed_GivesIdenticalLossCurves_AndDifferentSeedDoesNot()
    {
        var options = new TrainerOptions(Epochs: 3);
        var first = Train(seed: 5, options).History.Losses;
        var again = Train(seed: 5, options).History.Losses;
        var other = Train(seed: 6, options).History.Losses;

        Assert.Equal(first, again);
        Assert.NotEqual(first, other);
    }

    [Fact]
    public void Fit_KeepsTheLiveTensorCountFlat_Over200Steps()
    {
        var live = new Dictionary<long, long>();
        var state = Train(seed: 2, new TrainerOptions(Epochs: 50, ClipGradNorm: 1.0, LogEvery: 1),
            progress: p => live.TryAdd(p.Step, DisposeScopeManager.Statistics.ThreadTotalLiveCount));

        Assert.Equal(200, state.Step);
        Assert.Equal(live[20], live[200]);
    }

    [Fact]
    public void Fit_WithClipping_RecordsPreClipNormsAndBoundsTheUpdate()
    {
        // SGD with lr = 1 moves the weights by exactly the (clipped) gradient, so the update's norm shows the clip.
        (double Recorded, double Update) OneStep(double maxNorm)
        {
            Seeds.Set(3);
            using var model = new MeanRegressor(numHiddens: 8);
            using var optimizer = optim.SGD(model.parameters(), learningRate: 1.0);
            using var before = nn.utils.parameters_to_vector(model.parameters()).detach().clone();
            var state = Trainer.Fit(model, optimizer, problem.Batches, b => TinyProblem.Loss(model)(b) * 100,
                new TrainerOptions(MaxSteps: 1, ClipGradNorm: maxNorm));
            using var after = nn.utils.parameters_to_vector(model.parameters()).detach();
            using var update = (after - before).norm();
            return (Assert.Single(state.History.GradNorms), update.ToDouble());
        }

        var unclipped = OneStep(maxNorm: 1e9);
        var clipped = OneStep(maxNorm: 0.1);

        Assert.Equal(unclipped.Recorded, unclipped.Update, tolerance: 1e-4 * unclipped.Recorded);
        Assert.True(unclipped.Recorded > 1, $"the test needs a gradient norm well above the clip, got {unclipped.Recorded}");
        Assert.Equal(unclipped.Recorded, clipped.Recorded, tolerance: 1e-6 * unclipped.Recorded);
        Assert.Equal(0.1, clipped.Update, tolerance: 1e-4);
    }

    [Fact]
    public void Fit_StopsEarlyAndSaysSo_WhenTheTimeBudgetRunsOut()
    {
        var budget = TimeSpan.FromMilliseconds(300);
        Seeds.Set(4);
        using var model = new MeanRegressor(numHiddens: 8);
        using var optimizer = optim.Adam(model.parameters());
        var loss = TinyProblem.Loss(model);

        var state = Trainer.Fit(model, optimizer, problem.Batches, b => { Thread.Sleep(10); return loss(b); },
            new TrainerOptions(Epochs: 1000, TimeBudget: budget));

        Assert.Equal(StopReason.TimeBudget, state.History.StopReason);
        Assert.True(state.History.StoppedEarly);
        Assert.Contains("time budget", state.History.StopMessage);
        Assert.InRange(state.Step, 5, 1000 * problem.BatchesPerEpoch - 1);
        Assert.InRange(state.ElapsedSeconds, budget.TotalSeconds, budget.TotalSeconds + 1.0);
        Assert.False(state.IsComplete);
    }

    [Fact]
    public void Fit_ReportsProgress_WithSaneValues()
    {
        var reports = new List<TrainingProgress>();
        var state = Train(seed: 5, new TrainerOptions(Epochs: 3, LogEvery: 2), progress: reports.Add);

        // Every 2 of 12 steps, plus 3 epoch ends. The batches come from an iterator, so the total is known
        // only once the first epoch has ended (report 3).
        Assert.Equal(6 + 3, reports.Count);
        Assert.All(reports, p =>
        {
            Assert.Equal(3, p.Epochs);
            Assert.InRange(p.Epoch, 1, 3);
            Assert.True(double.IsFinite(p.Loss) && p.Loss > 0);
            Assert.True(p.TokensPerSecond > 0);
        });
        Assert.All(reports.Take(2), p => Assert.Equal((null, null), (p.TotalSteps, p.Eta)));
        Assert.All(reports.Skip(2), p => Assert.Equal(12, p.TotalSteps));
        Assert.All(reports.Skip(2), p => Assert.True(p.Eta >= TimeSpan.Zero));
        Assert.Equal(reports.Select(p => p.Step).Order(), reports.Select(p => p.Step));
        Assert.Equal(reports.Select(p => p.Elapsed).Order(), reports.Select(p => p.Elapsed));
        Assert.Equal(TimeSpan.Zero, reports[^1].Eta);
        Assert.Equal(state.History.Epochs[^1].Metrics["val_loss"], reports[^1].Metrics["val_loss"]);
        Assert.Equal(state.History.Epochs[^1].TrainLoss, reports[^1].Loss);
        Assert.Equal(state.History.Losses.Take(2).Average(), reports[0].Loss, tolerance: 1e-12);
        Assert.StartsWith("epoch 3/3 · step 12/12 · loss ", reports[^1].ToString());
        Assert.Contains(" · val_loss ", reports[^1].ToString());
    }

    [Fact]
    public void Fit_StopsAfterTheCurrentBatch_WhenCancelled()
    {
        using var cancel = new CancellationTokenSource();
        var state = Train(seed: 5, new TrainerOptions(Epochs: 10, LogEvery: 1),
            progress: p => { if (p.Step == 3) cancel.Cancel(); }, cancellationToken: cancel.Token);

        Assert.Equal(StopReason.Cancelled, state.History.StopReason);
        Assert.Equal(3, state.Step);
        Assert.Equal((0, 3), (state.Epoch, state.BatchInEpoch));
    }

    [Fact]
    public void Fit_StopsAtMaxSteps_AndFinishesAnEpochThatEndsThere()
    {
        var atEpochEnd = Train(seed: 5, new TrainerOptions(Epochs: 10, MaxSteps: 8));
        var midEpoch = Train(seed: 5, new TrainerOptions(Epochs: 10, MaxSteps: 9));
        var lastStep = Train(seed: 5, new TrainerOptions(Epochs: 2, MaxSteps: 8));

        Assert.Equal(StopReason.MaxSteps, atEpochEnd.History.StopReason);
        Assert.Equal(8, atEpochEnd.Step);
        Assert.Equal(2, atEpochEnd.History.Epochs.Count);
        Assert.Equal((2, 0), (atEpochEnd.Epoch, atEpochEnd.BatchInEpoch));
        Assert.Equal((2, 1), (midEpoch.Epoch, midEpoch.BatchInEpoch));
        Assert.Equal(StopReason.Completed, lastStep.History.StopReason);
    }

    [Fact]
    public void Fit_StopsWithoutApplyingTheUpdate_WhenTheLossIsNaN()
    {
        Seeds.Set(6);
        using var model = new MeanRegressor(numHiddens: 8);
        using var optimizer = optim.Adam(model.parameters());
        var loss = TinyProblem.Loss(model);
        var calls = 0;

        var state = Trainer.Fit(model, optimizer, problem.Batches,
            b => ++calls == 3 ? loss(b) * double.NaN : loss(b), new TrainerOptions(Epochs: 2));

        Assert.Equal(StopReason.NonFiniteLoss, state.History.StopReason);
        Assert.Equal(2, state.Step);
        Assert.All(model.parameters(), p => Assert.False(p.isnan().any().ToBoolean()));
    }

    [Fact]
    public void History_RoundTripsThroughJson()
    {
        var history = Train(seed: 5, new TrainerOptions(Epochs: 2, ClipGradNorm: 1, MaxSteps: 6)).History;

        var copy = TrainingHistory.FromJson(history.ToJson());

        Assert.Equal(history.Losses, copy.Losses);
        Assert.Equal(history.GradNorms, copy.GradNorms);
        Assert.Equal(history.Tokens, copy.Tokens);
        Assert.Equal(history.StepSeconds, copy.StepSeconds);
        Assert.Equal(history.Series("val_loss"), copy.Series("val_loss"));
        Assert.Equal(history.Epochs.Select(e => e with { Metrics = null! }), copy.Epochs.Select(e => e with { Metrics = null! }));
        Assert.Equal((history.StopReason, history.StopMessage), (copy.StopReason, copy.StopMessage));
    }

    sealed class TrimsAtTheEnd : IEpochHook
    {
        public int? Seen { get; private set; }

        public void OnEpochEnd(EpochEnd end) { }

        public void OnTrainingEnd(TrainingState state) => Seen = RnnNotebooks.Platform.NativeHeap.Trims;
    }

    [Fact]
    public void Fit_StoppedEarly_RunsTheEndHooks_BeforeItTrimsTheHeap()
    {
        // The trim walks the whole C heap, where glibc aborts on damage a native library did; the checkpoint the end
        // hook saves must be on disk before that (issue 33: a Ctrl-C once ended in "corrupted size vs. prev_size" and
        // saved nothing).
        Assert.SkipUnless(RnnNotebooks.Platform.NativeHeap.Trim(), "no malloc_trim on this system");
        var hook = new TrimsAtTheEnd();
        using var cancel = new CancellationTokenSource();
        Seeds.Set(1);
        using var model = new MeanRegressor(numHiddens: 8);
        using var optimizer = optim.Adam(model.parameters(), lr: 0.02);

        var state = Trainer.Fit(model, optimizer, problem.Batches, TinyProblem.Loss(model), new TrainerOptions(Epochs: 5),
            progress: _ => cancel.Cancel(), cancellationToken: cancel.Token, hooks: [hook]);

        Assert.Equal(StopReason.Cancelled, state.History.StopReason);
        Assert.NotNull(hook.Seen);
        Assert.True(RnnNotebooks.Platform.NativeHeap.Trims > hook.Seen, "the heap was trimmed before the end hooks ran");
    }
}
