using RnnNotebooks.Audio;
using static TorchSharp.torch;

namespace RnnNotebooks.Tests.Audio;

public sealed class FeatureStatisticsTests
{
    [Fact]
    public void Of_PoolsTheFramesOfAllUtterances_WorkedByHand()
    {
        // Feature 0 takes 1, 3 (first utterance) and 5 (second): mean 3, variance (4 + 0 + 4)/3 = 8/3.
        // Feature 1 takes 2, 2, 2: mean 2, variance 0.
        using var a = tensor(new float[] { 1, 2, 3, 2 }, [2, 2]);
        using var b = tensor(new float[] { 5, 2 }, [1, 2]);
        using var stats = FeatureStatistics.Of([a, b]);

        Assert.Equal(3, stats.Frames);
        Assert.Equal(new[] { 3f, 2f }, stats.Mean.data<float>().ToArray());
        Assert.Equal(Math.Sqrt(8.0 / 3 + 1e-5), stats.Std[0, 0].item<float>(), 5);
        Assert.Equal(Math.Sqrt(1e-5), stats.Std[0, 1].item<float>(), 5);

        using var normalized = stats.Normalize(b);
        Assert.Equal(2 / Math.Sqrt(8.0 / 3 + 1e-5), normalized[0, 0].item<float>(), 4);
        Assert.Equal(0f, normalized[0, 1].item<float>());
    }

    [Fact]
    public void OneUtterance_GivesPerUtteranceNormalisation()
    {
        using var x = randn(50, 13).mul(3).add(7);
        using var stats = FeatureStatistics.Of([x]);
        using var bySpeaker = stats.Normalize(x);
        using var byUtterance = LogMelFeatures.NormalizeUtterance(x);
        Assert.True(bySpeaker.allclose(byUtterance, rtol: 1e-4, atol: 1e-4));
    }

    [Fact]
    public void BadInput_IsRefused_SayingWhatIsWrong()
    {
        Assert.Contains("No frames", Assert.Throws<ArgumentException>(() => FeatureStatistics.Of([])).Message);
        using var a = zeros(3, 13);
        using var b = zeros(3, 40);
        Assert.Contains("13 and 40", Assert.Throws<ArgumentException>(() => FeatureStatistics.Of([a, b])).Message);
        using var stats = FeatureStatistics.Of([a]);
        Assert.Contains("13 features", Assert.Throws<ArgumentException>(() => stats.Normalize(b)).Message);
    }
}
