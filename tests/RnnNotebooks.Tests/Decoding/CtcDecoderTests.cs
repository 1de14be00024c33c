using RnnNotebooks.Audio;
using RnnNotebooks.Decoding;
using RnnNotebooks.Speech;
using RnnNotebooks.Tests.Models;
using RnnNotebooks.Text;
using TorchSharp;
using static TorchSharp.torch;

namespace RnnNotebooks.Tests.Decoding;

public class CtcDecoderTests
{
    public CtcDecoderTests() => SingleThreadedTorch.Ensure();

    static readonly Vocabulary Chars = Vocabulary.ForCtc(SpokenDigits.Letters);

    /// <summary>Log posteriors where each frame puts 0.9 on one character ('_' = blank) and spreads the rest.</summary>
    static float[,] Peaked(string path, int classes)
    {
        var m = new float[path.Length, classes];
        for (var t = 0; t < path.Length; t++)
        {
            var label = path[t] == '_' ? Vocabulary.Blank : Chars.IdOf(path[t]);
            for (var c = 0; c < classes; c++)
                m[t, c] = (float)Math.Log(c == label ? 0.9 : 0.1 / (classes - 1));
        }
        return m;
    }

    /// <summary>Random normalised log posteriors [T, C].</summary>
    static float[,] RandomLogProbs(int frames, int classes, int seed, double sharpness = 2)
    {
        var random = new Random(seed);
        var m = new float[frames, classes];
        for (var t = 0; t < frames; t++)
        {
            var logits = Enumerable.Range(0, classes).Select(_ => sharpness * (random.NextDouble() * 2 - 1)).ToArray();
            var logZ = Math.Log(logits.Sum(Math.Exp));
            for (var c = 0; c < classes; c++) m[t, c] = (float)(logits[c] - logZ);
        }
        return m;
    }

    /// <summary>Every alignment of a small [T, C] posterior, summed by the label sequence it spells.</summary>
    static Dictionary<string, double> BruteForce(float[,] logProbs, int blank = 0)
    {
        int frames = logProbs.GetLength(0), classes = logProbs.GetLength(1);
        var totals = new Dictionary<string, double>();
        var path = new int[frames];
        for (var n = 0; n < (int)Math.Pow(classes, frames); n++)
        {
            var rest = n;
            double logP = 0;
            for (var t = 0; t < frames; t++) { path[t] = rest % classes; rest /= classes; logP += logProbs[t, path[t]]; }
            var labels = new List<int>();
            for (var t = 0; t < frames; t++)
                if (path[t] != blank && (t == 0 || path[t] != path[t - 1])) labels.Add(path[t]);
            var key = string.Join(",", labels);
            totals[key] = totals.TryGetValue(key, out var p) ? CtcDecoder.LogAdd(p, logP) : logP;
        }
        return totals;
    }

    [Fact]
    public void Greedy_CollapsesRepeats_RemovesBlanks()
    {
        Assert.Equal("three", Chars.Decode(CtcDecoder.Greedy(Peaked("_tt_hrre_e__", Chars.Size)).Labels));
        Assert.Equal("thre", Chars.Decode(CtcDecoder.Greedy(Peaked("thhreee", Chars.Size)).Labels));  // no blank between the e's
        Assert.Equal("one two", Chars.Decode(CtcDecoder.Greedy(Peaked("_oone  ttwo_", Chars.Size)).Labels));
        Assert.Empty(CtcDecoder.Greedy(Peaked("____", Chars.Size)).Labels);
    }

    [Fact]
    public void Greedy_ReportsTheBestPathsLogProbability()
    {
        var m = Peaked("t_o", Chars.Size);
        Assert.Equal(3 * Math.Log(0.9), CtcDecoder.Greedy(m).LogProbability, 5);
    }

    [Theory]
    [InlineData(1, 4, 3)]
    [InlineData(2, 5, 3)]
    [InlineData(3, 4, 4)]
    [InlineData(4, 6, 2)]
    [InlineData(5, 3, 5)]
    public void LogProbability_EqualsTheSumOverAllAlignments(int seed, int frames, int classes)
    {
        var m = RandomLogProbs(frames, classes, seed);
        foreach (var (key, logP) in BruteForce(m))
        {
            var labels = key.Length == 0 ? [] : key.Split(',').Select(int.Parse).ToArray();
            Assert.Equal(logP, CtcDecoder.LogProbability(m, labels), 5);
        }
    }

    [Theory]
    [InlineData(1, 4, 3)]
    [InlineData(2, 5, 3)]
    [InlineData(3, 4, 4)]
    [InlineData(4, 6, 2)]
    [InlineData(6, 5, 3)]
    [InlineData(7, 6, 3)]
    public void BeamSearch_WideBeam_FindsTheBruteForceBest(int seed, int frames, int classes)
    {
        var m = RandomLogProbs(frames, classes, seed, sharpness: 1.5);
        var best = BruteForce(m).MaxBy(kv => kv.Value);

        var found = CtcDecoder.BeamSearch(m, beamWidth: 1000)[0];

        Assert.Equal(best.Key, string.Join(",", found.Labels));
        Assert.Equal(best.Value, found.LogProbability, 5);
    }

    [Theory]
    [InlineData(11)]
    [InlineData(12)]
    [InlineData(13)]
    [InlineData(14)]
    public void BeamSearch_IsAtLeastAsProbableAsGreedy(int seed)
    {
        var m = RandomLogProbs(30, Chars.Size, seed, sharpness: 6);                // peaky, like a trained model
        var greedy = CtcDecoder.Greedy(m);
        var beam = CtcDecoder.BeamSearch(m, beamWidth: 16)[0];
        var beamSequence = CtcDecoder.LogProbability(m, beam.Labels);

        Assert.True(beam.LogProbability >= greedy.LogProbability - 1e-9);           // ≥ the best path
        Assert.True(beamSequence >= CtcDecoder.LogProbability(m, greedy.Labels) - 1e-6); // ≥ greedy's sequence
        Assert.True(beam.LogProbability <= beamSequence + 1e-6);                     // pruning only loses alignments
    }

    [Fact]
    public void CtcLoss_EqualsMinusLogOfTheBruteForceSum()
    {
        const int frames = 5, classes = 3;
        var m = RandomLogProbs(frames, classes, seed: 21);
        int[] target = [1, 2];
        var expected = -BruteForce(m)["1,2"];

        using var scope = NewDisposeScope();
        var flat = new float[frames * classes];
        Buffer.BlockCopy(m, 0, flat, 0, flat.Length * sizeof(float));
        var logProbs = tensor(flat, [frames, 1, classes]);                           // [T, N, C]
        var loss = nn.functional.ctc_loss(logProbs, tensor(new long[] { 1, 2 }, [1, 2]),
            tensor(new long[] { frames }), tensor(new long[] { target.Length }), blank: 0, reduction: nn.Reduction.Sum);

        Assert.Equal(expected, loss.ToDouble(), 4);
        Assert.Equal(expected, -CtcDecoder.LogProbability(m, target), 4);
    }

    [Fact]
    public void Lexicon_OnlySpellsWordsOfTheLexicon()
    {
        // "onex" is the best unconstrained reading; the lexicon knows only digit words.
        var m = Peaked("_on_ex", Chars.Size);
        Assert.Equal("onex", Chars.Decode(CtcDecoder.BeamSearch(m)[0].Labels));

        var constrained = CtcDecoder.BeamSearch(m, constraint: CtcLexicon.For(Chars, SpokenDigits.Words));

        Assert.Equal("one", Chars.Decode(constrained[0].Labels));
        Assert.All(constrained, h => Assert.All(Chars.Decode(h.Labels).Split(' ', StringSplitOptions.RemoveEmptyEntries),
            w => Assert.Contains(w, CtcLexicon.For(Chars, SpokenDigits.Words).Words)));
    }

    [Fact]
    public void Lexicon_AllowsSpaceOnlyAfterAWord()
    {
        var lexicon = CtcLexicon.For(Chars, SpokenDigits.Words);
        Assert.Null(lexicon.Advance(lexicon.Start, Chars.IdOf(' ')));              // no leading space
        var state = lexicon.Start;
        foreach (var c in "two") state = lexicon.Advance(state, Chars.IdOf(c))!.Value;
        Assert.True(lexicon.IsFinal(state));
        var afterSpace = lexicon.Advance(state, Chars.IdOf(' '))!.Value;
        Assert.Null(lexicon.Advance(afterSpace, Chars.IdOf(' ')));                  // no double space
        Assert.NotNull(lexicon.Advance(afterSpace, Chars.IdOf('s')));
        Assert.Null(lexicon.Advance(lexicon.Start, Chars.IdOf('x')));               // no word starts with x
        var tw = lexicon.Advance(lexicon.Advance(lexicon.Start, Chars.IdOf('t'))!.Value, Chars.IdOf('w'))!.Value;
        Assert.False(lexicon.IsFinal(tw));
    }

    [Fact]
    public void Lexicon_DecodesTwoWordsWithADoubledLetter()
    {
        var m = Peaked("_thre_e  _nine__", Chars.Size);
        var best = CtcDecoder.BeamSearch(m, constraint: CtcLexicon.For(Chars, SpokenDigits.Words))[0];
        Assert.Equal("three nine", Chars.Decode(best.Labels));
    }
}
