using RnnNotebooks.Metrics;

namespace RnnNotebooks.Tests.Metrics;

public class BleuTests
{
    static readonly BleuOptions Plain = new(Tokenizer: BleuTokenizer.Whitespace);

    // Papineni et al. (2002), example 1, as tokenised in NLTK's bleu_score documentation.
    const string Hyp1 = "It is a guide to action which ensures that the military always obeys the commands of the party";
    const string Ref1A = "It is a guide to action that ensures that the military will forever heed Party commands";
    const string Ref1B = "It is the guiding principle which guarantees the military forces always being under the command of the Party";
    const string Ref1C = "It is the practical guide for the army always to heed the directions of the party";
    const string Hyp2 = "he read the book because he was interested in world history";
    const string Ref2 = "he was interested in world history because he read the book";

    [Fact]
    public void Bleu_PerfectMatch_Is100()
    {
        var score = Bleu.Corpus(["the cat sat on the mat", "a dog ran"], ["the cat sat on the mat", "a dog ran"], Plain);
        Assert.Equal(100, score.Score, 9);
        Assert.All(score.Cumulative, b => Assert.Equal(100, b, 9));
        Assert.Equal(1, score.BrevityPenalty);
    }

    [Fact]
    public void Bleu_NoOverlap_IsZero()
    {
        var score = Bleu.Corpus(["x y z w v"], ["the cat sat on the mat"], Plain);
        Assert.Equal(0, score.Score);
        Assert.Equal(0, score.Precisions[0]);
    }

    [Fact]
    public void Bleu_NoFourGramMatch_IsZeroButBleu2IsNot()
    {
        var score = Bleu.Corpus(["the cat on mat sat"], ["the cat sat on the mat"], Plain);
        Assert.Equal(0, score.Score);
        Assert.True(score.Cumulative[1] > 0);
    }

    [Fact]
    public void Bleu_ShortHypothesis_PaysBrevityPenalty()
    {
        // Every n-gram matches; c = 5, r = 6, so BLEU = exp(1 - 6/5).
        var score = Bleu.Corpus(["the cat sat on the"], ["the cat sat on the mat"], Plain);
        Assert.Equal(Math.Exp(-0.2), score.BrevityPenalty, 12);
        Assert.Equal(100 * Math.Exp(-0.2), score.Score, 9);   // NLTK: 0.8187307530779819
    }

    [Fact]
    public void Bleu_LongHypothesis_HasNoBrevityPenalty()
    {
        var score = Bleu.Corpus(["the cat sat on the mat today"], ["the cat sat on the mat"], Plain);
        Assert.Equal(1, score.BrevityPenalty);
        Assert.Equal(6.0 / 7 * 100, score.Precisions[0], 9);
    }

    [Fact]
    public void Bleu_HypothesisShorterThanN_AddsNoNGramsOfThatOrder()
    {
        // As sacrebleu and multi-bleu.perl count (NLTK counts a denominator of 1 for such a sentence).
        var score = Bleu.Corpus(["a b c d e", "x y"], ["a b c d e", "x y"], Plain);
        Assert.Equal([7L, 5, 3, 2], score.Totals);
        Assert.Equal(100, score.Score, 9);
    }

    [Fact]
    public void Bleu_EmptyHypothesis_IsZero()
    {
        var score = Bleu.Corpus([""], ["the cat"], Plain);
        Assert.Equal(0, score.Score);
        Assert.Equal(0, score.BrevityPenalty);
    }

    [Fact]
    public void Bleu_MultipleReferences_ClipsToTheLargestCountInAnyOneReference()
    {
        // Papineni et al.: "the" occurs at most twice in one reference, so 2 of 7 count.
        var score = Bleu.Corpus(["the the the the the the the"],
            [(IReadOnlyList<string>)["The cat is on the mat.", "There is a cat on the mat."]],
            new BleuOptions(Lowercase: true));
        Assert.Equal(2, score.Matches[0]);
        Assert.Equal(7, score.Totals[0]);
        Assert.Equal(200.0 / 7, score.Precisions[0], 9);
    }

    [Fact]
    public void Bleu_MultipleReferences_UsesTheClosestLengthAndTheShorterOnATie()
    {
        var score = Bleu.Corpus(["a b c d e"], [(IReadOnlyList<string>)["a b c d e f", "a b c d", "a b c d e f g h"]], Plain);
        Assert.Equal(4, score.ReferenceLength);
        Assert.Equal(1, score.BrevityPenalty);

        var shorter = Bleu.Corpus(["a b c"], [(IReadOnlyList<string>)["a b c d e f g", "a b c d e"]], Plain);
        Assert.Equal(5, shorter.ReferenceLength);
        Assert.Equal(Math.Exp(1 - 5.0 / 3), shorter.BrevityPenalty, 12);
    }

    [Fact]
    public void Bleu_PapineniExample_MatchesThePublishedSentenceScore()
    {
        // NLTK documents sentence_bleu([ref1a, ref1b, ref1c], hyp1) = 0.5045...; unigram 17/18, bigram 10/17.
        var score = Bleu.Sentence(Hyp1, [Ref1A, Ref1B, Ref1C], Plain);
        Assert.Equal(17, score.Matches[0]);
        Assert.Equal(18, score.Totals[0]);
        Assert.Equal(10, score.Matches[1]);
        Assert.Equal(17, score.Totals[1]);
        Assert.Equal(50.45666840058485, score.Score, 9);
    }

    [Fact]
    public void Bleu_TwoSentenceCorpus_MatchesThePublishedCorpusScores()
    {
        // NLTK documents corpus_bleu for these two sentences as 0.5920...; BLEU-1..3 cross-checked with NLTK 3.8.
        var score = Bleu.Corpus([Hyp1, Hyp2], [(IReadOnlyList<string>)[Ref1A, Ref1B, Ref1C], [Ref2]], Plain);
        Assert.Equal(59.20778868801042, score.Score, 9);
        Assert.Equal(96.55172413793104, score.Cumulative[0], 9);
        Assert.Equal(82.42803277698696, score.Cumulative[1], 9);
        Assert.Equal(70.69430098960677, score.Cumulative[2], 9);
    }

    [Fact]
    public void Bleu_IsNotTheMeanOfSentenceScores()
    {
        var corpus = Bleu.Corpus([Hyp1, Hyp2], [(IReadOnlyList<string>)[Ref1A, Ref1B, Ref1C], [Ref2]], Plain).Score;
        var mean = (Bleu.Sentence(Hyp1, [Ref1A, Ref1B, Ref1C], Plain).Score + Bleu.Sentence(Hyp2, [Ref2], Plain).Score) / 2;
        Assert.NotEqual(mean, corpus, 3);
    }

    [Fact]
    public void Tokenize13a_SplitsPunctuationButKeepsNumbers()
    {
        var tokens = Bleu.Tokenize("Hello, world! It costs $3.50-4.", new BleuOptions());
        Assert.Equal(["Hello", ",", "world", "!", "It", "costs", "$", "3.50", "-", "4", "."], tokens);
    }

    [Fact]
    public void Tokenize13a_UnescapesXmlEntities()
    {
        Assert.Equal(["\"", "a", "\"", "&", "b"], Bleu.Tokenize("&quot;a&quot; &amp; b"));
    }

    [Fact]
    public void Bleu_13aTokenisation_MakesPunctuationMatter()
    {
        var tokenised = Bleu.Corpus(["the cat sat on the mat."], ["the cat sat on the mat ."]);
        var plain = Bleu.Corpus(["the cat sat on the mat."], ["the cat sat on the mat ."], Plain);
        Assert.Equal(100, tokenised.Score, 9);
        Assert.True(plain.Score < 100);
    }

    [Fact]
    public void FromStreams_EqualsPerSentenceReferences()
    {
        IReadOnlyList<string> streamA = [Ref1A, Ref2];
        IReadOnlyList<string> streamB = [Ref1B, Ref2 + " too"];
        var fromStreams = Bleu.FromStreams([Hyp1, Hyp2], [streamA, streamB]);
        var perSentence = Bleu.Corpus([Hyp1, Hyp2], [(IReadOnlyList<string>)[Ref1A, Ref1B], [Ref2, Ref2 + " too"]]);
        Assert.Equal(perSentence.Score, fromStreams.Score, 12);
    }

    [Fact]
    public void FromStreams_LengthMismatch_ThrowsNamingTheCounts()
    {
        var error = Assert.Throws<ArgumentException>(() => Bleu.FromStreams(["a", "b"], [["a"]]));
        Assert.Contains("1 sentences but there are 2 hypotheses", error.Message);
    }

    [Fact]
    public void ToSummary_HasTheCliKeys()
    {
        var summary = Bleu.Corpus(["a b c d"], ["a b c d"]).ToSummary();
        foreach (var key in new[] { "bleu", "bleu_1", "bleu_2", "bleu_3", "bleu_4", "brevity_penalty", "sentences" })
            Assert.True(summary.ContainsKey(key), key);
    }
}
