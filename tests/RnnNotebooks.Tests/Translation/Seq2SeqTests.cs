using RnnNotebooks.Text;
using RnnNotebooks.Training;
using RnnNotebooks.Translation;
using RnnNotebooks.Tests.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace RnnNotebooks.Tests.Translation;

public class TranslationBatchTests
{
    public TranslationBatchTests() => SingleThreadedTorch.Ensure();

    [Fact]
    public void Collate_PadsFramesAndMasks()
    {
        using var scope = NewDisposeScope();
        var batch = TranslationBatch.Collate([new EncodedPair([5, 6, 7], [8]), new EncodedPair([9], [10, 11, 12])]);
        Assert.Equal(new long[] { 5, 6, 7, Vocabulary.Eos, 9, Vocabulary.Eos, 0, 0 }, batch.Source.data<long>().ToArray());
        Assert.Equal(new long[] { 4, 2 }, batch.SourceLengths.data<long>().ToArray());
        Assert.Equal(new[] { true, true, true, true, true, true, false, false }, batch.SourceMask.data<bool>().ToArray());
        Assert.Equal(new long[] { 1, 8, 0, 0, 1, 10, 11, 12 }, batch.TargetInput.data<long>().ToArray());
        Assert.Equal(new long[] { 8, 2, 0, 0, 10, 11, 12, 2 }, batch.TargetOutput.data<long>().ToArray());
        Assert.Equal(6, batch.TargetTokens);
        Assert.Equal(6, batch.TargetMask.sum().item<long>());
    }

    [Fact]
    public void Batches_CoverEveryPairOnce_AndAreSeeded()
    {
        using var scope = NewDisposeScope();
        var pairs = Enumerable.Range(1, 103).Select(i => new EncodedPair([i + 10L], [i + 10L])).ToList();
        long[] Firsts(int seed) => [.. TranslationBatch.Batches(pairs, 8, new Random(seed)).SelectMany(b => b.Source[.., 0].data<long>().ToArray())];
        Assert.Equal(pairs.Select(p => p.Source[0]).Order(), Firsts(1).Order());
        Assert.Equal(Firsts(1), Firsts(1));
        Assert.NotEqual(Firsts(1), Firsts(2));
    }

    [Fact]
    public void MaskedCrossEntropy_IgnoresPadding_AndForgettingTheMaskChangesTheLoss()
    {
        using var scope = NewDisposeScope();
        manual_seed(1);
        var batch = TranslationBatch.Collate([new EncodedPair([5], [5, 6, 7, 8]), new EncodedPair([5], [9])]);
        var logits = randn(2, 5, 12);
        var masked = SequenceLoss.MaskedCrossEntropy(logits, batch.TargetOutput, batch.TargetMask).item<float>();

        // The same mean computed by hand over the 7 real tokens.
        var logProbs = logits.log_softmax(-1);
        var targets = batch.TargetOutput.data<long>().ToArray();
        var mask = batch.TargetMask.data<bool>().ToArray();
        var sum = 0.0;
        for (var i = 0; i < 10; i++)
            if (mask[i]) sum -= logProbs[i / 5, i % 5, targets[i]].item<float>();
        Assert.Equal(sum / 7, masked, 5);

        // Scores at padded positions do not matter…
        var changed = logits.clone();
        changed[1, 3] = full(12, 50f);
        Assert.Equal(masked, SequenceLoss.MaskedCrossEntropy(changed, batch.TargetOutput, batch.TargetMask).item<float>(), 5);
        // …unless the mask is forgotten: then padding counts as 3 extra "<pad>" targets.
        var unmasked = nn.functional.cross_entropy(logits.reshape(-1, 12), batch.TargetOutput.reshape(-1)).item<float>();
        Assert.NotEqual(masked, unmasked, 3);
    }
}

public class AttentionTests
{
    public AttentionTests() => SingleThreadedTorch.Ensure();

    [Theory]
    [InlineData(AttentionKind.Additive)]
    [InlineData(AttentionKind.Dot)]
    public void Weights_SumToOne_AndGiveZeroWeightToPadding(AttentionKind kind)
    {
        using var scope = NewDisposeScope();
        manual_seed(3);
        using var attention = Attention.Create(kind, querySize: 6, keySize: 8, attentionSize: 5)!;
        var values = randn(3, 7, 8);
        var mask = tensor(new[] { 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 0, 0 }, [3, 7]).to_type(ScalarType.Bool);
        var (context, weights) = attention.Attend(randn(3, 6), attention.PrepareKeys(values), values, mask);

        Assert.Equal(new long[] { 3, 8 }, context.shape);
        Assert.True(weights.sum(-1).allclose(ones(3), rtol: 1e-5, atol: 1e-6));
        Assert.Equal(0, weights.masked_select(mask.logical_not()).abs().sum().item<float>());
        Assert.True(weights.masked_select(mask).min().item<float>() > 0);
        // The context is the weighted sum of the values.
        Assert.True(context.allclose(weights.unsqueeze(1).bmm(values).squeeze(1), rtol: 1e-5, atol: 1e-6));
    }

    [Theory]
    [InlineData(AttentionKind.Additive)]
    [InlineData(AttentionKind.Dot)]
    public void OneSource_BroadcastsOverManyBeams(AttentionKind kind)
    {
        using var scope = NewDisposeScope();
        manual_seed(4);
        using var attention = Attention.Create(kind, 6, 8, 5)!;
        var values = randn(1, 4, 8);
        var mask = ones(1, 4, dtype: ScalarType.Bool);
        var queries = randn(3, 6);
        var (shared, _) = attention.Attend(queries, attention.PrepareKeys(values), values, mask);
        var expanded = values.expand(3, -1, -1);
        var (perBeam, _) = attention.Attend(queries, attention.PrepareKeys(expanded), expanded, mask.expand(3, -1));
        Assert.True(shared.allclose(perBeam, rtol: 1e-5, atol: 1e-6));
    }
}

public class Seq2SeqTests
{
    public Seq2SeqTests() => SingleThreadedTorch.Ensure();

    static Seq2Seq Tiny(AttentionKind kind, int vocab = 12) =>
        new(new Seq2SeqOptions(vocab, vocab, EmbeddingSize: 8, HiddenSize: 10, Attention: kind, Dropout: 0));

    [Theory]
    [InlineData(AttentionKind.None)]
    [InlineData(AttentionKind.Additive)]
    [InlineData(AttentionKind.Dot)]
    public void Forward_DoesNotDependOnPadding(AttentionKind kind)
    {
        using var scope = NewDisposeScope();
        manual_seed(5);
        using var model = Tiny(kind);
        var alone = TranslationBatch.Collate([new EncodedPair([4, 5], [6, 7, 8])]);
        var padded = TranslationBatch.Collate([new EncodedPair([4, 5], [6, 7, 8]), new EncodedPair([4, 5, 6, 7, 8, 9, 10], [6, 7, 8, 9, 10])]);
        var (a, weightsAlone) = model.Forward(alone);
        var (b, weightsPadded) = model.Forward(padded);
        Assert.Equal(new long[] { 1, 4, 12 }, a.shape);
        Assert.True(a[0].allclose(b[0, ..4], rtol: 1e-4, atol: 1e-5));
        if (kind != AttentionKind.None)
        {
            Assert.Equal(new long[] { 2, 6, 8 }, weightsPadded!.shape);
            Assert.True(weightsAlone![0].allclose(weightsPadded[0, ..4, ..3], rtol: 1e-4, atol: 1e-5));
            Assert.Equal(0, weightsPadded[0, .., 3..].abs().sum().item<float>());
        }
        else Assert.Null(weightsAlone);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Decoders_LeaveOneDnnAsTheyFoundIt_AndDecodeAsTheyDoWithItOff(bool enabledBefore)
    {
        using var scope = NewDisposeScope();
        manual_seed(7);
        using var model = Tiny(AttentionKind.Additive);
        model.eval();
        var batch = TranslationBatch.Collate([new EncodedPair([4, 5, 6, 7], []), new EncodedPair([8, 9], [])]);
        var one = TranslationBatch.Collate([new EncodedPair([4, 5, 6, 7], [])]);
        var previous = RnnNotebooks.Platform.TorchKernels.OneDnnEnabled;
        try
        {
            RnnNotebooks.Platform.TorchKernels.OneDnnEnabled = enabledBefore;

            var (greedy, _) = model.Greedy(batch.Source, batch.SourceLengths, maxLength: 6);
            Assert.Equal(enabledBefore, RnnNotebooks.Platform.TorchKernels.OneDnnEnabled);
            var beam = model.Beam(one.Source, one.SourceLengths, beamSize: 3, maxLength: 6);
            Assert.Equal(enabledBefore, RnnNotebooks.Platform.TorchKernels.OneDnnEnabled);

            RnnNotebooks.Platform.TorchKernels.OneDnnEnabled = false;
            Assert.Equal(greedy, model.Greedy(batch.Source, batch.SourceLengths, maxLength: 6).Ids);
            Assert.Equal(beam[0].Tokens, model.Beam(one.Source, one.SourceLengths, beamSize: 3, maxLength: 6)[0].Tokens);
        }
        finally
        {
            RnnNotebooks.Platform.TorchKernels.OneDnnEnabled = previous;
        }
    }

    [Theory]
    [InlineData(AttentionKind.None, 1)]
    [InlineData(AttentionKind.Additive, 3)]
    [InlineData(AttentionKind.Dot, 5)]
    public void BeamBatch_GivesEachSentenceWhatBeamGivesIt(AttentionKind kind, int beamSize)
    {
        using var scope = NewDisposeScope();
        manual_seed(8);
        using var model = Tiny(kind);
        model.eval();
        var pairs = new[] { new EncodedPair([4, 5, 6], []), new EncodedPair([7], []), new EncodedPair([8, 9, 10, 11, 4], []), new EncodedPair([5, 5], []) };
        var batch = TranslationBatch.Collate(pairs);
        var live = DisposeScopeManager.Statistics.ThreadTotalLiveCount;

        var batched = model.BeamBatch(batch.Source, batch.SourceLengths, beamSize, maxLength: 8, lengthAlpha: 0.6);

        Assert.Equal(live, DisposeScopeManager.Statistics.ThreadTotalLiveCount);
        Assert.Equal(pairs.Length, batched.Count);
        for (var i = 0; i < pairs.Length; i++)
        {
            var one = TranslationBatch.Collate([pairs[i]]);
            var alone = model.Beam(one.Source, one.SourceLengths, beamSize, maxLength: 8, lengthAlpha: 0.6);
            Assert.Equal(alone.Select(h => h.Tokens), batched[i].Select(h => h.Tokens));
            Assert.All(alone.Zip(batched[i]), p => Assert.Equal(p.First.Score, p.Second.Score, 1e-4));
        }
    }

    [Theory]
    [InlineData(AttentionKind.None)]
    [InlineData(AttentionKind.Additive)]
    public void Greedy_EqualsBeamOfOne(AttentionKind kind)
    {
        using var scope = NewDisposeScope();
        manual_seed(6);
        using var model = Tiny(kind);
        model.eval();
        var pairs = new[] { new EncodedPair([4, 5, 6], []), new EncodedPair([7], []), new EncodedPair([8, 9, 10, 11, 4], []) };
        var batch = TranslationBatch.Collate(pairs);
        var (greedy, maps) = model.Greedy(batch.Source, batch.SourceLengths, maxLength: 7);
        for (var i = 0; i < pairs.Length; i++)
        {
            var one = TranslationBatch.Collate([pairs[i]]);
            var beam = model.Beam(one.Source, one.SourceLengths, beamSize: 1, maxLength: 7, lengthAlpha: 0);
            Assert.Equal(greedy[i], beam[0].Tokens);
        }
        if (kind == AttentionKind.Additive)
        {
            // The one-word source (plus <eos>) is padded to 6 positions; greedy decoding never attends to padding.
            var map = maps![1];
            Assert.Equal(batch.Source.shape[1], map.GetLength(1));
            for (var t = 0; t < map.GetLength(0); t++)
            {
                Assert.Equal(1.0, map[t, 0] + map[t, 1], 5);
                for (var j = 2; j < map.GetLength(1); j++) Assert.Equal(0.0, map[t, j]);
            }
        }
        else Assert.Null(maps);
    }

    [Fact]
    public void TrainingSteps_LeaveNoLiveTensors()
    {
        manual_seed(7);
        using var model = Tiny(AttentionKind.Additive);
        using var optimizer = optim.Adam(model.parameters(), 0.01);
        var pairs = Enumerable.Range(0, 32).Select(i => new EncodedPair([4 + i % 7, 5 + i % 5], [6 + i % 4, 4])).ToList();
        long? live = null;
        for (var step = 0; step < 6; step++)
        {
            using (var scope = NewDisposeScope())
            {
                var batch = TranslationBatch.Collate(pairs.Skip(step % 4 * 8).Take(8).ToList());
                optimizer.zero_grad();
                var loss = model.Loss(batch);
                loss.backward();
                optimizer.step();
            }
            var now = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
            if (step >= 2) Assert.Equal(live, now);
            live = now;
        }
    }

    [Theory]
    [Trait("Category", "Slow")]
    [InlineData(AttentionKind.Additive)]
    [InlineData(AttentionKind.Dot)]
    public void TinyModel_LearnsToReverseShortSequences(AttentionKind kind)
    {
        Seeds.Set(11);
        var random = new Random(11);
        EncodedPair Make()
        {
            var s = Enumerable.Range(0, random.Next(2, 6)).Select(_ => (long)random.Next(4, 12)).ToArray();
            return new EncodedPair(s, [.. s.Reverse()]);
        }
        var train = Enumerable.Range(0, 2000).Select(_ => Make()).ToList();
        var test = Enumerable.Range(0, 100).Select(_ => Make()).ToList();
        using var model = new Seq2Seq(new Seq2SeqOptions(12, 12, EmbeddingSize: 16, HiddenSize: 32, Attention: kind, Dropout: 0));
        using var optimizer = optim.Adam(model.parameters(), 0.01);
        var state = Trainer.Fit(model, optimizer,
            epoch => TranslationBatch.Batches(train, 32, Seeds.CreateRandom(epoch)),
            batch => model.Loss(batch),
            new TrainerOptions(Epochs: 20, ClipGradNorm: 1.0, MaxSteps: 400, LogEvery: 0));

        model.eval();
        using var scope = NewDisposeScope();
        var batch = TranslationBatch.Collate(test);
        var (ids, _) = model.Greedy(batch.Source, batch.SourceLengths, maxLength: 8);
        var correct = ids.Zip(test, (hyp, pair) => hyp.SequenceEqual(pair.Target)).Count(c => c);
        Assert.True(correct >= 90, $"{correct}/100 reversed exactly after {state.Step} steps, loss {state.History.Losses[^1]:0.000}");
    }
}
