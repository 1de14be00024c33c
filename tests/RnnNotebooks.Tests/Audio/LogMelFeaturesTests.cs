using RnnNotebooks.Audio;
using RnnNotebooks.Tests.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace RnnNotebooks.Tests.Audio;

public class LogMelFeaturesTests
{
    public LogMelFeaturesTests() => SingleThreadedTorch.Ensure();

    [Theory]
    [InlineData(8000, 80, 40, 0, 101)]
    [InlineData(8001, 80, 40, 0, 101)]
    [InlineData(4000, 160, 64, 13, 26)]
    [InlineData(50, 80, 40, 0, 2)]          // shorter than half a window: zero-padded to 129 samples
    public void Shape_IsFramesByDimension(int samples, int hop, int nMels, int mfcc, int frames)
    {
        var options = new FeatureOptions(HopLength: hop, NMels: nMels, Mfcc: mfcc);
        using var features = new LogMelFeatures(options);
        using var x = features.Compute(ResamplerTests.Tone(300, 8000, samples / 8000.0));

        Assert.Equal(frames, options.FrameCount(samples));
        Assert.Equal(new long[] { frames, mfcc > 0 ? mfcc : nMels }, x.shape);
    }

    [Theory]
    [InlineData(250)]
    [InlineData(1000)]
    [InlineData(2500)]
    public void PureTone_PeaksAtTheMelBinWhoseCentreIsNearest(double hz)
    {
        var options = new FeatureOptions(Normalize: false);
        using var features = new LogMelFeatures(options);
        using var x = features.Compute(ResamplerTests.Tone(hz, 8000, 0.5));
        using var mean = x.mean([0]);
        var centres = MelFilterbank.EdgeFrequencies(options.NMels, options.FMin, 4000)[1..^1];
        var expected = Enumerable.Range(0, centres.Length).MinBy(m => Math.Abs(centres[m] - hz));

        Assert.Equal(expected, mean.argmax().ToInt32());
    }

    [Fact]
    public void Normalized_HasZeroMeanAndUnitVariancePerFeature()
    {
        using var features = new LogMelFeatures();
        var noise = new Random(1);
        var samples = ResamplerTests.Tone(700, 8000, 0.5).Select(v => v + (float)(0.01 * noise.NextDouble())).ToArray();
        using var x = features.Compute(samples);
        using var mean = x.mean([0]);
        using var std = x.std(0, unbiased: false);

        Assert.True(mean.abs().max().ToSingle() < 1e-4);
        Assert.True((std - 1).abs().max().ToSingle() < 1e-3);
    }

    [Fact]
    public void Clip16kHz_IsResampledFirst()
    {
        using var features = new LogMelFeatures();
        using var at8 = features.Compute(new AudioClip(ResamplerTests.Tone(440, 8000, 0.5), 8000));
        using var at16 = features.Compute(new AudioClip(ResamplerTests.Tone(440, 16000, 0.5), 16000));
        Assert.Equal(at8.shape, at16.shape);
        Assert.Equal(at8.mean([0]).argmax().ToInt32(), at16.mean([0]).argmax().ToInt32());
    }

    [Fact]
    public void Compute_LeavesNoTensorsBehind()
    {
        using var features = new LogMelFeatures(new FeatureOptions(Mfcc: 13));
        var tone = ResamplerTests.Tone(440, 8000, 0.3);
        features.Compute(tone).Dispose();
        var before = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        for (var i = 0; i < 5; i++) features.Compute(tone).Dispose();
        Assert.Equal(before, DisposeScopeManager.Statistics.ThreadTotalLiveCount);
    }
}
