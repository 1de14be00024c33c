using RnnNotebooks.Decoding;
using RnnNotebooks.Notebook.Exercises;
using static TorchSharp.torch;

namespace RnnNotebooks.Tests.Notebook.Exercises;

public sealed class Lesson01ExerciseTests
{
    // The solution cells of tools/notebook-sources/01-vanilla-rnn.txt, which the instructor edition runs.
    static IReadOnlyList<Tensor> MyClip(IReadOnlyList<Tensor> grads, double maxNorm)
    {
        var norm = Math.Sqrt(grads.Sum(g => g.square().sum().item<double>()));
        var scale = norm > maxNorm ? maxNorm / norm : 1.0;
        return grads.Select(g => g * scale).ToList();
    }

    static Tensor MySample(Tensor logits, double tau, int k)
    {
        var (top, index) = (logits / tau).topk(k);
        return zeros_like(logits).index_put_(top.softmax(0), index);
    }

    [Fact]
    public void CheckClip_Solution_IsRight() => Assert.True(Lesson01.CheckClip(MyClip).Correct);

    [Fact]
    public void CheckClip_EachTensorOnItsOwn_IsWrong()
    {
        var r = Lesson01.CheckClip((grads, maxNorm) => grads.Select(g => g * Math.Min(1.0, maxNorm / g.norm().item<double>())).ToList());
        Assert.False(r.Correct);
        Assert.Contains("differ from the library", r.Message);
    }

    [Fact]
    public void CheckClip_InPlace_IsWrong()
    {
        var r = Lesson01.CheckClip((grads, maxNorm) =>
        {
            var clipped = MyClip(grads, maxNorm);
            foreach (var (g, c) in grads.Zip(clipped)) g.copy_(c);
            return grads;
        });
        Assert.False(r.Correct);
        Assert.Contains("changed the gradients", r.Message);
    }

    [Fact]
    public void CheckSample_Solution_IsRight() => Assert.True(Lesson01.CheckSample(MySample).Correct);

    [Fact]
    public void CheckSample_NoRenormalisationAfterTopK_IsWrong() =>
        Assert.False(Lesson01.CheckSample((logits, tau, k) =>
        {
            var p = (logits / tau).softmax(0);
            var (_, index) = p.topk(k);
            return zeros_like(p).index_put_(p.index_select(0, index), index);
        }).Correct);

    [Fact]
    public void CheckSample_LibraryShortcut_IsWrong()
    {
        var r = Lesson01.CheckSample((logits, tau, k) =>
            tensor(Sampling.Probabilities(logits.to_type(ScalarType.Float32).data<float>().ToArray(), new SamplingOptions(tau, k))));
        Assert.False(r.Correct);
        Assert.Contains("float64", r.Message);
    }

    [Fact]
    public void CheckSample_Stub_IsNotAnsweredYet() =>
        Assert.Null(Lesson01.CheckSample((_, _, _) => throw new NotImplementedException()).Correct);
}
