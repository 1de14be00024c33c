using RnnNotebooks.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace RnnNotebooks.Tests.Training;

public sealed class BestWeightsAverageTests
{
    static float Weight(nn.Module<Tensor, Tensor> layer)
    {
        using var scope = NewDisposeScope();
        return layer.parameters().First()[0, 0].item<float>();
    }

    static void SetWeight(nn.Module<Tensor, Tensor> layer, float value)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        layer.parameters().First()[0, 0] = value;
    }

    [Fact]
    public void RestoreAverage_IsTheMeanOfTheWeightsAtTheLowestScores()
    {
        using var layer = nn.Linear(2, 1);
        using var top = new BestWeightsAverage(layer, 3);
        // weight 1..6 offered with these scores; the three lowest are 0.2 (w 2), 0.1 (w 4) and 0.3 (w 6).
        var scores = new[] { 0.5, 0.2, 0.4, 0.1, double.NaN, 0.3 };
        var keptAnswers = new List<bool>();
        for (var i = 0; i < scores.Length; i++)
        {
            SetWeight(layer, i + 1);
            keptAnswers.Add(top.Offer(scores[i]));
        }
        Assert.Equal([true, true, true, true, false, true], keptAnswers);
        Assert.Equal([(2, 0.2), (4, 0.1), (6, 0.3)], top.Kept);
        SetWeight(layer, 100);

        top.RestoreAverage();

        Assert.Equal(4f, Weight(layer), 5);   // (2 + 4 + 6) / 3
        Assert.False(top.Offer(0.3));          // a tie with the worst kept: the earlier one stays
    }

    [Fact]
    public void OfOne_IsTheBestWeights_AndCopiesDoNotGrowTheLiveTensorCount()
    {
        using var layer = nn.Linear(4, 3);
        using var top = new BestWeightsAverage(layer, 1);
        using var best = new BestWeights(layer);
        Assert.Throws<InvalidOperationException>(top.RestoreAverage);
        Assert.Throws<ArgumentOutOfRangeException>(() => new BestWeightsAverage(layer, 0));

        var random = new Random(5);
        top.Offer(1.0);
        var live = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        for (var i = 0; i < 20; i++)
        {
            SetWeight(layer, i);
            var score = random.NextDouble();
            top.Offer(score);
            best.Offer(score);
        }
        best.Restore();
        var expected = Weight(layer);
        SetWeight(layer, -1);
        top.RestoreAverage();
        Assert.Equal(expected, Weight(layer));
        best.Dispose();
        Assert.Equal(live, DisposeScopeManager.Statistics.ThreadTotalLiveCount);
    }
}
