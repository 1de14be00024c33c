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

    [Fact]
    public void MaskFrequencies_WithMean_FlattensEachMaskedBandToItsOwnMean()
    {
        // Every column different and changing over time, so a flattened column is recognisable.
        using var x = arange(0, 50 * 10, ScalarType.Float32).reshape(50, 10).sin().add(arange(0, 10, ScalarType.Float32), RnnNotebooks.Platform.Scalars.One);
        var options = new SpecAugmentOptions(FrequencyMasks: 2, MaxFrequencyWidth: 4, TimeMasks: 0);
        var masked = 0;
        for (var seed = 0; seed < 20; seed++)
        {
            using var y = SpecAugment.MaskFrequencies(x, new Random(seed), options, fillWithMean: true);
            for (var column = 0; column < 10; column++)
            {
                using var before = x[TensorIndex.Colon, column];
                using var after = y[TensorIndex.Colon, column];
                if (after.equal(before).all().item<bool>()) continue;
                // A masked column holds the column's mean in every frame, not zero, not another column's mean.
                masked++;
                using var mean = before.mean();
                using var expected = mean.expand_as(before);
                Assert.True(after.allclose(expected, rtol: 0, atol: 1e-6), $"seed {seed}, column {column}");
            }
        }
        Assert.InRange(masked, 20, 20 * 8);   // masks were drawn (widths 0-4, two a time)
        Assert.Equal(0.0, x.isnan().sum().ToDouble());
    }
}
