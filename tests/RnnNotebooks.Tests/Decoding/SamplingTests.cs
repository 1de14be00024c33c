using RnnNotebooks.Decoding;
using RnnNotebooks.Models;
using RnnNotebooks.Tests.Models;
using static TorchSharp.torch;

namespace RnnNotebooks.Tests.Decoding;

public class SamplingTests
{
    public SamplingTests() => SingleThreadedTorch.Ensure();

    static float[] RandomLogits(Random random, int n) =>
        Enumerable.Range(0, n).Select(_ => (float)(random.NextDouble() * 6 - 3)).ToArray();

    [Fact]
    public void Sampling_WithTemperatureNearZero_EqualsGreedy()
    {
        var random = new Random(1);
        for (var i = 0; i < 200; i++)
        {
            var logits = RandomLogits(random, 20);
            Assert.Equal(Sampling.Greedy(logits), Sampling.Choose(logits, new SamplingOptions(1e-4), random));
        }
    }

    [Fact]
    public void TopK_NeverEmitsATokenOutsideTheTopK()
    {
        var random = new Random(2);
        var logits = RandomLogits(random, 30);
        var top = logits.Select((l, i) => (l, i)).OrderByDescending(p => p.l).Take(3).Select(p => p.i).ToHashSet();

        var drawn = Enumerable.Range(0, 2000).Select(_ => Sampling.Choose(logits, new SamplingOptions(2.0, TopK: 3), random)).ToHashSet();

        Assert.Subset(top, drawn);
        Assert.Equal(3, drawn.Count);
    }

    [Fact]
    public void Probabilities_SumToOne_AndFlattenWithTemperature()
    {
        float[] logits = [2, 1, 0];

        var cold = Sampling.Probabilities(logits, new SamplingOptions(0.5));
        var hot = Sampling.Probabilities(logits, new SamplingOptions(2.0));

        Assert.Equal(1.0, cold.Sum(), 12);
        Assert.Equal(1.0, hot.Sum(), 12);
        Assert.True(cold[0] > hot[0]);
        Assert.Equal(Math.Exp(2) / (Math.Exp(2) + Math.Exp(1) + 1), Sampling.Probabilities(logits, new SamplingOptions(1.0))[0], 12);
    }

    [Fact]
    public void TopK_WithTies_KeepsExactlyK()
    {
        float[] logits = [1, 1, 1, 1, 5];

        var p = Sampling.Probabilities(logits, new SamplingOptions(1.0, TopK: 2));

        Assert.Equal(2, p.Count(x => x > 0));
        Assert.True(p[4] > 0);
    }

    [Fact]
    public void Generate_WithTemperatureNearZero_EqualsGreedyGeneration()
    {
        manual_seed(3);
        using var model = new LanguageModel(new LanguageModelOptions(12, 16, 2));

        var greedy = TextGeneration.Generate(model, [1, 2, 3], 40, SamplingOptions.Greedy, new Random(0));
        var cold = TextGeneration.Generate(model, [1, 2, 3], 40, new SamplingOptions(1e-5), new Random(7));

        Assert.Equal(greedy, cold);
        Assert.True(model.training);
    }

    [Fact]
    public void Generate_WithTheSameSeed_Repeats()
    {
        manual_seed(4);
        using var model = new LanguageModel(new LanguageModelOptions(12, 16, 1, RecurrentCell.Gru));

        var a = TextGeneration.Generate(model, [5], 30, new SamplingOptions(1.0, TopK: 5), new Random(9));
        var b = TextGeneration.Generate(model, [5], 30, new SamplingOptions(1.0, TopK: 5), new Random(9));

        Assert.Equal(a, b);
        Assert.All(a, id => Assert.InRange(id, 0, 11));
    }
}
