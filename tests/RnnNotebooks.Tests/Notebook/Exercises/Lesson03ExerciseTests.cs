using RnnNotebooks.Decoding;
using RnnNotebooks.Notebook.Exercises;
using static TorchSharp.torch;

namespace RnnNotebooks.Tests.Notebook.Exercises;

// The answers here are the solution cells of tools/notebook-sources/03-language-modeling.txt, which the instructor edition runs.
public sealed class Lesson03ExerciseTests
{
    static Tensor Solution(Tensor logits, double tau, int k)
    {
        var z = logits / tau;
        var kth = z.topk(k, dim: -1).values[.., ^1..];                 // [B, 1]: the k-th largest score of each row
        return nn.functional.softmax(z.masked_fill(z < kth, double.NegativeInfinity), dim: -1);
    }

    [Fact]
    public void Perplexity_Right_Passes_Wrong_AndShortcut_Fail()
    {
        Assert.True(Lesson03.CheckPerplexity(Math.Exp, 1.5).Correct);
        Assert.False(Lesson03.CheckPerplexity(n => Math.Pow(2, n), 1.5).Correct);
        Assert.False(Lesson03.CheckPerplexity(_ => Math.Exp(1.5), 1.5).Correct);   // the trained model's perplexity for every loss
        Assert.Null(Lesson03.CheckPerplexity(_ => throw new NotImplementedException(), 1.5).Correct);
    }

    [Fact]
    public void Probabilities_Right_Passes()
    {
        var r = Lesson03.CheckProbabilities(Solution);
        Assert.True(r.Correct, r.Message);
    }

    [Fact]
    public void Probabilities_WithoutTemperature_OrWithoutTopK_Fail()
    {
        Assert.False(Lesson03.CheckProbabilities((l, tau, k) => Solution(l, 1.0, k)).Correct);
        Assert.False(Lesson03.CheckProbabilities((l, tau, k) => nn.functional.softmax(l / tau, dim: -1)).Correct);
    }

    [Fact]
    public void Probabilities_CopiedThroughTheLibrary_FailsAsTheShortcut()
    {
        Tensor Shortcut(Tensor logits, double tau, int k)
        {
            var rows = Enumerable.Range(0, (int)logits.shape[0])
                .Select(r => Sampling.Probabilities(logits[r].detach().data<float>().ToArray(), new SamplingOptions(tau, k)))
                .SelectMany(p => p).ToArray();
            return tensor(rows).reshape(logits.shape);
        }
        var r = Lesson03.CheckProbabilities(Shortcut);
        Assert.False(r.Correct);
        Assert.Contains("graph", r.Message);
    }
}
