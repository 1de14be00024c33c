using RnnNotebooks.Decoding;
using RnnNotebooks.Tests.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace RnnNotebooks.Tests.Decoding;

public class BeamSearchTests
{
    const long Bos = 0, Eos = 1;

    public BeamSearchTests() => SingleThreadedTorch.Ensure();

    /// <summary>
    /// A toy decoder whose next-token distribution is a fixed random function of the whole prefix; its state is the
    /// prefix itself, <c>[beams, steps]</c>. The start token is never produced.
    /// </summary>
    sealed class ToyModel(int seed, int vocab)
    {
        public int Vocab => vocab;

        public double[] LogProbs(IReadOnlyList<long> prefix)
        {
            var hash = seed;
            foreach (var t in prefix) hash = unchecked(hash * 31 + (int)t + 7);
            var random = new Random(hash);
            var logits = Enumerable.Range(0, vocab).Select(v => v == Bos ? double.NegativeInfinity : 3 * random.NextDouble()).ToArray();
            var max = logits.Max();
            var logZ = max + Math.Log(logits.Sum(l => Math.Exp(l - max)));
            return [.. logits.Select(l => l - logZ)];
        }

        public (Tensor, Tensor) Step(Tensor prefixes, Tensor last)
        {
            var grown = cat([prefixes, last.unsqueeze(1)], 1);                 // [beams, steps + 1]
            var rows = Enumerable.Range(0, (int)grown.shape[0])
                .SelectMany(b => LogProbs(grown[b].data<long>().ToArray())).ToArray();
            return (tensor(rows, [grown.shape[0], vocab]), grown);
        }

        public Tensor Initial() => zeros([1, 0], ScalarType.Int64);
    }

    static IReadOnlyList<BeamHypothesis> Search(ToyModel model, int beam, int maxLength, double alpha = 0, bool dispose = true) =>
        BeamSearch.Search(model.Initial(), model.Step, (s, idx) => s.index_select(0, idx),
            new BeamSearchOptions(Bos, Eos, beam, maxLength, alpha), dispose ? s => [s] : null);

    /// <summary>Every output of at most <paramref name="maxLength"/> tokens: ended ones and ones cut at the limit.</summary>
    static (List<long> Tokens, double Score) BruteForce(ToyModel model, int maxLength, double alpha)
    {
        var best = (Tokens: new List<long>(), Score: double.NegativeInfinity);
        void Visit(List<long> tokens, double logProb)
        {
            var logProbs = model.LogProbs([Bos, .. tokens]);
            for (var v = 0; v < model.Vocab; v++)
            {
                if (v == Bos) continue;
                var lp = logProb + logProbs[v];
                var length = tokens.Count + 1;
                if (v == Eos || length == maxLength)
                {
                    var score = lp / Math.Pow(length, alpha);
                    if (score > best.Score) best = (v == Eos ? [.. tokens] : [.. tokens, v], score);
                }
                else Visit([.. tokens, v], lp);
            }
        }
        Visit([], 0);
        return best;
    }

    static List<long> Greedy(ToyModel model, int maxLength)
    {
        var tokens = new List<long>();
        for (var t = 0; t < maxLength; t++)
        {
            var logProbs = model.LogProbs([Bos, .. tokens]);
            var next = Array.IndexOf(logProbs, logProbs.Max());
            if (next == Eos) break;
            tokens.Add(next);
        }
        return tokens;
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    public void BeamSizeOne_IsGreedyDecoding(int seed)
    {
        var model = new ToyModel(seed, 6);
        var result = Search(model, beam: 1, maxLength: 8);
        Assert.Single(result);
        Assert.Equal(Greedy(model, 8), result[0].Tokens);
    }

    [Theory]
    [InlineData(11, 0.0)]
    [InlineData(12, 0.0)]
    [InlineData(13, 0.0)]
    [InlineData(14, 1.0)]
    [InlineData(15, 0.6)]
    public void WideBeam_FindsTheBestSequence_CheckedByBruteForce(int seed, double alpha)
    {
        var model = new ToyModel(seed, 5);   // 3 output tokens besides the end token, so 3^3 prefixes at depth 3
        var (tokens, score) = BruteForce(model, 4, alpha);
        var result = Search(model, beam: 4 * 27, maxLength: 4, alpha);
        Assert.Equal(tokens, result[0].Tokens);
        Assert.Equal(score, result[0].Score, 9);
    }

    [Fact]
    public void SmallBeam_FindsTheBestSequence_WhereGreedyIsWrong()
    {
        // Seeds where the greedy answer is not the most probable sequence; beam 3 finds it.
        var checkedSeeds = 0;
        for (var seed = 100; seed < 200 && checkedSeeds < 5; seed++)
        {
            var model = new ToyModel(seed, 4);
            var (best, _) = BruteForce(model, 5, 0);
            if (Greedy(model, 5).SequenceEqual(best)) continue;
            checkedSeeds++;
            Assert.NotEqual(best, Search(model, beam: 1, maxLength: 5)[0].Tokens);
            Assert.Equal(best, Search(model, beam: 3, maxLength: 5)[0].Tokens);
        }
        Assert.Equal(5, checkedSeeds);
    }

    [Fact]
    public void Hypotheses_AreSortedByScore_AndScoresAreLogProbabilities()
    {
        var model = new ToyModel(5, 6);
        var result = Search(model, beam: 4, maxLength: 6);
        Assert.InRange(result.Count, 1, 4);
        Assert.Equal(result.Select(h => h.Score).OrderDescending(), result.Select(h => h.Score));
        foreach (var h in result.Where(h => h.Finished))
        {
            var expected = 0.0;
            var prefix = new List<long> { Bos };
            foreach (var t in h.Tokens.Append(Eos))
            {
                expected += model.LogProbs(prefix)[t];
                prefix.Add(t);
            }
            Assert.Equal(expected, h.LogProb, 9);
        }
    }

    [Fact]
    public void MaxLength_CutsOpenHypotheses()
    {
        var model = new ToyModel(9, 6);
        var result = Search(model, beam: 2, maxLength: 1);
        Assert.All(result, h => Assert.True(h.Tokens.Count <= 1));
    }

    [Fact]
    public void Search_LeavesNoLiveTensors()
    {
        var model = new ToyModel(3, 6);
        using var initial = model.Initial();
        Search(model, beam: 3, maxLength: 10);
        var before = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        for (var i = 0; i < 3; i++)
            BeamSearch.Search(initial, model.Step, (s, idx) => s.index_select(0, idx), new BeamSearchOptions(Bos, Eos, 3, 10), s => [s]);
        Assert.Equal(before, DisposeScopeManager.Statistics.ThreadTotalLiveCount);
        Assert.False(initial.IsInvalid);
    }

    [Fact]
    public void Options_RejectAZeroBeam()
    {
        var model = new ToyModel(3, 6);
        Assert.Throws<ArgumentOutOfRangeException>(() => Search(model, beam: 0, maxLength: 5));
    }

    /// <summary>Several toy models, one per input; column 0 of the state says whose row it is.</summary>
    sealed class ToyModels(int vocab, params int[] seeds)
    {
        readonly ToyModel[] models = [.. seeds.Select(s => new ToyModel(s, vocab))];

        public (Tensor, Tensor) Step(Tensor prefixes, Tensor last)
        {
            var grown = cat([prefixes, last.unsqueeze(1)], 1);                 // [rows, 1 + steps + 1]
            var rows = Enumerable.Range(0, (int)grown.shape[0]).SelectMany(b =>
            {
                var row = grown[b].data<long>().ToArray();
                return models[row[0]].LogProbs(row[1..]);
            }).ToArray();
            return (tensor(rows, [grown.shape[0], vocab]), grown);
        }
    }

    [Theory]
    [InlineData(1, 6, 0.0)]
    [InlineData(3, 6, 0.0)]
    [InlineData(4, 7, 0.6)]
    [InlineData(10, 5, 1.0)]
    public void SearchBatch_GivesEachInputWhatSearchGivesIt(int beam, int maxLength, double alpha)
    {
        using var scope = NewDisposeScope();
        var models = new ToyModels(5, 11, 12, 13, 14, 15);
        var options = new BeamSearchOptions(Bos, Eos, beam, maxLength, alpha);

        var batched = BeamSearch.SearchBatch(tensor(new long[] { 0, 1, 2, 3, 4 }).unsqueeze(1), 5, models.Step,
            (s, idx) => s.index_select(0, idx), options, s => [s]);

        Assert.Equal(5, batched.Count);
        for (var i = 0; i < 5; i++)
        {
            var alone = BeamSearch.Search(tensor(new long[] { i }).unsqueeze(1), models.Step, (s, idx) => s.index_select(0, idx), options);
            Assert.Equal(alone.Select(h => h.Tokens), batched[i].Select(h => h.Tokens));
            Assert.Equal(alone.Select(h => h.Score), batched[i].Select(h => h.Score));
            Assert.Equal(alone.Select(h => h.Finished), batched[i].Select(h => h.Finished));
        }
    }

    [Fact]
    public void SearchBatch_OfNoInputs_ReturnsNothing() =>
        Assert.Empty(BeamSearch.SearchBatch(zeros([0, 1], ScalarType.Int64), 0, new ToyModels(5).Step,
            (s, idx) => s.index_select(0, idx), new BeamSearchOptions(Bos, Eos)));
}
