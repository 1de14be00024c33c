using RnnNotebooks.Captioning;
using RnnNotebooks.Notebook.Exercises;
using RnnNotebooks.Text;
using RnnNotebooks.Translation;
using TorchSharp;
using static TorchSharp.torch;

namespace RnnNotebooks.Tests.Notebook.Exercises;

public sealed class Lesson06ExerciseTests
{
    // The solutions of the lesson's '%% solution' cells (and docs/teaching/solutions/06-image-captioning.md).
    static Tensor MyAttention(Tensor a, Tensor h, Tensor Wa, Tensor ba, Tensor Wh, Tensor v)
    {
        var keys = a.matmul(Wa.t()).add(ba);                          // W_a a_i + b_a: [B, R, A]
        var query = h.matmul(Wh.t()).unsqueeze(1);                    // W_h h: [B, 1, A]
        var e = keys.add(query).tanh().matmul(v);                     // v · tanh(…): [B, R]
        return e.softmax(1);
    }

    static Tensor MyPenalty(Tensor alphas, Tensor mask)
    {
        var totals = alphas.mul(mask.unsqueeze(2)).sum(1);            // Σ_t over real words: [B, R]
        return totals.neg().add(1).pow(2).sum(1);                      // Σ_i (1 − total)²: [B]
    }

    static (long[] Tokens, double[] LogProbs) MyGreedy(CaptionModel m, Tensor features, int maxLength) =>
        Greedy(m, features, maxLength, [Vocabulary.Pad, Vocabulary.Bos, Vocabulary.Unk]);

    // The solution, with the ids it may not choose as a parameter so a test can get it wrong on purpose.
    static (long[] Tokens, double[] LogProbs) Greedy(CaptionModel m, Tensor features, int maxLength, long[] forbidden)
    {
        var (keys, state, word) = (m.PrepareKeys(features), m.Start(features), Vocabulary.Bos);
        var (tokens, logProbs) = (new List<long>(), new List<double>());
        for (var t = 0; t < maxLength; t++)
        {
            var (logits, next, _) = m.Step(features, keys, state, tensor(new[] { word }));
            var lp = logits.index_fill(1, tensor(forbidden), double.NegativeInfinity).log_softmax(1)[0];
            word = lp.argmax().item<long>();
            if (word == Vocabulary.Eos) break;
            tokens.Add(word);
            logProbs.Add(lp[word].item<float>());
            state = next;
        }
        return ([.. tokens], [.. logProbs]);
    }

    [Fact]
    public void ReferenceAttention_RowsSumToOne_AndFollowTheScores()
    {
        var (a, h) = (randn(2, 6, 3), randn(2, 4));
        var (wa, ba, wh, v) = (randn(5, 3), randn(5), randn(5, 4), randn(5));
        var alpha = Lesson06.ReferenceAttention(a, h, wa, ba, wh, v);
        Assert.True(alpha.sum(1).allclose(ones(2), atol: 1e-6));
        // Independent of the library: the region with the largest score gets the largest weight.
        var scores = a.matmul(wa.t()).add(ba).add(h.matmul(wh.t()).unsqueeze(1)).tanh().matmul(v);
        Assert.Equal(scores.argmax(1).data<long>().ToArray(), alpha.argmax(1).data<long>().ToArray());
    }

    [Fact]
    public void Attention_Solution_IsRight() => Assert.Null(Lesson06.AttentionProblem(MyAttention));

    [Fact]
    public void Attention_SoftmaxOverTheWrongAxis_IsWrong() =>
        Assert.NotNull(Lesson06.AttentionProblem((a, h, Wa, ba, Wh, v) =>
            a.matmul(Wa.t()).add(ba).add(h.matmul(Wh.t()).unsqueeze(1)).tanh().matmul(v).softmax(0)));

    [Fact]
    public void Attention_DotProductInsteadOfAdditive_IsWrong() =>
        Assert.NotNull(Lesson06.AttentionProblem((a, h, Wa, ba, Wh, v) =>
            a.matmul(Wa.t()).add(ba).matmul(h.matmul(Wh.t()).unsqueeze(2)).squeeze(2).softmax(1)));

    [Fact]
    public void Attention_WithWeightsOtherThanItsArguments_IsWrong()
    {
        // The shortcut: the lesson's hand-written step, which reads a trained model's weights instead of the arguments.
        using var model = new CaptionModel(new CaptionModelOptions(Vocab: 8, Embedding: 4, Hidden: 4, AttentionSize: 3, FeatureSize: 5));
        var w = model.state_dict();
        Assert.NotNull(Lesson06.AttentionProblem((a, h, _, _, _, _) =>
            MyAttention(a, h, w["attention.keyProjection.weight"], w["attention.keyProjection.bias"],
                w["attention.queryProjection.weight"], w["attention.scorer.weight"].squeeze(0))));
    }

    [Fact]
    public void CheckAttention_UnansweredStub_IsNotAnsweredYet() =>
        Assert.Null(Lesson06.CheckAttention((_, _, _, _, _, _) => throw new NotImplementedException()).Correct);

    [Fact]
    public void ReferencePenalty_OneHotTiledAndUniformMaps_CostWhatTheMathsSays()
    {
        var mask = ones(1, 7, dtype: ScalarType.Bool);
        var uniform = full(1, 7, 49, 1.0f / 49);
        var rows = zeros(1, 7, 49);
        for (var t = 0; t < 7; t++) rows[0, t, TensorIndex.Slice(7 * t, 7 * t + 7)] = tensor(1.0f / 7);   // word t on grid row t
        var oneSpot = zeros(1, 7, 49);
        oneSpot[0, TensorIndex.Colon, 0] = tensor(1.0f);
        Assert.Equal(49 * Math.Pow(1 - 7.0 / 49, 2), Lesson06.ReferencePenalty(uniform, mask).item<float>(), 3);
        Assert.Equal(Lesson06.ReferencePenalty(uniform, mask).item<float>(), Lesson06.ReferencePenalty(rows, mask).item<float>(), 4);
        Assert.Equal(36 + 48, Lesson06.ReferencePenalty(oneSpot, mask).item<float>(), 3);
    }

    [Fact]
    public void Penalty_Solution_IsRight() => Assert.Null(Lesson06.PenaltyProblem(MyPenalty));

    [Fact]
    public void Penalty_IgnoringTheMask_IsWrong() =>
        Assert.Contains("real steps", Lesson06.PenaltyProblem((alphas, _) => alphas.sum(1).neg().add(1).pow(2).sum(1)));

    [Fact]
    public void Penalty_TheLibrarysAveragedScalar_IsWrong()
    {
        // The shortcut: the term CaptionModel.Loss adds, the mean over captions and regions.
        var message = Lesson06.PenaltyProblem((alphas, mask) => MyPenalty(alphas, mask).div(49).mean());
        Assert.Contains("one cost per caption", message);
    }

    [Fact]
    public void Greedy_Solution_IsRight() => Assert.Null(Lesson06.GreedyProblem(MyGreedy));

    [Fact]
    public void Greedy_JudgeModels_EndEarlyAndLate_AndLikeUnk()
    {
        // Without this the judge could pass answers that never stop at <eos> or never meet <unk>.
        var lengths = new List<int>();
        var unkWins = false;
        Assert.Null(Lesson06.GreedyProblem((m, f, n) =>
        {
            var r = MyGreedy(m, f, n);
            lengths.Add(r.Tokens.Length);
            var raw = m.Step(f, m.PrepareKeys(f), m.Start(f), tensor(new[] { Vocabulary.Bos })).Logits.argmax(1).item<long>();
            unkWins |= raw == Vocabulary.Unk;
            return r;
        }));
        Assert.Contains(lengths, l => l < 8);
        Assert.Contains(8, lengths);
        Assert.True(unkWins);
    }

    [Fact]
    public void Greedy_AllowingUnk_IsWrong() =>
        Assert.Contains("<unk>", Lesson06.GreedyProblem((m, f, n) => Greedy(m, f, n, [Vocabulary.Pad, Vocabulary.Bos])));

    [Fact]
    public void Greedy_TheLibrarysWordsWithoutLogProbabilities_IsWrong()
    {
        // The shortcut: CaptionModel.Greedy gives the words but not how probable each one was.
        var message = Lesson06.GreedyProblem((m, f, n) =>
        {
            var tokens = m.Greedy(f, n)[0].Tokens;
            return (tokens, new double[tokens.Length]);
        });
        Assert.Contains("log-probability", message);
    }

    [Fact]
    public void CheckGreedy_RightAnswer_IsRight() => Assert.True(Lesson06.CheckGreedy(MyGreedy).Correct);
}
