using RnnNotebooks.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace RnnNotebooks.Tests.Training;

public sealed class WeightAverageTests
{
    static float[] Weights(nn.Module layer) => [.. layer.parameters().SelectMany(p => p.data<float>().ToArray())];

    static void Fill(nn.Module layer, float value)
    {
        using var noGrad = no_grad();
        foreach (var p in layer.parameters()) p.fill_(value);
    }

    [Fact]
    public void Update_FollowsTheWarmedUpDecay_WorkedByHand()
    {
        using var layer = nn.Linear(2, 1);
        Fill(layer, 0f);
        using var average = new WeightAverage(layer, decay: 0.5);
        // Update 1: decay min(0.5, 1/10) = 0.1 → 0.1·0 + 0.9·10 = 9.
        Fill(layer, 10f);
        Assert.Equal(0.1, average.CurrentDecay, 12);
        average.Update();
        // Update 2: decay min(0.5, 2/11) = 2/11 → (2/11)·9 + (9/11)·20 = 18/11 + 180/11 = 198/11 = 18.
        Fill(layer, 20f);
        average.Update();
        // Update n ≥ 9: (1 + n)/(10 + n) ≥ 0.5, so the decay is 0.5 from then on.
        Assert.Equal(2, average.Updates);

        using (average.Apply())
            Assert.All(Weights(layer), w => Assert.Equal(18f, w, 4));
        Assert.All(Weights(layer), w => Assert.Equal(20f, w));   // the trained weights are back

        for (var i = 0; i < 7; i++) average.Update();
        Assert.Equal(0.5, average.CurrentDecay);
    }

    [Fact]
    public void Apply_RestoresExactly_AndCopyToModuleKeepsTheAverage()
    {
        Seeds.Set(5);
        using var layer = nn.Linear(3, 2);
        using var average = new WeightAverage(layer, decay: 0.9);
        var before = Weights(layer);
        using (no_grad())
            foreach (var p in layer.parameters()) p.add_(1.0);
        average.Update();
        var trained = Weights(layer);
        var expected = before.Zip(trained, (b, t) => 0.1f * b + 0.9f * t).ToArray();

        var live = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        for (var i = 0; i < 10; i++)
        {
            using (average.Apply())
                Assert.Equal(expected, Weights(layer), (x, y) => Math.Abs(x - y) < 1e-5);
            Assert.Equal(trained, Weights(layer));
        }
        Assert.Equal(live, DisposeScopeManager.Statistics.ThreadTotalLiveCount);

        average.CopyToModule();
        Assert.Equal(expected, Weights(layer), (x, y) => Math.Abs(x - y) < 1e-5);
    }

    [Theory]
    [InlineData(-0.1)]
    [InlineData(1.0)]
    [InlineData(double.NaN)]
    public void Constructor_RejectsADecayOutside0To1(double decay)
    {
        using var layer = nn.Linear(2, 1);
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => new WeightAverage(layer, decay));
        Assert.Equal("decay", e.ParamName);
    }
}
