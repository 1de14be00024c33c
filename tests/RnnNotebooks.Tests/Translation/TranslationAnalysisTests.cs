using RnnNotebooks.Metrics;
using RnnNotebooks.Text;
using RnnNotebooks.Translation;
using RnnNotebooks.Tests.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace RnnNotebooks.Tests.Translation;

public class TranslationAnalysisTests
{
    public TranslationAnalysisTests() => SingleThreadedTorch.Ensure();

    static TranslationSample Sample(string source, string hypothesis, params string[] references) => new(source, hypothesis, references);

    [Fact]
    public void BleuByLength_ScoresEachBucketOnItsOwnSentences()
    {
        var samples = new[]
        {
            Sample("a b", "the cat sat on the mat", "the cat sat on the mat"),                       // length 2: perfect
            Sample("a b c d e", "dogs run fast in the park now", "the cat sat on the mat"),          // length 5: no match
            Sample("a b c d e f", "a dog runs in the big park", "a dog runs in the big park", "x"),  // length 6: perfect
        };
        var evaluation = new TranslationEvaluation(Bleu.CorpusTokens([], []), samples);

        var buckets = TranslationAnalysis.BleuByLength(evaluation, 4, 8, 20);

        Assert.Equal(2, buckets.Count);                             // the 9–20 bucket is empty and left out
        Assert.Equal((1, 4, 1), (buckets[0].MinLength, buckets[0].MaxLength, buckets[0].Sentences));
        Assert.Equal(100, buckets[0].Bleu.Score, 6);
        Assert.Equal((5, 8, 2), (buckets[1].MinLength, buckets[1].MaxLength, buckets[1].Sentences));
        var expected = Bleu.CorpusTokens(
            [samples[1].Hypothesis.Split(' '), samples[2].Hypothesis.Split(' ')],
            [[samples[1].References[0].Split(' ')], [.. samples[2].References.Select(r => (IReadOnlyList<string>)r.Split(' '))]]);
        Assert.Equal(expected.Score, buckets[1].Bleu.Score, 9);
        Assert.InRange(buckets[1].Bleu.Score, 1, 99);
    }

    [Theory]
    [InlineData(new int[0])]
    [InlineData(new[] { 0, 4 })]
    [InlineData(new[] { 6, 4 })]
    public void BleuByLength_BadBounds_SaysWhatIsExpected(int[] bounds)
    {
        var evaluation = new TranslationEvaluation(Bleu.CorpusTokens([], []), []);

        var error = Assert.Throws<ArgumentException>(() => TranslationAnalysis.BleuByLength(evaluation, bounds));

        Assert.Contains("ascending", error.Message);
    }

    [Fact]
    public void MeanLoss_IsTheTokenWeightedMeanOfBatchLosses_AndLeavesNoLiveTensors()
    {
        manual_seed(3);
        using var model = new Seq2Seq(new Seq2SeqOptions(12, 12, 8, 8, AttentionKind.Additive, Dropout: 0.3));
        var pairs = Enumerable.Range(0, 7).Select(i => new EncodedPair([4 + i % 5, 5 + i % 3], [.. Enumerable.Repeat(4L + i, 1 + i % 4)])).ToList();
        model.train();

        var before = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        var mean = TranslationAnalysis.MeanLoss(model, pairs, batchSize: 3);
        var after = DisposeScopeManager.Statistics.ThreadTotalLiveCount;

        model.eval();
        double oneBatch;
        using (var noGrad = no_grad())
        using (var scope = NewDisposeScope())
            oneBatch = model.Loss(TranslationBatch.Collate(pairs)).item<float>();
        Assert.Equal(oneBatch, mean, 5);                             // dropout was off, and weights make batching irrelevant
        Assert.Equal(before, after);
        model.train();
        Assert.True(model.training);
    }

    [Fact]
    public void MeanLoss_RestoresTrainingMode()
    {
        using var model = new Seq2Seq(new Seq2SeqOptions(8, 8, 4, 4, AttentionKind.None));
        model.train();

        TranslationAnalysis.MeanLoss(model, [new EncodedPair([4], [5])]);

        Assert.True(model.training);
        Assert.Throws<ArgumentException>(() => TranslationAnalysis.MeanLoss(model, []));
    }

    static Translator TinyTranslator(AttentionKind kind)
    {
        manual_seed(8);
        var source = Vocabulary.OfSentences([["le", "chat", "noir"], ["un", "chien"]], minCount: 1);
        var target = Vocabulary.OfSentences([["the", "black", "cat"], ["a", "dog"]], minCount: 1);
        var options = new Seq2SeqOptions(source.Size, target.Size, 6, 6, kind, Dropout: 0.1);
        return new Translator(new Seq2Seq(options), source, target, new TranslatorConfig("toy", "fra", "eng", options, MaxLength: 10, Pretokenized: true));
    }

    [Fact]
    public void Attend_GivesOneRowPerOutputWord_EachSummingToOne_AndMarksUnknownWords()
    {
        var translator = TinyTranslator(AttentionKind.Additive);
        using var model = translator.Model;
        model.train();

        var example = TranslationAnalysis.Attend(translator, ["le", "chat", "rouge"], maxLength: 7);

        Assert.Equal(["le", "chat", "rouge?", "<eos>"], example.Source);
        Assert.Equal(example.Output.Count, example.Weights.GetLength(0));
        Assert.Equal(example.Source.Count, example.Weights.GetLength(1));
        Assert.InRange(example.Output.Count, 1, 7);
        for (var i = 0; i < example.Output.Count; i++)
            Assert.Equal(1.0, Enumerable.Range(0, example.Source.Count).Sum(j => example.Weights[i, j]), 5);
        Assert.True(model.training);
    }

    [Fact]
    public void Attend_WithoutAttention_SaysWhatToTrainInstead()
    {
        var translator = TinyTranslator(AttentionKind.None);
        using var model = translator.Model;

        var error = Assert.Throws<InvalidOperationException>(() => TranslationAnalysis.Attend(translator, ["le", "chat"]));

        Assert.Contains("AttentionKind.Additive", error.Message);
    }
}
