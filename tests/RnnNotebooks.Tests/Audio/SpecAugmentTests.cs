using RnnNotebooks.Audio;
using TorchSharp;
using static TorchSharp.torch;

namespace RnnNotebooks.Tests.Audio;

public class SpecAugmentTests
{
    [Fact]
    public void SameSeed_SameMasks_InputUnchanged()
    {
        using var x = ones(100, 40);
        var options = new SpecAugmentOptions(FrequencyMasks: 2, MaxFrequencyWidth: 8, TimeMasks: 2, MaxTimeWidth: 10, MaxTimeFraction: 0.2);

        using var a = SpecAugment.Apply(x, new Random(3), options);
        using var b = SpecAugment.Apply(x, new Random(3), options);

        Assert.True(a.equal(b).all().item<bool>());
        Assert.Equal(100 * 40, x.sum().ToSingle());
        var zeros = (a == 0).sum().ToInt32();
        Assert.InRange(zeros, 1, 100 * 16 + 40 * 20);
        // A masked feature band is zero in every frame; a masked stretch, in every feature.
        using var zeroColumns = (a == 0).all(0);
        using var zeroRows = (a == 0).all(1);
        Assert.Equal(zeros, zeroColumns.sum().ToInt32() * 100 + zeroRows.sum().ToInt32() * 40 - zeroColumns.sum().ToInt32() * zeroRows.sum().ToInt32());
    }

    [Fact]
    public void Apply_IsFrequencyMasksThenTimeMasks_FromOneStream()
    {
        using var x = randn(60, 13);
        var options = new SpecAugmentOptions(MaxFrequencyWidth: 3, MaxTimeWidth: 8, MaxTimeFraction: 0.2);
        var random = new Random(11);
        using var bands = SpecAugment.MaskFrequencies(x, random, options);
        using var both = SpecAugment.MaskTimes(bands, random, options);
        using var applied = SpecAugment.Apply(x, new Random(11), options);
        Assert.True(applied.equal(both).all().item<bool>());
    }
}
