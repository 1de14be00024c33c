using RnnNotebooks.Decoding;
using RnnNotebooks.Notebook.Exercises;
using RnnNotebooks.Text;
using RnnNotebooks.Training;
using RnnNotebooks.Translation;
using TorchSharp;
using static TorchSharp.torch;

namespace RnnNotebooks.Tests.Notebook.Exercises;

public sealed class Lesson04ExerciseTests
{
    // The solutions of docs/teaching/solutions/04-machine-translation.md.
    static (Tensor Context, Tensor Weights) MyLuongAttention(Tensor query, Tensor keys, Tensor mask, Tensor w)
    {
        var scores = keys.matmul(w.t()).matmul(query.unsqueeze(-1)).squeeze(-1);          // [B, S]: sᵀ W h_j
        var weights = scores.masked_fill(mask.logical_not(), double.NegativeInfinity).softmax(-1);
        return (weights.unsqueeze(1).matmul(keys).squeeze(1), weights);
    }

    static long[] MyGreedy(Func<Tensor, Tensor, (Tensor LogProbs, Tensor State)> step, Tensor state, int maxLength)
    {
        var words = new List<long>();
        var last = Vocabulary.Bos;
        for (var t = 0; t < maxLength; t++)
        {
            var (logProbs, next) = step(torch.tensor(new[] { last }), state);
            last = logProbs.argmax(-1).item<long>();
            if (last == Vocabulary.Eos) break;
            words.Add(last);
            state = next;
        }
        return [.. words];
    }

    [Fact]
    public void ReferenceLuongAttention_IsDotProductAttention_WithTheQueryScaledBackBySqrtD()
    {
        Seeds.Set(3);
        using var dot = new DotProductAttention(querySize: 4, keySize: 6);
        var query = randn(2, 4);
        var keys = randn(2, 5, 6);
        var mask = tensor(new[] { true, true, true, true, true, true, true, false, false, false }).reshape(2, 5);
        var (context, weights) = Lesson04.ReferenceLuongAttention(query, keys, mask, dot.state_dict()["keyProjection.weight"]);
        var (libraryContext, libraryWeights) = dot.Attend(query.mul(2.0.ToScalar()), dot.PrepareKeys(keys), keys, mask);   // √4 = 2
        Assert.True(weights.allclose(libraryWeights, atol: 1e-6));
        Assert.True(context.allclose(libraryContext, atol: 1e-6));
        Assert.Equal(0f, weights[1, 3].item<float>());
    }

    [Fact]
    public void LuongAttention_Solution_IsRight() => Assert.Null(Lesson04.LuongAttentionProblem(MyLuongAttention));

    [Fact]
    public void LuongAttention_WithoutTheMask_IsWrong()
    {
        static (Tensor, Tensor) noMask(Tensor query, Tensor keys, Tensor mask, Tensor w)
        {
            var weights = keys.matmul(w.t()).matmul(query.unsqueeze(-1)).squeeze(-1).softmax(-1);
            return (weights.unsqueeze(1).matmul(keys).squeeze(1), weights);
        }
        Assert.Contains("padded position", Lesson04.LuongAttentionProblem(noMask));
    }

    [Fact]
    public void LuongAttention_ThroughTheLibrarysScaledDotProduct_IsWrong()
    {
        // The shortcut: load W into DotProductAttention and call it; it divides the scores by √d.
        static (Tensor, Tensor) viaLibrary(Tensor query, Tensor keys, Tensor mask, Tensor w)
        {
            var dot = new DotProductAttention((int)w.shape[0], (int)w.shape[1]);
            using (no_grad()) dot.state_dict()["keyProjection.weight"].copy_(w);
            return dot.Attend(query, dot.PrepareKeys(keys), keys, mask);
        }
        Assert.Contains("√d", Lesson04.LuongAttentionProblem(viaLibrary));
    }

    [Fact]
    public void LuongAttention_SoftmaxOverTheWrongAxis_IsWrong()
    {
        static (Tensor, Tensor) wrongAxis(Tensor query, Tensor keys, Tensor mask, Tensor w)
        {
            var scores = keys.matmul(w.t()).matmul(query.unsqueeze(-1)).squeeze(-1);
            var weights = scores.masked_fill(mask.logical_not(), double.NegativeInfinity).softmax(0).nan_to_num();
            return (weights.unsqueeze(1).matmul(keys).squeeze(1), weights);
        }
        Assert.NotNull(Lesson04.LuongAttentionProblem(wrongAxis));
    }

    [Fact]
    public void CheckLuongAttention_UnansweredStub_IsNotAnsweredYet() =>
        Assert.Null(Lesson04.CheckLuongAttention((_, _, _, _) => throw new NotImplementedException()).Correct);

    [Fact]
    public void Greedy_Solution_IsRight_OnToyDecodersAndAModel()
    {
        Seeds.Set(5);
        using var model = new Seq2Seq(new Seq2SeqOptions(30, 30, 8, 8, AttentionKind.Additive, Dropout: 0.5));
        Assert.True(model.training);
        Assert.True(Lesson04.CheckGreedy(MyGreedy, model, [5, 6, 7, 8]).Correct);
        Assert.True(model.training);   // the check switches dropout off for itself only
    }

    [Fact]
    public void Greedy_ThroughBeamSearch_IsCaughtBySpy()
    {
        static long[] viaBeamSearch(Func<Tensor, Tensor, (Tensor LogProbs, Tensor State)> step, Tensor state, int maxLength) =>
        [
            .. BeamSearch.Search(state, (s, last) => { var (lp, next) = step(last, s); return (lp, next); },
                (s, rows) => s.index_select(0, rows), new BeamSearchOptions(Vocabulary.Bos, Vocabulary.Eos, 1, maxLength, 0))[0].Tokens,
        ];
        Assert.Contains("BeamSearch", Lesson04.GreedyProblem(viaBeamSearch));
    }

    [Fact]
    public void Greedy_KeepingEos_IsWrong()
    {
        static long[] keepsEos(Func<Tensor, Tensor, (Tensor LogProbs, Tensor State)> step, Tensor state, int maxLength)
        {
            var words = new List<long>();
            var last = Vocabulary.Bos;
            for (var t = 0; t < maxLength && last != Vocabulary.Eos; t++)
            {
                (var logProbs, state) = step(torch.tensor(new[] { last }), state);
                last = logProbs.argmax(-1).item<long>();
                words.Add(last);
            }
            return [.. words];
        }
        Assert.Contains("<eos>", Lesson04.GreedyProblem(keepsEos));
    }

    [Fact]
    public void Greedy_NotFeedingBackItsWord_IsWrong()
    {
        static long[] alwaysBos(Func<Tensor, Tensor, (Tensor LogProbs, Tensor State)> step, Tensor state, int maxLength)
        {
            var words = new List<long>();
            for (var t = 0; t < maxLength; t++)
            {
                (var logProbs, state) = step(torch.tensor(new[] { Vocabulary.Bos }), state);
                var word = logProbs.argmax(-1).item<long>();
                if (word == Vocabulary.Eos) break;
                words.Add(word);
            }
            return [.. words];
        }
        Assert.Contains("bigram table", Lesson04.GreedyProblem(alwaysBos));
    }

    [Fact]
    public void Greedy_NotPassingTheNewState_IsWrong()
    {
        static long[] firstStateOnly(Func<Tensor, Tensor, (Tensor LogProbs, Tensor State)> step, Tensor state, int maxLength)
        {
            var words = new List<long>();
            var last = Vocabulary.Bos;
            for (var t = 0; t < maxLength; t++)
            {
                last = step(torch.tensor(new[] { last }), state).LogProbs.argmax(-1).item<long>();
                if (last == Vocabulary.Eos) break;
                words.Add(last);
            }
            return [.. words];
        }
        Assert.Contains("random recurrent decoder", Lesson04.GreedyProblem(firstStateOnly));
    }

    [Fact]
    public void CheckGreedy_UnansweredStub_IsNotAnsweredYet() =>
        Assert.Null(Lesson04.CheckGreedy((_, _, _) => throw new NotImplementedException()).Correct);
}
