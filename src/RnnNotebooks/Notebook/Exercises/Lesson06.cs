using RnnNotebooks.Captioning;
using RnnNotebooks.Text;
using RnnNotebooks.Translation;
using TorchSharp;
using static TorchSharp.torch;

namespace RnnNotebooks.Notebook.Exercises;

/// <summary>Judges the write-the-code exercises of lesson 06: soft attention over regions, the doubly stochastic
/// penalty of a caption, and greedy caption decoding with each word's log-probability.</summary>
/// <remarks>Introduced in 06-image-captioning.</remarks>
public static class Lesson06
{
    static readonly long[] Unspeakable = [Vocabulary.Pad, Vocabulary.Bos, Vocabulary.Unk];

    /// <summary>
    /// Exercise 1 in a cell: runs <paramref name="myAttention"/> (regions <c>a [B, R, D]</c>, state <c>h [B, H]</c>,
    /// <c>W_a [A, D]</c>, <c>b_a [A]</c>, <c>W_h [A, H]</c>, <c>v [A]</c> → weights <c>α [B, R]</c>) and shows the verdict.
    /// </summary>
    public static ExerciseResult CheckAttention(Func<Tensor, Tensor, Tensor, Tensor, Tensor, Tensor, Tensor> myAttention) =>
        Exercise.CheckCode("Exercise 1", () => AttentionProblem(myAttention), problem => problem,
            "project every region with W_a (plus b_a) and the state with W_h, add them (the state's projection broadcasts " +
            "over the regions), take tanh, multiply by v to get one score per region, then a softmax over the regions.");

    /// <summary>
    /// What is wrong with <paramref name="myAttention"/>, or null when it is right. It is compared with the library's
    /// <see cref="AdditiveAttention"/> carrying the same weights, on fresh random inputs, so an answer that reads
    /// weights from anywhere but its arguments (e.g. the lesson's trained model) fails.
    /// </summary>
    public static string? AttentionProblem(Func<Tensor, Tensor, Tensor, Tensor, Tensor, Tensor, Tensor> myAttention)
    {
        ArgumentNullException.ThrowIfNull(myAttention);
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var random = new Generator(606);
        foreach (var (b, r, d, h, a) in new[] { (2, 49, 5, 4, 3), (3, 6, 2, 7, 4) })
        {
            var regions = randn([b, r, d], generator: random);
            var state = randn([b, h], generator: random);
            var (wa, ba, wh, v) = (randn([a, d], generator: random), randn([a], generator: random),
                randn([a, h], generator: random), randn([a], generator: random));
            var expected = ReferenceAttention(regions, state, wa, ba, wh, v);
            var got = myAttention(regions.clone(), state.clone(), wa.clone(), ba.clone(), wh.clone(), v.clone());
            if (got is null) return "your function returned null.";
            if (!got.shape.SequenceEqual(expected.shape))
                return $"for {b} images and {r} regions the weights have shape [{string.Join(", ", got.shape)}], expected [{b}, {r}].";
            var diff = got.detach().to_type(ScalarType.Float64).sub(expected.to_type(ScalarType.Float64)).abs().max().item<double>();
            if (diff > 1e-5)
                return $"for {b} images and {r} regions your weights differ from the library's by up to {diff:G3}" +
                       (got.sum(1).sub(1.0).abs().max().item<float>() > 1e-4 ? " (and a row does not sum to 1)." : ".");
        }
        return null;
    }

    /// <summary>Soft attention weights <c>softmax_i(vᵀ tanh(W_a a_i + b_a + W_h h))</c> <c>[B, R]</c>, computed by the
    /// library's <see cref="AdditiveAttention"/> with the given weights.</summary>
    public static Tensor ReferenceAttention(Tensor regions, Tensor state, Tensor wa, Tensor ba, Tensor wh, Tensor v)
    {
        ArgumentNullException.ThrowIfNull(regions);
        ArgumentNullException.ThrowIfNull(state);
        ArgumentNullException.ThrowIfNull(wa);
        ArgumentNullException.ThrowIfNull(wh);
        ArgumentNullException.ThrowIfNull(v);
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        using var attention = new AdditiveAttention((int)wh.shape[1], (int)wa.shape[1], (int)wa.shape[0]);
        var weights = attention.state_dict();
        weights["queryProjection.weight"].copy_(wh);
        weights["keyProjection.weight"].copy_(wa);
        weights["keyProjection.bias"].copy_(ba);
        weights["scorer.weight"].copy_(v.unsqueeze(0));
        var mask = ones(regions.shape[0], regions.shape[1], dtype: ScalarType.Bool);
        var (_, alpha) = attention.Attend(state, attention.PrepareKeys(regions), regions, mask);
        return scope.MoveToOuter(alpha);
    }

    /// <summary>
    /// Exercise 2 in a cell: runs <paramref name="myPenalty"/> (attention weights <c>[B, T, R]</c> and a mask
    /// <c>[B, T]</c>, true at real words → each caption's cost <c>Σ_i (1 − Σ_t α_ti)² [B]</c>) and shows the verdict.
    /// </summary>
    public static ExerciseResult CheckPenalty(Func<Tensor, Tensor, Tensor> myPenalty) =>
        Exercise.CheckCode("Exercise 2", () => PenaltyProblem(myPenalty), problem => problem,
            "zero the weights of padded steps with the mask, sum over the steps (dimension 1) to get each region's total, " +
            "then sum (1 − total)² over the regions: one number per caption.");

    /// <summary>
    /// What is wrong with <paramref name="myPenalty"/>, or null when it is right. The captions have different lengths
    /// and their padded steps carry weights, so an answer that ignores the mask fails; the answer is one sum per caption,
    /// so the averaged scalar that <see cref="CaptionModel.Loss"/> adds fails too.
    /// </summary>
    public static string? PenaltyProblem(Func<Tensor, Tensor, Tensor> myPenalty)
    {
        ArgumentNullException.ThrowIfNull(myPenalty);
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var random = new Generator(6062);
        var alphas = randn([3, 5, 49], generator: random).mul(2.0).softmax(-1);          // [B, T, R]
        var mask = tensor(new[] { 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 1, 0, 0, 0, 0 }, [3, 5]).to_type(ScalarType.Bool);
        var expected = ReferencePenalty(alphas, mask);
        var got = myPenalty(alphas.clone(), mask.clone());
        if (got is null) return "your function returned null.";
        if (!got.shape.SequenceEqual(expected.shape))
            return $"for 3 captions the result has shape [{string.Join(", ", got.shape)}], expected [3]: one cost per caption, " +
                   "summed over the regions (not the library's mean over captions and regions).";
        var values = got.detach().to_type(ScalarType.Float64).data<double>().ToArray();
        var right = expected.to_type(ScalarType.Float64).data<double>().ToArray();
        for (var i = 0; i < right.Length; i++)
            if (Math.Abs(values[i] - right[i]) > 1e-4 * Math.Max(1, right[i]))
                return $"caption {i} ({new[] { 4, 3, 1 }[i]} real steps of 5) costs {right[i]:0.0000}, your function gave {values[i]:0.0000}.";
        return null;
    }

    /// <summary>The doubly stochastic cost of each caption, <c>Σ_i (1 − Σ_t m_t α_ti)²</c> <c>[B]</c>, for weights
    /// <c>[B, T, R]</c> and a mask <c>[B, T]</c> (true at real words).</summary>
    public static Tensor ReferencePenalty(Tensor alphas, Tensor mask)
    {
        ArgumentNullException.ThrowIfNull(alphas);
        ArgumentNullException.ThrowIfNull(mask);
        using var scope = NewDisposeScope();
        var totals = alphas.mul(mask.unsqueeze(-1).to_type(alphas.dtype)).sum(1);          // [B, R]
        var gap = totals.neg().add(1.0);
        return scope.MoveToOuter(gap.mul(gap).sum(1));
    }

    /// <summary>
    /// Exercise 3 in a cell: runs <paramref name="myGreedy"/> (a caption model, one image's features <c>[1, R, D]</c>
    /// and the most words to write → the words chosen, without <c>&lt;eos&gt;</c>, and each one's log-probability)
    /// and shows the verdict.
    /// </summary>
    public static ExerciseResult CheckGreedy(Func<CaptionModel, Tensor, int, (long[] Tokens, double[] LogProbs)> myGreedy) =>
        Exercise.CheckCode("Exercise 3", () => GreedyProblem(myGreedy), problem => problem,
            "start from m.Start(features) and <bos>; at each step call m.Step, set the scores of <pad>, <bos> and <unk> to " +
            "−∞, take log_softmax, keep the argmax and its log-probability, and stop at <eos> or after maxLength words.");

    /// <summary>
    /// What is wrong with <paramref name="myGreedy"/>, or null when it is right. Two small random caption models (one
    /// that ends its captions early, one that runs to the length limit, both liking <c>&lt;unk&gt;</c>) decode a few
    /// random images; the words must equal <see cref="CaptionModel.Greedy"/>'s and the log-probabilities
    /// <see cref="ReferenceGreedy"/>'s, so returning the library's words without their log-probabilities fails.
    /// </summary>
    public static string? GreedyProblem(Func<CaptionModel, Tensor, int, (long[] Tokens, double[] LogProbs)> myGreedy)
    {
        ArgumentNullException.ThrowIfNull(myGreedy);
        foreach (var eosBias in new[] { 1.5, -5.0 })
        {
            using var model = JudgeModel(eosBias);
            for (var image = 0; image < 3; image++)
            {
                using var scope = NewDisposeScope();
                var features = randn([1, 49, model.Options.FeatureSize], generator: new Generator((ulong)(60630 + image)));
                var expected = ReferenceGreedy(model, features, 8);
                model.eval();
                (long[] Tokens, double[] LogProbs) got;
                using (no_grad()) got = myGreedy(model, features.clone(), 8);
                if (got.Tokens is null || got.LogProbs is null) return "your function returned null.";
                var words = $"[{string.Join(", ", expected.Tokens)}]";
                if (!got.Tokens.SequenceEqual(expected.Tokens))
                    return $"a test model's greedy caption is {words}, yours is [{string.Join(", ", got.Tokens)}]" +
                           (got.Tokens.Contains(Vocabulary.Unk) ? " (it holds <unk>, id 3, which a caption never may)." : ".");
                if (got.LogProbs.Length != expected.LogProbs.Length)
                    return $"for the caption {words} you gave {got.LogProbs.Length} log-probabilities, expected one per word ({expected.LogProbs.Length}).";
                for (var t = 0; t < expected.LogProbs.Length; t++)
                    if (Math.Abs(got.LogProbs[t] - expected.LogProbs[t]) > 1e-4)
                        return $"in the caption {words} word {t} has log-probability {expected.LogProbs[t]:0.0000}, you gave {got.LogProbs[t]:0.0000}.";
            }
        }
        return null;
    }

    /// <summary>Greedy decoding of one image with each chosen word's log-probability among the words a caption may
    /// hold (<c>&lt;pad&gt;</c>, <c>&lt;bos&gt;</c>, <c>&lt;unk&gt;</c> excluded); stops at <c>&lt;eos&gt;</c> (not returned)
    /// or after <paramref name="maxLength"/> words. The words are <see cref="CaptionModel.Greedy"/>'s.</summary>
    public static (long[] Tokens, double[] LogProbs) ReferenceGreedy(CaptionModel model, Tensor features, int maxLength)
    {
        ArgumentNullException.ThrowIfNull(model);
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var wasTraining = model.training;
        model.eval();
        try
        {
            var keys = model.PrepareKeys(features);
            var state = model.Start(features);
            var word = Vocabulary.Bos;
            var (tokens, logProbs) = (new List<long>(), new List<double>());
            for (var t = 0; t < maxLength; t++)
            {
                var (logits, next, _) = model.Step(features, keys, state, tensor(new[] { word }));
                var lp = logits.index_fill(1, tensor(Unspeakable), double.NegativeInfinity).log_softmax(1)[0];   // [vocab]
                word = lp.argmax().item<long>();
                if (word == Vocabulary.Eos) break;
                tokens.Add(word);
                logProbs.Add(lp[word].item<float>());
                state = next;
            }
            return ([.. tokens], [.. logProbs]);
        }
        finally
        {
            model.train(wasTraining);
        }
    }

    /// <summary>A small caption model with the same weights in every run, a strong liking for <c>&lt;unk&gt;</c> and the
    /// given bias for <c>&lt;eos&gt;</c>.</summary>
    static CaptionModel JudgeModel(double eosBias)
    {
        var model = new CaptionModel(new CaptionModelOptions(Vocab: 12, Attention: true, Embedding: 6, Hidden: 8, AttentionSize: 5,
            FeatureSize: 4, Dropout: 0, DoublyStochastic: 0));
        using var noGrad = no_grad();
        var random = new Generator(eosBias > 0 ? 6063UL : 6064UL);
        foreach (var (_, p) in model.named_parameters()) p.copy_(randn(p.shape, generator: random));
        var bias = model.state_dict()["output.bias"];
        bias[Vocabulary.Unk].fill_(4.0);
        bias[Vocabulary.Eos].fill_(eosBias);
        return model;
    }
}
