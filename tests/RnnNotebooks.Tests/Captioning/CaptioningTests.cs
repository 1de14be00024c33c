using RnnNotebooks.Captioning;
using RnnNotebooks.Decoding;
using RnnNotebooks.Tests.Models;
using RnnNotebooks.Tests.Training;
using RnnNotebooks.Text;
using RnnNotebooks.Training;
using RnnNotebooks.Translation;
using RnnNotebooks.Vision;
using TorchSharp;
using static TorchSharp.torch;

namespace RnnNotebooks.Tests.Captioning;

public sealed class CaptioningTests
{
    public CaptioningTests() => SingleThreadedTorch.Ensure();

    const int Regions = 49;
    const int Channels = 16;

    /// <summary>A toy task: each image's features encode which of four captions it has.</summary>
    static readonly string[][] Sentences =
    [
        ["a", "dog", "runs", "on", "grass"],
        ["a", "child", "plays", "in", "water"],
        ["two", "men", "ride", "bikes"],
        ["a", "black", "dog", "swims"],
    ];

    internal static (IReadOnlyList<CaptionedImage> Images, ImageFeatureSet Features) ToyData(int images = 8)
    {
        var list = Enumerable.Range(0, images).Select(i =>
        {
            var words = (IReadOnlyList<string>)Sentences[i % Sentences.Length];
            return new CaptionedImage($"img{i}.jpg", [string.Join(' ', words)], [words]);
        }).ToList();
        var data = new Half[images * Regions * Channels];
        for (var i = 0; i < images; i++)
            for (var r = 0; r < Regions; r++)
                data[(i * Regions + r) * Channels + i % Sentences.Length] = (Half)(r == 10 * (i % Sentences.Length) ? 4f : 1f);
        return (list, new ImageFeatureSet([.. list.Select(l => l.Image)], data, Regions, Channels));
    }

    internal static Captioner ToyCaptioner(IReadOnlyList<CaptionedImage> images, bool attention = true, double dropout = 0.0)
    {
        var vocabulary = CaptionData.BuildVocabulary(images, minCount: 1);
        var options = new CaptionModelOptions(vocabulary.Size, attention, Embedding: 16, Hidden: 32, AttentionSize: 16, FeatureSize: Channels,
            Dropout: dropout);
        return new Captioner(new CaptionModel(options), vocabulary, new CaptionerConfig(options, 1, 8));
    }

    [Fact]
    public void Tokenize_LowercasesAndDropsPunctuation()
    {
        Assert.Equal(["a", "child", "in", "a", "pink", "dress", "isn't", "climbing"], CaptionData.Tokenize("A child in a pink dress , isn't climbing ."));
    }

    [Fact]
    public void Collate_PadsCaptions_WithBosEosAndMask()
    {
        var (images, features) = ToyData(2);
        using var scope = NewDisposeScope();
        var batch = CaptionBatch.Collate([("img0.jpg", [5, 6, 7]), ("img1.jpg", [8])], features);
        Assert.Equal(new long[] { 1, 5, 6, 7, 1, 8, 0, 0 }, batch.Input.data<long>().ToArray());
        Assert.Equal(new long[] { 5, 6, 7, 2, 8, 2, 0, 0 }, batch.Target.data<long>().ToArray());
        Assert.Equal(new[] { true, true, true, true, true, true, false, false }, batch.Mask.data<bool>().ToArray());
        Assert.Equal(6, batch.Tokens);
        Assert.Equal(new long[] { 2, Regions, Channels }, batch.Features.shape);
    }

    [Fact]
    public void Epoch_CoversEveryCaptionOnce()
    {
        var (images, features) = ToyData(10);
        var vocabulary = CaptionData.BuildVocabulary(images, 1);
        using var scope = NewDisposeScope();
        var seen = CaptionBatch.Epoch(images, vocabulary, features, 3, new Random(1)).SelectMany(b => b.Images).Order().ToList();
        Assert.Equal(images.Select(i => i.Image).Order(), seen);
    }

    [Fact]
    public void Step_ReturnsShapes_AndAttentionSumsToOneOverRegions()
    {
        var (images, features) = ToyData(4);
        using var captioner0 = new DisposableCaptioner(ToyCaptioner(images));
        var model = captioner0.Value.Model;
        using var scope = NewDisposeScope();
        var f = features.Batch(["img0.jpg", "img1.jpg", "img2.jpg"]);
        var state = model.Start(f);
        Assert.Equal(new long[] { 3, 32 }, state.H.shape);
        var (logits, next, alpha) = model.Step(f, model.PrepareKeys(f), state, tensor(new long[] { 1, 1, 1 }));
        Assert.Equal(new long[] { 3, captioner0.Value.Vocabulary.Size }, logits.shape);
        Assert.Equal(new long[] { 3, 32 }, next.C.shape);
        Assert.NotNull(alpha);
        Assert.Equal(new long[] { 3, Regions }, alpha!.shape);
        Assert.All(alpha.sum(1).data<float>().ToArray(), s => Assert.Equal(1f, s, 1e-5f));
        Assert.True(alpha.min().item<float>() >= 0);

        var baseline = ToyCaptioner(images, attention: false).Model;
        var (bl, _, ba) = baseline.Step(f, baseline.PrepareKeys(f), baseline.Start(f), tensor(new long[] { 1, 1, 1 }));
        Assert.Null(ba);
        Assert.Equal(logits.shape, bl.shape);
    }

    [Fact]
    public void Loss_DoublyStochasticTerm_AddsToCrossEntropy()
    {
        var (images, features) = ToyData(4);
        var captioner = ToyCaptioner(images);
        using var scope = NewDisposeScope();
        var batch = CaptionBatch.Epoch(images, captioner.Vocabulary, features, 4, null).First();
        var with = captioner.Model.Loss(batch).item<float>();
        var without = new CaptionModel(captioner.Model.Options with { DoublyStochastic = 0 });
        without.load_state_dict(captioner.Model.state_dict());
        var plain = without.Loss(batch).item<float>();
        // Near-uniform attention over 49 regions for ~6 steps puts ~6/49 on each region: (1 − 0.12)² ≈ 0.77.
        Assert.InRange(with - plain, 0.6, 0.9);
    }

    [Fact]
    public void Beam1_EqualsGreedy_OnTheCaptionModel()
    {
        var (images, features) = ToyData(4);
        var captioner = ToyCaptioner(images);
        Seeds.Set(3);
        using var scope = NewDisposeScope();
        // Train a few steps so the scores are not flat (ties could legitimately break differently).
        CaptionTraining.Train(captioner, images, [], features, new CaptionTrainingOptions(Epochs: 5, BatchSize: 4, LogEvery: 0));
        var f = features.Batch([.. images.Select(i => i.Image)]);
        var greedy = captioner.Model.Greedy(f, 8);
        for (var i = 0; i < images.Count; i++)
        {
            var beam = captioner.Model.Beam(f.narrow(0, i, 1), beamSize: 1, maxLength: 8);
            Assert.Equal(greedy[i].Tokens, beam[0].Tokens);
            var attention = captioner.Model.AttentionFor(f.narrow(0, i, 1), beam[0].Tokens);
            Assert.Equal(greedy[i].Alphas.Length, attention.Length);
            for (var t = 0; t < attention.Length; t++) Assert.Equal(greedy[i].Alphas[t], attention[t], new FloatTolerance(1e-4f));
        }
    }

    [Fact]
    public void Ensemble_RanksWordsByTheLogOfTheModelsMeanProbability()
    {
        var (images, features) = ToyData(4);
        Seeds.Set(11);
        var first = ToyCaptioner(images);
        var second = ToyCaptioner(images, attention: false);
        using var scope = NewDisposeScope();
        var f = features.Batch(["img2.jpg"]);
        // By hand: each model's next-word distribution after <bos> (the decoders never pick <pad>, <bos>, <unk>).
        var mean = zeros(first.Vocabulary.Size);
        foreach (var m in new[] { first.Model, second.Model })
        {
            m.eval();
            var (logits, _, _) = m.Step(f, m.PrepareKeys(f), m.Start(f), tensor(new[] { Vocabulary.Bos }));
            logits = logits.index_fill(1, tensor(new[] { Vocabulary.Pad, Vocabulary.Bos, Vocabulary.Unk }), double.NegativeInfinity);
            mean = mean.add(logits.softmax(1).squeeze(0).div(2));
        }
        var best = mean.argmax().item<long>();
        var hypotheses = CaptionModel.BeamEnsemble([first.Model, second.Model], f, beamSize: 1, maxLength: 1);
        var top = Assert.Single(hypotheses);
        Assert.Equal(Math.Log(mean[best].item<float>()), top.LogProb, 4);
        Assert.Equal(best == Vocabulary.Eos ? [] : [best], top.Tokens);

        // The mean of two different distributions is neither of them.
        var alone = CaptionModel.BeamEnsemble([first.Model], f, beamSize: 1, maxLength: 1)[0];
        Assert.NotEqual(alone.LogProb, top.LogProb, 3);
    }

    [Fact]
    public void Ensemble_OfAModelWithItself_CaptionsLikeTheModel_AndMismatchedVocabulariesAreRefused()
    {
        var (images, features) = ToyData(4);
        var captioner = ToyCaptioner(images);
        Seeds.Set(4);
        using var scope = NewDisposeScope();
        CaptionTraining.Train(captioner, images, [], features, new CaptionTrainingOptions(Epochs: 5, BatchSize: 4, LogEvery: 0));
        var f = features.Batch([.. images.Select(i => i.Image)]);
        var twice = Captioner.Ensemble([captioner, captioner]);
        Assert.Equal(2, twice.Members.Count);
        foreach (var beam in new[] { 1, 3 })
            Assert.Equal(captioner.Caption(f, beam).Select(c => c.Words), twice.Caption(f, beam).Select(c => c.Words));

        var otherImages = new[] { new CaptionedImage("img0.jpg", ["three birds fly"], [["three", "birds", "fly"]]) };
        var other = new Captioner(new CaptionModel(captioner.Model.Options), CaptionData.BuildVocabulary(otherImages, 1), captioner.Config);
        var error = Assert.Throws<ArgumentException>(() => Captioner.Ensemble([captioner, other], ["runs/a", "runs/b"]));
        Assert.Contains("runs/b", error.Message);
        Assert.Contains("different vocabulary", error.Message);
    }

    [Fact]
    public void Train_TinyOverfit_LossFalls_AndCaptionsAreLearned()
    {
        // Constant learning rate: the toy's dev BLEU-4 sits at 0 for the first epochs, which the plateau rule would
        // read as a plateau and halve the rate before anything is learned.
        Seeds.Set(1);                   // before the model, so its initial weights do not depend on earlier tests
        var (images, features) = ToyData(8);
        var captioner = ToyCaptioner(images);
        var result = CaptionTraining.Train(captioner, images, images, features,
            new CaptionTrainingOptions(Epochs: 60, BatchSize: 8, LearningRate: 0.01, DevImages: 8, LogEvery: 0, PlateauDecay: 1));
        var losses = result.State.History.Losses;
        Assert.True(losses[^1] < losses[0] * 0.5, $"loss {losses[0]:0.00} → {losses[^1]:0.00}");
        // Greedy, as the dev score that picked the kept weights is greedy; on this barely peaked toy model beam search
        // may prefer a shorter caption of another image (beam ≡ greedy at size 1 is tested below).
        var evaluation = captioner.Evaluate(images, features, beamSize: 1);
        Assert.True(evaluation.Bleu.Cumulative[3] > 90, $"BLEU-4 {evaluation.Bleu.Cumulative[3]:0.0} after overfitting (dev BLEU-4 by epoch " +
            $"{string.Join(" ", result.State.History.Series("dev_bleu_4").Select(b => b.ToString("0")))}; loss {losses[^1]:0.000}); captions: " +
            string.Join(" | ", evaluation.Samples.Select(s => s.Caption)));
        Assert.Equal(8, evaluation.Samples.Count);
    }

    [Theory]
    [InlineData(0.5, 2)]
    [InlineData(1.0, 0)]
    public void Training_HalvesTheLearningRate_WhenDevBleuStopsImproving(double decay, int expectedHalvings)
    {
        Seeds.Set(2);
        var (images, features) = ToyData(4);
        var captioner = ToyCaptioner(images);
        var messages = new List<string>();
        // A learning rate far too small to change any caption: dev BLEU-4 stays put, so epochs 2 and 3 are plateaus.
        CaptionTraining.Train(captioner, images, images, features,
            new CaptionTrainingOptions(Epochs: 3, BatchSize: 4, LearningRate: 1e-12, DevImages: 4, LogEvery: 0, PlateauDecay: decay),
            log: messages.Add);
        var halvings = messages.Where(m => m.Contains("learning rate now")).ToList();
        Assert.Equal(expectedHalvings, halvings.Count);
        if (expectedHalvings == 2)
        {
            Assert.Contains("learning rate now 5e-13", halvings[0]);
            Assert.Contains("learning rate now 2.5e-13", halvings[1]);
        }
    }

    [Fact]
    public void Decoding_NeverEmitsUnknownWord_EvenWhenItScoresHighest()
    {
        Seeds.Set(4);
        var (images, features) = ToyData(4);
        var captioner = ToyCaptioner(images);
        using var scope = NewDisposeScope();
        using (no_grad()) captioner.Model.state_dict()["output.bias"][Vocabulary.Unk].fill_(50f);   // <unk> wins every plain argmax
        var f = features.Batch([.. images.Select(i => i.Image)]);
        var (logits, _, _) = captioner.Model.Step(f, captioner.Model.PrepareKeys(f), captioner.Model.Start(f), full(4, Vocabulary.Bos, dtype: ScalarType.Int64));
        Assert.All(logits.argmax(1).data<long>().ToArray(), id => Assert.Equal(Vocabulary.Unk, id));

        var greedy = captioner.Model.Greedy(f, 8);
        var beam = captioner.Model.Beam(f.narrow(0, 0, 1), beamSize: 3, maxLength: 8);

        Assert.All(greedy, g => Assert.DoesNotContain(Vocabulary.Unk, g.Tokens));
        Assert.All(beam, h => Assert.DoesNotContain(Vocabulary.Unk, h.Tokens));
        Assert.Contains(greedy, g => g.Tokens.Length > 0);
    }

    [Fact]
    public void Training_LiveTensorCount_StaysFlat()
    {
        var (images, features) = ToyData(8);
        var captioner = ToyCaptioner(images, dropout: 0.5);
        using var optimizer = optim.Adam(captioner.Model.parameters(), 1e-3);
        var counts = new List<long>();
        for (var step = 0; step < 30; step++)
        {
            Trainer.Fit(captioner.Model, optimizer, e => CaptionBatch.Epoch(images, captioner.Vocabulary, features, 4, new Random(e)),
                b => captioner.Model.Loss(b), new TrainerOptions(Epochs: 1, ClipGradNorm: 5, LogEvery: 0));
            using (NewDisposeScope()) captioner.Model.Greedy(features.Batch(["img0.jpg"]), 5);
            counts.Add(DisposeScopeManager.Statistics.ThreadTotalLiveCount);
        }
        Assert.Equal(counts[5], counts[^1]);
    }

    [Fact]
    public void SavePrepared_LoadPrepared_RoundTrips_ModelHistoryAndFigures()
    {
        var (images, features) = ToyData(4);
        var captioner = ToyCaptioner(images);
        var result = CaptionTraining.Train(captioner, images, images, features,
            new CaptionTrainingOptions(Epochs: 2, BatchSize: 2, LogEvery: 0, DevImages: 2));
        var dir = Path.Combine(Path.GetTempPath(), $"captioner-prepared-{Guid.NewGuid():N}");
        try
        {
            CaptionTraining.SavePrepared(captioner, result, dir);
            var (loaded, loadedResult) = CaptionTraining.LoadPrepared(dir);
            using var scope = NewDisposeScope();
            var f = features.Batch(["img2.jpg"]);
            Assert.Equal(captioner.Caption(f)[0].Words, loaded.Caption(f)[0].Words);
            Assert.False(loaded.Model.training);
            Assert.Equal(result.State.Step, loadedResult.State.Step);
            Assert.Equal(result.State.History.Epochs.Count, loadedResult.State.History.Epochs.Count);
            Assert.Equal(result.BestDevBleu4, loadedResult.BestDevBleu4);
            Assert.Equal(result.Seconds, loadedResult.Seconds);
        }
        finally
        {
            if (Directory.Exists(dir)) Directory.Delete(dir, true);
        }
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void SaveLoad_RoundTrips_Captions(bool attention)
    {
        var (images, features) = ToyData(4);
        var captioner = ToyCaptioner(images, attention);
        var dir = Path.Combine(Path.GetTempPath(), $"captioner-{Guid.NewGuid():N}");
        try
        {
            captioner.Save(dir, null, TrainingState.Start(new TrainerOptions()));
            var loaded = Captioner.Load(dir);
            using var scope = NewDisposeScope();
            var f = features.Batch(["img1.jpg"]);
            Assert.Equal(captioner.Caption(f)[0].Words, loaded.Caption(f)[0].Words);
            Assert.Equal(captioner.Vocabulary.Tokens, loaded.Vocabulary.Tokens);
            Assert.Equal(attention, loaded.Model.Options.Attention);
            Assert.Throws<FileNotFoundException>(() => Captioner.Load(dir + "-missing"));
        }
        finally
        {
            if (Directory.Exists(dir)) Directory.Delete(dir, true);
        }
    }

    sealed class FloatTolerance(float tolerance) : IEqualityComparer<float>
    {
        public bool Equals(float x, float y) => Math.Abs(x - y) <= tolerance;
        public int GetHashCode(float obj) => 0;
    }

    sealed class DisposableCaptioner(Captioner value) : IDisposable
    {
        public Captioner Value { get; } = value;
        public void Dispose() => Value.Model.Dispose();
    }
}
