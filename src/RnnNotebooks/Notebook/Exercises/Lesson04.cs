using System.Diagnostics;
using RnnNotebooks.Decoding;
using RnnNotebooks.Platform;
using RnnNotebooks.Text;
using RnnNotebooks.Translation;
using TorchSharp;
using static TorchSharp.torch;

namespace RnnNotebooks.Notebook.Exercises;

/// <summary>Judges the write-the-code exercises of lesson 04: one Luong attention step and greedy decoding.</summary>
/// <remarks>Introduced in 04-machine-translation.</remarks>
public static class Lesson04
{
    /// <summary>
    /// Exercise 1 in a cell: runs <paramref name="myAttention"/> (query <c>[B, dq]</c>, keys <c>[B, S, dk]</c>, mask
    /// <c>[B, S]</c>, W <c>[dq, dk]</c> → context <c>[B, dk]</c> and weights <c>[B, S]</c>) and shows the verdict.
    /// </summary>
    public static ExerciseResult CheckLuongAttention(Func<Tensor, Tensor, Tensor, Tensor, (Tensor Context, Tensor Weights)> myAttention) =>
        Exercise.CheckCode("Exercise 1", () => LuongAttentionProblem(myAttention), problem => problem,
            "score every position with the query times W times its key, put −∞ where the mask is false, softmax over the " +
            "source positions (the last axis), and sum the keys with those weights.");

    /// <summary>
    /// What is wrong with <paramref name="myAttention"/>, or null when it is right. It is compared with
    /// <see cref="ReferenceLuongAttention"/> on random inputs with padding and with queries large enough that dividing
    /// the scores by √d (as <see cref="DotProductAttention"/> does, the forbidden shortcut) changes the weights.
    /// </summary>
    public static string? LuongAttentionProblem(Func<Tensor, Tensor, Tensor, Tensor, (Tensor Context, Tensor Weights)> myAttention)
    {
        ArgumentNullException.ThrowIfNull(myAttention);
        using var scope = NewDisposeScope();
        var generator = new Generator(404);
        foreach (var (batch, steps, dq, dk, real) in new[] { (2, 5, 4, 6, new[] { 5, 2 }), (3, 4, 9, 3, new[] { 4, 1, 3 }) })
        {
            var query = randn([batch, dq], generator: generator).mul(2.0.ToScalar());
            var keys = randn([batch, steps, dk], generator: generator);
            var w = randn([dq, dk], generator: generator);
            var mask = arange(steps).unsqueeze(0).lt(tensor(real).unsqueeze(1));              // [B, S]
            var (expectedContext, expectedWeights) = ReferenceLuongAttention(query, keys, mask, w);
            var (context, weights) = myAttention(query.clone(), keys.clone(), mask.clone(), w.clone());
            if (context is null || weights is null) return "your function returned null.";
            if (!weights.shape.SequenceEqual(expectedWeights.shape) || !context.shape.SequenceEqual(expectedContext.shape))
                return $"with B = {batch}, S = {steps}, dk = {dk} the weights are [{string.Join(", ", weights.shape)}] and the context " +
                       $"[{string.Join(", ", context.shape)}], expected [{batch}, {steps}] and [{batch}, {dk}].";
            var w64 = weights.detach().to_type(ScalarType.Float64);
            var atPadding = w64.masked_fill(mask, Scalars.Zero).abs().max().item<double>();
            if (atPadding > 1e-6)
                return $"a padded position gets weight {atPadding:G3}; padding must get weight 0.";
            var (_, scaledWeights) = ReferenceLuongAttention(query.div(Math.Sqrt(dq).ToScalar()), keys, mask, w);
            if (MaxDifference(weights, expectedWeights) > 1e-4)
                return MaxDifference(weights, scaledWeights) <= 1e-4
                    ? "your weights are those of scores divided by √d (the Transformer's scaling, DotProductAttention's); Luong's score is sᵀ W h, unscaled."
                    : $"the weights differ from sᵀ W h_j's by up to {MaxDifference(weights, expectedWeights):G3} (B = {batch}, S = {steps}).";
            if (MaxDifference(context, expectedContext) > 1e-4)
                return $"the weights are right but the context differs by up to {MaxDifference(context, expectedContext):G3}; it is Σ_j α_j h_j.";
        }
        return null;
    }

    /// <summary>Luong's "general" attention, unscaled: weights = softmax over real positions of <c>sᵀ W h_j</c>, context
    /// = their weighted sum of the keys. Equals <see cref="DotProductAttention"/> (keyProjection.weight = W) called with
    /// the query multiplied by √dq.</summary>
    public static (Tensor Context, Tensor Weights) ReferenceLuongAttention(Tensor query, Tensor keys, Tensor mask, Tensor w)
    {
        ArgumentNullException.ThrowIfNull(query);
        ArgumentNullException.ThrowIfNull(keys);
        ArgumentNullException.ThrowIfNull(mask);
        ArgumentNullException.ThrowIfNull(w);
        using var scope = NewDisposeScope();
        var scores = keys.matmul(w.t()).matmul(query.unsqueeze(-1)).squeeze(-1);                // [B, S]
        var weights = scores.masked_fill(mask.logical_not(), Scalars.NegativeInfinity).softmax(-1);
        var context = weights.unsqueeze(1).matmul(keys).squeeze(1);                              // [B, dk]
        return scope.MoveToOuter(context, weights);
    }

    /// <summary>
    /// Exercise 2 in a cell: runs <paramref name="myGreedy"/> (a decoder step, the first state and the most words → the
    /// word ids, without <c>&lt;eos&gt;</c>) on toy decoders and, when given, on <paramref name="model"/> decoding
    /// <paramref name="sourceIds"/>, and shows the verdict.
    /// </summary>
    public static ExerciseResult CheckGreedy(Func<Func<Tensor, Tensor, (Tensor LogProbs, Tensor State)>, Tensor, int, long[]> myGreedy,
        Seq2Seq? model = null, IReadOnlyList<long>? sourceIds = null) =>
        Exercise.CheckCode("Exercise 2", () => GreedyProblem(myGreedy, model, sourceIds), problem => problem,
            "start from <bos>; at each step take the argmax of the log-probabilities, append it unless it is <eos> (then stop), " +
            "and pass it and the new state to the next step.");

    /// <summary>
    /// What is wrong with <paramref name="myGreedy"/>, or null when it is right. Compared with
    /// <see cref="ReferenceGreedy"/> on a bigram table (where greedy and the most probable sentence differ), with a
    /// word limit that cuts it, on small random recurrent decoders, and on <paramref name="model"/> (eval mode, against
    /// <see cref="Seq2Seq.Greedy"/>). Every step goes through a spy, so a function that runs <see cref="BeamSearch"/>
    /// (beam 1 with α = 0 gives the same words: the forbidden shortcut) fails.
    /// </summary>
    public static string? GreedyProblem(Func<Func<Tensor, Tensor, (Tensor LogProbs, Tensor State)>, Tensor, int, long[]> myGreedy,
        Seq2Seq? model = null, IReadOnlyList<long>? sourceIds = null)
    {
        ArgumentNullException.ThrowIfNull(myGreedy);
        using var scope = NewDisposeScope();
        var cases = new List<(string Name, Func<Tensor, Tensor, (Tensor, Tensor)> Step, Tensor State, int MaxLength)>
        {
            ("the bigram table of section 9", BigramStep, zeros(1, 1), 10),
            ("the bigram table with maxLength 1", BigramStep, zeros(1, 1), 1),
        };
        var generator = new Generator(4004);
        for (var i = 0; i < 4; i++)
        {
            var (embedding, recurrent, readout) = (randn([8, 6], generator: generator), randn([6, 6], generator: generator),
                randn([8, 6], generator: generator).mul(3.0.ToScalar()));
            cases.Add(($"random recurrent decoder {i + 1}", (last, s) =>
            {
                var next = s.matmul(recurrent.t()).add(embedding.index_select(0, last), Scalars.One).tanh();   // [n, 6]
                return (next.matmul(readout.t()).log_softmax(-1), next);
            }, randn([1, 6], generator: generator), 12));
        }
        foreach (var (name, step, state, maxLength) in cases)
            if (Compare(name, myGreedy, step, state, maxLength, ReferenceGreedy(step, state, maxLength)) is { } problem) return problem;
        return model is null || sourceIds is null ? null : ModelProblem(myGreedy, model, sourceIds);
    }

    /// <summary>Greedy decoding of one sentence through <paramref name="step"/> (last word <c>[1]</c>, state → log-probabilities
    /// <c>[1, V]</c>, new state): the ids without <c>&lt;eos&gt;</c>, at most <paramref name="maxLength"/>.</summary>
    public static long[] ReferenceGreedy(Func<Tensor, Tensor, (Tensor LogProbs, Tensor State)> step, Tensor state, int maxLength)
    {
        ArgumentNullException.ThrowIfNull(step);
        using var scope = NewDisposeScope();
        var words = new List<long>();
        var last = Vocabulary.Bos;
        for (var t = 0; t < maxLength; t++)
        {
            var (logProbs, next) = step(tensor(new[] { last }), state);
            last = logProbs.argmax(-1).item<long>();
            if (last == Vocabulary.Eos) break;
            words.Add(last);
            state = next;
        }
        return [.. words];
    }

    static string? ModelProblem(Func<Func<Tensor, Tensor, (Tensor LogProbs, Tensor State)>, Tensor, int, long[]> myGreedy,
        Seq2Seq model, IReadOnlyList<long> sourceIds)
    {
        var wasTraining = model.training;
        model.eval();                                       // dropout off: greedy decoding is deterministic only then
        try
        {
            using var scope = NewDisposeScope();
            using var noGrad = no_grad();
            var batch = TranslationBatch.Collate([new EncodedPair([.. sourceIds], [])]);
            var expected = model.Greedy(batch.Source, batch.SourceLengths, 20).Ids[0];
            using var kernels = TorchKernels.WithoutOneDnn();   // as Seq2Seq.Greedy runs, so the two see the same numbers
            using var encoded = model.Encode(batch.Source, batch.SourceLengths);
            (Tensor, Tensor) Step(Tensor last, Tensor hidden)
            {
                var (logProbs, next, _) = model.DecodeStep(last, hidden, encoded);
                return (logProbs, next);
            }
            return Compare("your trained model", myGreedy, Step, encoded.InitialHidden, 20, expected);
        }
        finally
        {
            model.train(wasTraining);
        }
    }

    static string? Compare(string name, Func<Func<Tensor, Tensor, (Tensor LogProbs, Tensor State)>, Tensor, int, long[]> myGreedy,
        Func<Tensor, Tensor, (Tensor, Tensor)> step, Tensor state, int maxLength, long[] expected)
    {
        var calledByBeamSearch = false;
        (Tensor, Tensor) Spy(Tensor last, Tensor s)
        {
            calledByBeamSearch |= new StackTrace().GetFrames().Any(f =>
                f.GetMethod()?.DeclaringType is { } type && (type == typeof(BeamSearch) || type.DeclaringType == typeof(BeamSearch)));
            return step(last, s);
        }
        var got = myGreedy(Spy, state, maxLength);
        if (calledByBeamSearch)
            return "your function runs BeamSearch; a beam of one gives the same words, but the exercise is to write the loop yourself.";
        if (got is null) return "your function returned null.";
        if (got.SequenceEqual(expected)) return null;
        var detail = got.Contains(Vocabulary.Eos) ? " <eos> (id 2) ends the sentence and is not part of it."
            : got.Length > maxLength ? $" At most maxLength = {maxLength} words." : "";
        return $"on {name} greedy decoding gives [{string.Join(", ", expected)}], yours gave [{string.Join(", ", got)}].{detail}";
    }

    // Section 9's toy decoder: the next word's probability depends only on the previous word (ids as in the lesson:
    // 1 <bos>, 2 <eos>, 3 the, 4 a, 5 cat, 6 dog, 7 sat).
    static readonly double[,] Bigram = BigramTable();

    static (Tensor, Tensor) BigramStep(Tensor last, Tensor state)
    {
        using var scope = NewDisposeScope();
        var table = tensor(Bigram).to_type(ScalarType.Float32).log();
        return (scope.MoveToOuter(table.index_select(0, last)), state);
    }

    static double[,] BigramTable()
    {
        var p = new double[8, 8];
        (int From, int To, double P)[] entries =
        [
            (1, 3, 0.5), (1, 4, 0.4), (1, 2, 0.1), (3, 5, 0.4), (3, 2, 0.35), (3, 6, 0.25), (4, 6, 0.9), (4, 5, 0.1),
            (5, 2, 1.0), (6, 7, 0.6), (6, 2, 0.4), (7, 2, 1.0),
        ];
        foreach (var (from, to, pr) in entries) p[from, to] = pr;
        for (var i = 0; i < 8; i++)
            if (Enumerable.Range(0, 8).All(j => p[i, j] == 0)) p[i, 2] = 1;      // rows the lesson leaves empty end at once
        return p;
    }

    static double MaxDifference(Tensor a, Tensor b)
    {
        using var scope = NewDisposeScope();
        return a.detach().to_type(ScalarType.Float64).sub(b.detach().to_type(ScalarType.Float64)).abs().max().item<double>();
    }
}
