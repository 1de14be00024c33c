using RnnNotebooks.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace RnnNotebooks.Tests.Training;

public sealed class CheckpointAverageTests
{
    static float[] Values(nn.Module module) =>
        [.. module.parameters().SelectMany(p => { using var c = p.detach().contiguous(); return c.data<float>().ToArray(); })];

    [Fact]
    public void Into_WritesTheElementwiseMean_EvenIntoOneOfTheSources_AndLeavesNoTensorsBehind()
    {
        torch.manual_seed(7);   // the same weights whatever ran before
        using var a = nn.Linear(3, 2);
        using var b = nn.Linear(3, 2);
        using var c = nn.Linear(3, 2);
        var (va, vb, vc) = (Values(a), Values(b), Values(c));
        var expected = va.Select((x, i) => (x + vb[i] + vc[i]) / 3).ToArray();
        Assert.NotEqual(va, vb);   // the sources differ, so a wrong mean shows

        var live = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        CheckpointAverage.Into(a, [a, b, c]);   // a is both a source and the target
        Assert.Equal(live, DisposeScopeManager.Statistics.ThreadTotalLiveCount);

        var got = Values(a);
        // Within float32 rounding: comparing numbers rounded to 6 places fails whenever the two straddle a rounding edge.
        for (var i = 0; i < expected.Length; i++) Assert.Equal(expected[i], got[i], 1e-6);
        Assert.Equal(vb, Values(b));   // the other sources are untouched

        using var single = nn.Linear(3, 2);
        CheckpointAverage.Into(single, [b]);   // the mean of one is itself
        Assert.Equal(vb, Values(single));
    }

    [Fact]
    public void Into_RefusesWeightsOfAnotherShape_NamingTheSourceAndTheEntry()
    {
        using var target = nn.Linear(3, 2);
        using var same = nn.Linear(3, 2);
        using var wider = nn.Linear(4, 2);
        var e = Assert.Throws<ArgumentException>(() => CheckpointAverage.Into(target, [same, wider], ["runs/a", "runs/b"]));
        Assert.Contains("runs/b", e.Message);
        Assert.Contains("'weight'", e.Message);
        Assert.Contains("[2, 4]", e.Message);

        using var other = nn.Sequential(("first", nn.Linear(3, 2)));
        e = Assert.Throws<ArgumentException>(() => CheckpointAverage.Into(target, [other]));
        Assert.Contains("source 1", e.Message);
        Assert.Throws<ArgumentException>(() => CheckpointAverage.Into(target, []));
    }
}
