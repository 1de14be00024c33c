using System.Text.Json;
using System.Text.Json.Nodes;
using RnnNotebooks.Models;
using RnnNotebooks.Text;
using RnnNotebooks.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace RnnNotebooks.Tests.Models;

public class LanguageModelTests
{
    public LanguageModelTests() => SingleThreadedTorch.Ensure();

    [Theory]
    [InlineData(RecurrentCell.Lstm)]
    [InlineData(RecurrentCell.Gru)]
    [InlineData(RecurrentCell.Rnn)]
    public void Forward_GivesLogitsPerStep_AndAStatePerLayer(RecurrentCell cell)
    {
        manual_seed(1);
        using var model = new LanguageModel(new LanguageModelOptions(11, 8, 2, cell));
        using var ids = randint(0, 11, [3, 5]);

        var (logits, state) = model.call(ids, null);

        using (logits)
        using (state)
        {
            Assert.Equal(new long[] { 3, 5, 11 }, logits.shape);
            Assert.Equal(new long[] { 2, 3, 8 }, state.H.shape);
            Assert.Equal(cell == RecurrentCell.Lstm, state.C is not null);
        }
    }

    [Fact]
    public void Step_MatchesForwardOverTheWholeSequence()
    {
        manual_seed(2);
        using var model = new LanguageModel(new LanguageModelOptions(7, 6, 2));
        model.eval();
        using var noGrad = no_grad();
        using var ids = tensor(new long[] { 3, 1, 4, 1, 5 }, [1, 5]);
        var (all, _) = model.call(ids, null);

        RecurrentState? state = null;
        for (var t = 0; t < 5; t++)
        {
            var (logits, next) = model.Step(ids[0, t].reshape(1), state);
            Assert.True(logits.allclose(all[0, t].unsqueeze(0), rtol: 1e-5, atol: 1e-6), $"step {t}");
            state = next;
        }
    }

    [Fact]
    public void TiedWeights_ShareTheEmbeddingMatrix()
    {
        using var model = new LanguageModel(new LanguageModelOptions(9, 4, 1, TieWeights: true));

        var keys = model.state_dict().Keys.ToList();

        Assert.Contains("embedding.weight", keys);
        Assert.Contains("readoutBias", keys);
        Assert.DoesNotContain(keys, k => k.StartsWith("readout."));
    }

    [Fact]
    public void TiedWeights_WithAnotherEmbeddingSize_ThrowsNamingBothSizes()
    {
        var error = Assert.Throws<ArgumentException>(() => new LanguageModel(new LanguageModelOptions(9, 4, EmbeddingSize: 3, TieWeights: true)));

        Assert.Contains("(3)", error.Message);
        Assert.Contains("(4)", error.Message);
    }

    [Fact]
    public void CarriedStateLoss_KeepsADetachedState_AndResetsAtANewEpoch()
    {
        manual_seed(3);
        using var model = new LanguageModel(new LanguageModelOptions(10, 6, 1));
        using var streams = new TokenStreams(Enumerable.Range(0, 61).Select(i => i % 10).ToArray(), 2, 5);
        using var lossFn = new CarriedStateLoss(model);
        var batches = streams.Batches().ToList();

        using (var first = lossFn.Compute(batches[0])) first.backward();
        Assert.NotNull(lossFn.State);
        Assert.False(lossFn.State!.H.requires_grad);
        var carried = lossFn.State.H.clone();
        // A second backward would throw if the state still led into the first batch's graph.
        using (var second = lossFn.Compute(batches[1])) second.backward();
        Assert.False(lossFn.State.H.equal(carried).all().item<bool>());

        lossFn.Compute(batches[0]).Dispose();                       // ContinuesPrevious = false
        using var fresh = new CarriedStateLoss(model);
        fresh.Compute(batches[0]).Dispose();
        Assert.True(lossFn.State.H.allclose(fresh.State!.H));
    }

    [Fact]
    public void TrainingThroughTheTrainer_KeepsTheLiveTensorCountFlat()
    {
        manual_seed(4);
        using var model = new LanguageModel(new LanguageModelOptions(10, 8, 2, Dropout: 0.1));
        using var optimizer = optim.Adam(model.parameters(), 0.01);
        using var streams = new TokenStreams(Enumerable.Range(0, 201).Select(i => i * 7 % 10).ToArray(), 4, 10);
        using var lossFn = new CarriedStateLoss(model);
        TrainingState Train(int epochs, TrainingState? resume) => Trainer.Fit(model, optimizer, _ => streams.Batches(), lossFn.Compute,
            new TrainerOptions(Epochs: epochs, ClipGradNorm: 1.0, LogEvery: 0), tokens: b => b.Tokens, resume: resume);

        var state = Train(2, null);
        var early = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        state = Train(8, state);
        var late = DisposeScopeManager.Statistics.ThreadTotalLiveCount;

        Assert.Equal(8 * streams.Count, state.Step);
        Assert.Equal(early, late);
        Assert.True(state.History.Losses[^1] < state.History.Losses[0]);
    }

    [Fact]
    public void Checkpoint_RoundTrip_GivesIdenticalLogits()
    {
        manual_seed(5);
        var dir = Path.Combine(Path.GetTempPath(), "lm-ckpt-" + Guid.NewGuid().ToString("N"));
        try
        {
            var vocabulary = Vocabulary.OfWords("to be or not to be\n");
            using var model = new LanguageModel(new LanguageModelOptions(vocabulary.Size, 6, 2, RecurrentCell.Gru, Dropout: 0.2, TieWeights: true));
            using var optimizer = optim.Adam(model.parameters(), 0.01);
            LanguageModelCheckpoint.Save(dir, model, vocabulary, optimizer, TrainingState.Start(new TrainerOptions()));

            var loaded = LanguageModelCheckpoint.Load(dir, m => optim.Adam(m.parameters(), 0.01));
            using var copy = loaded.Model;
            model.eval();
            copy.eval();
            using var ids = tensor(vocabulary.Encode("not to be").Select(i => (long)i).ToArray()).unsqueeze(0);
            var (expected, _) = model.call(ids, null);
            var (actual, _) = copy.call(ids, null);

            Assert.Equal(model.Options, copy.Options);
            Assert.Equal(vocabulary.Tokens, loaded.Vocabulary.Tokens);
            Assert.NotNull(loaded.Optimizer);
            Assert.True(expected.equal(actual).all().item<bool>());
        }
        finally
        {
            if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void CheckpointLoad_ReadsTheTokenizerSectionOfEarlierBuilds()
    {
        var dir = Path.Combine(Path.GetTempPath(), "lm-old-" + Guid.NewGuid().ToString("N"));
        try
        {
            // lm.json as earlier builds wrote it, in the layout without a manifest (which ReadConfig still reads).
            Directory.CreateDirectory(dir);
            var config = new JsonObject
            {
                ["format"] = 1,
                ["options"] = JsonSerializer.SerializeToNode(new LanguageModelOptions(5, 4, 1), Json.Options),
            };
            config["tokenizer"] = JsonNode.Parse("""
                {
                  "level": "char",
                  "vocabulary": {
                    "codeUnits": [10, 32, 120, 121, 122],
                    "unknown": null,
                    "text": "\n xyz"
                  }
                }
                """);
            File.WriteAllText(Path.Combine(dir, LanguageModelCheckpoint.ConfigFile), config.ToJsonString());

            var (_, vocabulary) = LanguageModelCheckpoint.ReadConfig(dir);

            Assert.Equal(["\n", " ", "x", "y", "z"], vocabulary.Tokens);
            Assert.Equal([4, 1, 0], vocabulary.Encode("z \n"));
        }
        finally
        {
            if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void CheckpointLoad_MissingDirectory_ThrowsSayingHowToMakeOne()
    {
        var error = Assert.Throws<DirectoryNotFoundException>(() => LanguageModelCheckpoint.Load("/nonexistent/lm"));

        Assert.Contains("rnn lm train", error.Message);
    }

    [Fact]
    public void ResumeInTheMiddleOfAnEpoch_WithTheCarriedState_ReproducesTheUninterruptedLosses()
    {
        var ids = Enumerable.Range(0, 401).Select(i => (i * 7 + i / 13) % 10).ToArray();
        var options = new TrainerOptions(Epochs: 1, ClipGradNorm: 1.0, LogEvery: 0);
        var dir = Path.Combine(Path.GetTempPath(), "lm-mid-" + Guid.NewGuid().ToString("N"));
        var vocabulary = Vocabulary.OfCharacters("0123456789");
        try
        {
            Seeds.Set(11);
            using var streams = new TokenStreams(ids, 4, 10);
            double[] straight;
            using (var model = new LanguageModel(new LanguageModelOptions(10, 8, 2, Dropout: 0.1)))
            using (var optimizer = optim.Adam(model.parameters(), 0.01))
            using (var lossFn = new CarriedStateLoss(model))
                straight = Trainer.Fit(model, optimizer, _ => streams.Batches(), lossFn.Compute, options, tokens: b => b.Tokens)
                    .History.Losses.ToArray();

            Seeds.Set(11);
            using (var model = new LanguageModel(new LanguageModelOptions(10, 8, 2, Dropout: 0.1)))
            using (var optimizer = optim.Adam(model.parameters(), 0.01))
            using (var lossFn = new CarriedStateLoss(model))
            {
                var stopped = Trainer.Fit(model, optimizer, _ => streams.Batches(), lossFn.Compute, options with { MaxSteps = 4 },
                    tokens: b => b.Tokens);
                Assert.Equal(4, stopped.BatchInEpoch);
                LanguageModelCheckpoint.Save(dir, model, vocabulary, optimizer, stopped, lossFn.State);
            }

            double[] resumed;
            var loaded = LanguageModelCheckpoint.Load(dir, m => optim.Adam(m.parameters(), 0.01));
            using (var model = loaded.Model)
            using (var optimizer = loaded.Optimizer!)
            using (var lossFn = new CarriedStateLoss(model))
            {
                Assert.NotNull(loaded.CarriedState);
                lossFn.Restore(loaded.CarriedState!);
                resumed = Trainer.Fit(model, optimizer, _ => streams.Batches(), lossFn.Compute, options, tokens: b => b.Tokens,
                    resume: loaded.State).History.Losses.ToArray();
            }

            Assert.Equal(straight.Length, resumed.Length);
            for (var i = 0; i < straight.Length; i++)
                Assert.Equal(straight[i], resumed[i], 6);
        }
        finally
        {
            if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void LoadInto_FillsTheGivenModelOptimizerAndLoss_SoTrainingContinuesAsAfterLoad()
    {
        var ids = Enumerable.Range(0, 401).Select(i => (i * 7 + i / 13) % 10).ToArray();
        var options = new TrainerOptions(Epochs: 1, ClipGradNorm: 1.0, LogEvery: 0);
        var modelOptions = new LanguageModelOptions(10, 8, 2);
        var dir = Path.Combine(Path.GetTempPath(), "lm-into-" + Guid.NewGuid().ToString("N"));
        try
        {
            Seeds.Set(11);
            using var streams = new TokenStreams(ids, 4, 10);
            using (var model = new LanguageModel(modelOptions))
            using (var optimizer = optim.Adam(model.parameters(), 0.01))
            using (var lossFn = new CarriedStateLoss(model))
            {
                var stopped = Trainer.Fit(model, optimizer, _ => streams.Batches(), lossFn.Compute, options with { MaxSteps = 4 });
                LanguageModelCheckpoint.Save(dir, model, Vocabulary.OfCharacters("0123456789"), optimizer, stopped, lossFn.State);
            }

            double[] Resume(Func<(LanguageModel, optim.Optimizer, CarriedStateLoss, TrainingState)> load)
            {
                var (model, optimizer, lossFn, state) = load();
                using (model) using (optimizer) using (lossFn)
                    return Trainer.Fit(model, optimizer, _ => streams.Batches(), lossFn.Compute, options, resume: state).History.Losses.ToArray();
            }
            var afterLoad = Resume(() =>
            {
                var loaded = LanguageModelCheckpoint.Load(dir, m => optim.Adam(m.parameters(), 0.01));
                var lossFn = new CarriedStateLoss(loaded.Model);
                lossFn.Restore(loaded.CarriedState!);
                return (loaded.Model, loaded.Optimizer!, lossFn, loaded.State);
            });
            var afterLoadInto = Resume(() =>
            {
                Seeds.Set(3);
                var model = new LanguageModel(modelOptions);
                var optimizer = optim.Adam(model.parameters(), 0.01);
                var lossFn = new CarriedStateLoss(model);
                var state = LanguageModelCheckpoint.LoadInto(dir, model, optimizer, lossFn);
                Assert.NotNull(lossFn.State);
                return (model, optimizer, lossFn, state);
            });

            Assert.Equal(afterLoad.Length, afterLoadInto.Length);
            for (var i = 0; i < afterLoad.Length; i++)
                Assert.Equal(afterLoad[i], afterLoadInto[i], 6);
            using var other = new LanguageModel(modelOptions with { HiddenSize = 6 });
            var e = Assert.Throws<InvalidDataException>(() => LanguageModelCheckpoint.LoadInto(dir, other));
            Assert.Contains(LanguageModelCheckpoint.ConfigFile, e.Message);
        }
        finally
        {
            if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void CheckpointLoad_TruncatedCarriedState_NamesTheFileWhenResuming_AndInferenceIgnoresIt()
    {
        var dir = Path.Combine(Path.GetTempPath(), "lm-trunc-" + Guid.NewGuid().ToString("N"));
        var vocabulary = Vocabulary.OfCharacters("ab");
        try
        {
            using var model = new LanguageModel(new LanguageModelOptions(2, 4, 1));
            using var adam = optim.Adam(model.parameters(), 0.01);
            var state = TrainingState.Start(new TrainerOptions()) with { BatchInEpoch = 3 };
            using var carried = new RecurrentState(zeros(1, 2, 4), zeros(1, 2, 4));
            LanguageModelCheckpoint.Save(dir, model, vocabulary, adam, state, carried);
            var path = Checkpoint.PathOf(dir, LanguageModelCheckpoint.CarriedStateFile)!;
            var bytes = File.ReadAllBytes(path);
            File.WriteAllBytes(path, bytes[..^5]);

            var error = Assert.Throws<InvalidDataException>(() => LanguageModelCheckpoint.Load(dir, m => optim.Adam(m.parameters(), 0.01)));
            Assert.Contains(path, error.Message);

            var forInference = LanguageModelCheckpoint.Load(dir);
            using (forInference.Model) Assert.Null(forInference.CarriedState);
        }
        finally
        {
            if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
        }
    }
}
