using RnnNotebooks.Decoding;
using static TorchSharp.torch;

namespace RnnNotebooks.Notebook.Exercises;

/// <summary>The checks of lesson 03's exercises: each runs the learner's function and compares it with the library.</summary>
/// <remarks>Introduced in 03-language-modeling.</remarks>
public static class Lesson03
{
    /// <summary>
    /// Checks <c>MyPerplexity(nats)</c> on the trained model's loss and on other losses, so an answer that returns
    /// the model's own perplexity (the forbidden shortcut) fails.
    /// </summary>
    public static ExerciseResult CheckPerplexity(Func<double, double> myPerplexity, double trainedNats)
    {
        ArgumentNullException.ThrowIfNull(myPerplexity);
        double[] losses = [trainedNats, 0.0, 1.0, Math.Log(65), 2.5];
        return Exercise.CheckCode("Exercise 1", () => losses.Select(myPerplexity).ToArray(), got =>
        {
            for (var i = 0; i < losses.Length; i++)
            {
                var want = Math.Exp(losses[i]);
                if (!(Math.Abs(got[i] - want) <= 1e-6 * Math.Max(1, want)))
                    return $"for a loss of {losses[i]:F3} nats/token you return {got[i]:G6}, expected {want:G6}.";
            }
            return null;
        }, "perplexity is the number of equally likely choices with the same loss: nats are natural logs.");
    }

    /// <summary>
    /// Checks <c>MyProbabilities(logits [B, V], τ, k)</c> against <see cref="Sampling.Probabilities"/> row by row,
    /// and that the result is still on the logits' autograd graph, which a copy through
    /// <see cref="Sampling.Probabilities"/> (the forbidden shortcut) is not.
    /// </summary>
    public static ExerciseResult CheckProbabilities(Func<Tensor, double, int, Tensor> myProbabilities)
    {
        ArgumentNullException.ThrowIfNull(myProbabilities);
        (double Tau, int K)[] settings = [(1.0, 12), (0.5, 3), (2.0, 5), (0.8, 1)];
        return Exercise.CheckCode("Exercise 2", () =>
        {
            var generator = new Generator(3);
            var logits = (randn(4, 12, generator: generator) * 2).requires_grad_();
            return settings.Select(s => (s, logits, got: myProbabilities(logits, s.Tau, s.K))).ToArray();
        }, results =>
        {
            foreach (var (s, logits, got) in results)
            {
                if (got is null) return "your function returned null.";
                if (!got.shape.SequenceEqual(logits.shape))
                    return $"with τ = {s.Tau}, k = {s.K} the shape is [{string.Join(", ", got.shape)}], expected [{string.Join(", ", logits.shape)}].";
                for (var row = 0; row < logits.shape[0]; row++)
                {
                    var want = Sampling.Probabilities(logits[row].detach().data<float>().ToArray(), new SamplingOptions(s.Tau, s.K));
                    var have = got[row].detach().to_type(ScalarType.Float64).data<double>().ToArray();
                    var diff = want.Zip(have, (a, b) => Math.Abs(a - b)).Max();
                    if (diff > 1e-5)
                        return $"with τ = {s.Tau}, k = {s.K}, row {row} differs from Sampling.Probabilities by up to {diff:G3}.";
                }
                if (!got.requires_grad)
                    return "the values are right but the result is cut from the logits' graph: write it with tensor operations " +
                           "(division, topk, masked_fill, softmax) instead of copying through Sampling.Probabilities.";
            }
            return null;
        }, "divide by τ, keep the k largest scores of each row (set the others to −∞), then softmax along the last dimension.");
    }
}
