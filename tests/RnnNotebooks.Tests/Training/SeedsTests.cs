using RnnNotebooks.Training;
using TorchSharp;

namespace RnnNotebooks.Tests.Training;

[Collection(TorchGlobalState.Name)]
public class SeedsTests
{
    static (float[] Torch, int Random, int Derived) Draw()
    {
        using var t = torch.randn(5);
        return (t.data<float>().ToArray(), Seeds.Random.Next(), Seeds.CreateRandom(1).Next());
    }

    [Fact]
    public void Set_SameSeed_RepeatsTorchRandomAndDerivedStreams()
    {
        Seeds.Set(42);
        var first = Draw();
        Seeds.Set(42);
        var again = Draw();

        Assert.Equal(42, Seeds.Current);
        Assert.Equal(first.Torch, again.Torch);
        Assert.Equal((first.Random, first.Derived), (again.Random, again.Derived));
    }

    [Fact]
    public void Set_DifferentSeed_ChangesEveryStream()
    {
        Seeds.Set(1);
        var one = Draw();
        Seeds.Set(2);
        var two = Draw();

        Assert.NotEqual(one.Torch, two.Torch);
        Assert.NotEqual(one.Random, two.Random);
        Assert.NotEqual(one.Derived, two.Derived);
    }

    [Fact]
    public void CreateRandom_DependsOnSeedAndOffset_NotOnWhatWasDrawnBefore()
    {
        Seeds.Set(7);
        var fresh = Seeds.CreateRandom(3).Next();
        for (var i = 0; i < 10; i++) Seeds.Random.Next();
        using (torch.rand(100)) { }

        Assert.Equal(fresh, Seeds.CreateRandom(3).Next());
        Assert.NotEqual(fresh, Seeds.CreateRandom(4).Next());
    }
}
