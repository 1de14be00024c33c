using RnnNotebooks.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace RnnNotebooks.Tests.Training;

public sealed class BestWeightsTests
{
    static float Weight(nn.Module<Tensor, Tensor> layer) => layer.parameters().First()[0, 0].item<float>();

    static void SetWeight(nn.Module<Tensor, Tensor> layer, float value)
    {
        using var noGrad = no_grad();
        layer.parameters().First()[0, 0] = value;
    }

    [Fact]
    public void Restore_BringsBackTheWeightsOfTheLowestScore_NotTheLast()
    {
        using var layer = nn.Linear(2, 1);
        using var best = new BestWeights(layer);
        SetWeight(layer, 1f);
        Assert.True(best.Offer(0.5));
        SetWeight(layer, 2f);
        Assert.True(best.Offer(0.3));
        SetWeight(layer, 3f);
        Assert.False(best.Offer(0.4));
        Assert.False(best.Offer(double.NaN));

        best.Restore();

        Assert.Equal(2f, Weight(layer));
        Assert.Equal(0.3, best.BestScore);
        Assert.Equal(2, best.BestOffer);
        Assert.Equal(4, best.Offers);
    }

    [Fact]
    public void Restore_BeforeAnyOffer_Throws_AndCopiesDoNotGrowTheLiveTensorCount()
    {
        using var layer = nn.Linear(4, 3);
        using var best = new BestWeights(layer);
        Assert.Throws<InvalidOperationException>(best.Restore);

        best.Offer(1.0);
        var live = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        for (var i = 0; i < 20; i++) best.Offer(1.0 / (i + 2));
        Assert.Equal(live, DisposeScopeManager.Statistics.ThreadTotalLiveCount);
    }

    [Fact]
    public void KeepingThree_KeepsTheLowestScores_RestoreStillTheBest()
    {
        using var layer = nn.Linear(2, 1);
        using var best = new BestWeights(layer, keep: 3);
        // weights 1..6 offered with these scores; the three lowest are 0.2 (w 2), 0.1 (w 4) and 0.3 (w 6).
        var scores = new[] { 0.5, 0.2, 0.4, 0.1, double.NaN, 0.3 };
        var newBest = new List<bool>();
        for (var i = 0; i < scores.Length; i++)
        {
            SetWeight(layer, i + 1);
            newBest.Add(best.Offer(scores[i]));
        }
        Assert.Equal([true, true, false, true, false, false], newBest);
        Assert.Equal([(2, 0.2), (4, 0.1), (6, 0.3)], best.Kept);
        Assert.False(best.Offer(0.3));           // a tie with the worst kept: the earlier one stays
        Assert.Equal([(2, 0.2), (4, 0.1), (6, 0.3)], best.Kept);

        SetWeight(layer, 100);
        best.Restore();
        Assert.Equal(4f, Weight(layer));         // the best alone: score 0.1
        Assert.Equal(4, best.BestOffer);

        var live = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        for (var i = 0; i < 20; i++) best.Offer(0.01 / (i + 1));
        Assert.Equal(live, DisposeScopeManager.Statistics.ThreadTotalLiveCount);
        Assert.Throws<ArgumentOutOfRangeException>(() => new BestWeights(layer, keep: 0));
    }
}
