using RnnNotebooks.Decoding;
using RnnNotebooks.Models;
using static TorchSharp.torch;

namespace RnnNotebooks.Notebook.Exercises;

/// <summary>The checks of 01-vanilla-rnn's exercises.</summary>
/// <remarks>Introduced in 01-vanilla-rnn.</remarks>
public static class Lesson01
{
    /// <summary>
    /// Exercise 1: clipping by the global norm. Judged against the clipping inside <see cref="ScratchRnn.Step"/> on
    /// gradients above and below the threshold; a function that clips each tensor on its own, or that changes the
    /// tensors it is given (as <c>clip_grad_norm_</c> does), is wrong.
    /// </summary>
    /// <param name="myClip">(the five gradients, θ) → the clipped gradients, new tensors.</param>
    public static ExerciseResult CheckClip(Func<IReadOnlyList<Tensor>, double, IReadOnlyList<Tensor>> myClip)
    {
        ArgumentNullException.ThrowIfNull(myClip);
        using var scope = NewDisposeScope();
        var generator = new Generator(11);
        var cases = new[] { (Scale: 3.0, MaxNorm: 1.0), (Scale: 0.05, MaxNorm: 1.0) };
        return Exercise.CheckCode("Exercise 1", () => cases.Select(c =>
        {
            var grads = new[] { 1L * 5 * 4, 4 * 4, 4, 5 * 4, 5 }   // the shapes of W_xh, W_hh, b_h, W_hy, b_y for V = 5, H = 4
                .Select((n, i) => randn(n, dtype: ScalarType.Float64, generator: generator) * c.Scale * (i + 1)).ToArray();
            var copies = grads.Select(g => g.clone()).ToArray();
            var got = myClip(grads, c.MaxNorm);
            return (Given: grads, Copies: copies, Got: got, Expected: LibraryClip(copies, c.MaxNorm), c.MaxNorm);
        }).ToList(), results =>
        {
            foreach (var r in results)
            {
                if (r.Given.Zip(r.Copies).Any(p => !p.First.allclose(p.Second, 0, 0)))
                    return "your function changed the gradients it was given; return clipped copies (clip_grad_norm_ works in place).";
                if (r.Got is null || r.Got.Count != r.Expected.Length) return $"expected {r.Expected.Length} tensors back.";
                var diff = r.Got.Zip(r.Expected).Max(p => (p.First.reshape(-1) - p.Second).abs().max().item<double>());
                if (diff > 1e-9)
                    return $"with θ = {r.MaxNorm} and a global norm of {GlobalNorm(r.Copies):G3}, your gradients differ from the library's by up to {diff:G3}.";
            }
            return null;
        }, "compute one norm over all five tensors together, sqrt(Σ‖g_i‖²); if it exceeds θ multiply every g_i by θ/norm, otherwise leave them as they are.");
    }

    /// <summary>
    /// Exercise 2: the probabilities of temperature and top-k sampling, <c>softmax(z/τ)</c> kept on the k largest
    /// scores and renormalised. Judged against <see cref="Sampling.Probabilities"/>, and on two scores that differ
    /// by less than float32 can tell apart, where the library (which reads float32 scores) cannot be the answer.
    /// </summary>
    /// <param name="mySample">(logits [V] float64, τ, k) → probabilities [V].</param>
    public static ExerciseResult CheckSample(Func<Tensor, double, int, Tensor> mySample)
    {
        ArgumentNullException.ThrowIfNull(mySample);
        using var scope = NewDisposeScope();
        // Scores exactly representable in float32, so the library's float32 reading changes nothing.
        double[] logits = [2.0, 1.0, 0.5, -1.0, 0.25, -0.5];
        var cases = new[] { (Tau: 1.0, K: 6), (Tau: 0.5, K: 2), (Tau: 2.0, K: 3) };
        return Exercise.CheckCode("Exercise 2", () =>
        {
            var got = cases.Select(c => mySample(tensor(logits, dtype: ScalarType.Float64), c.Tau, c.K)).ToList();
            var nearTie = mySample(tensor(new[] { 1.0, 1.0 + 1e-12, -2.0, 0.5 }, dtype: ScalarType.Float64), 1.0, 1);
            return (Got: got, NearTie: nearTie);
        }, answer =>
        {
            var floats = logits.Select(l => (float)l).ToArray();
            for (var i = 0; i < cases.Length; i++)
            {
                var expected = Sampling.Probabilities(floats, new SamplingOptions(cases[i].Tau, cases[i].K));
                var got = answer.Got[i]?.to_type(ScalarType.Float64).data<double>().ToArray();
                if (got is null || got.Length != expected.Length) return $"expected {expected.Length} probabilities for {expected.Length} scores.";
                var diff = got.Zip(expected).Max(p => Math.Abs(p.First - p.Second));
                if (diff > 1e-9)
                    return $"with τ = {cases[i].Tau} and k = {cases[i].K} you gave [{string.Join(", ", got.Select(p => p.ToString("F3")))}], " +
                        $"expected [{string.Join(", ", expected.Select(p => p.ToString("F3")))}].";
            }
            var tie = answer.NearTie?.to_type(ScalarType.Float64).data<double>().ToArray();
            return tie is { Length: 4 } && Math.Abs(tie[1] - 1) < 1e-9
                ? null
                : "with k = 1 all the probability belongs to the largest score, 1 + 1e-12 (the second). Work on the float64 logits you are given; " +
                  "Sampling.Probabilities reads float32 and cannot tell the two apart.";
        }, "divide the logits by τ, keep the k largest (torch.topk), softmax over those, and put zeros everywhere else.");
    }

    static Tensor[] LibraryClip(Tensor[] grads, double maxNorm)
    {
        // ScratchRnn.Step with plain SGD at learning rate 1 from zero weights leaves −(clipped gradient) in the weights.
        using var rnn = new ScratchRnn(5, 4, new ScratchRnnOptions(ScalarType.Float64));
        var parameters = rnn.Parameters.Select(p => p.Value).ToArray();
        using (no_grad()) foreach (var p in parameters) p.zero_();
        var shaped = grads.Zip(parameters).Select(p => p.First.reshape(p.Second.shape)).ToArray();
        using var gradients = new ScratchRnnGradients(shaped[0], shaped[1], shaped[2], shaped[3], shaped[4], zeros(1), zeros(1));
        rnn.Step(gradients, new ScratchStepOptions(LearningRate: 1.0, ScratchOptimizer.Sgd, ClipNorm: maxNorm));
        return parameters.Select(p => p.neg().reshape(-1)).ToArray();
    }

    static double GlobalNorm(IEnumerable<Tensor> grads) => Math.Sqrt(grads.Sum(g => g.square().sum().item<double>()));
}
