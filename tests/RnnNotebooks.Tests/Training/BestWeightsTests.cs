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
}
