using RnnNotebooks.Audio;

namespace RnnNotebooks.Tests.Audio;

public class ResamplerTests
{
    internal static float[] Tone(double hz, int rate, double seconds, double amplitude = 0.5) =>
        [.. Enumerable.Range(0, (int)(rate * seconds)).Select(i => (float)(amplitude * Math.Sin(2 * Math.PI * hz * i / rate)))];

    static double MaxError(float[] a, float[] b, int margin) =>
        Enumerable.Range(margin, Math.Min(a.Length, b.Length) - 2 * margin).Max(i => Math.Abs(a[i] - b[i]));

    [Theory]
    [InlineData(1000, 16000, 8000)]
    [InlineData(3000, 16000, 8000)]
    [InlineData(500, 8000, 16000)]
    [InlineData(440, 44100, 8000)]
    public void Tone_MatchesTheToneSampledAtTheNewRate(double hz, int from, int to)
    {
        var resampled = Resampler.Resample(Tone(hz, from, 0.5), from, to);
        var expected = Tone(hz, to, 0.5);

        Assert.InRange(resampled.Length, expected.Length - 1, expected.Length);
        Assert.True(MaxError(resampled, expected, margin: 64) < 0.01, $"max error {MaxError(resampled, expected, 64)}");
    }

    [Fact]
    public void Downsampling_RemovesWhatTheNewRateCannotHold()
    {
        var resampled = Resampler.Resample(Tone(6000, 16000, 0.5), 16000, 8000);    // above the new 4 kHz Nyquist
        var rms = Math.Sqrt(resampled.Skip(64).SkipLast(64).Average(v => (double)v * v));
        Assert.True(rms < 0.005, $"rms {rms}, the input tone had 0.35");
    }

    [Fact]
    public void SameRate_IsACopy()
    {
        var clip = new AudioClip([0.1f, 0.2f], 8000);
        var same = Resampler.Resample(clip, 8000);
        Assert.Equal(clip.Samples, same.Samples);
        Assert.NotSame(clip.Samples, same.Samples);
    }

    /// <summary>The interpolation formula of <see cref="Resampler"/>'s remarks, evaluated term by term with sin and cos.</summary>
    static float[] Direct(float[] x, double from, double to)
    {
        double step = from / to, c = Math.Min(1, to / from), half = Resampler.ZeroCrossings / c;
        var y = new float[(int)Math.Floor(x.Length / step)];
        for (var n = 0; n < y.Length; n++)
        {
            double t = n * step, sum = 0;
            for (var k = Math.Max(0, (int)Math.Ceiling(t - half)); k <= Math.Min(x.Length - 1, (int)Math.Floor(t + half)); k++)
            {
                var d = t - k;
                var sinc = Math.Abs(c * d) < 1e-12 ? 1 : Math.Sin(Math.PI * c * d) / (Math.PI * c * d);
                sum += x[k] * c * sinc * (0.5 + 0.5 * Math.Cos(Math.PI * d / half));
            }
            y[n] = (float)sum;
        }
        return y;
    }

    [Theory]
    [InlineData(8000, 8000 / 1.13)]      // speed perturbation: 13 % faster
    [InlineData(8000, 8000 / 0.9)]       // 10 % slower
    [InlineData(16000, 8000)]
    public void Resample_EqualsTheFormulaEvaluatedDirectly(double from, double to)
    {
        var random = new Random(3);
        var x = Enumerable.Range(0, 3000).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray();

        var fast = Resampler.Resample(x, from, to);
        var direct = Direct(x, from, to);

        Assert.Equal(direct.Length, fast.Length);
        Assert.True(MaxError(fast, direct, margin: 0) < 1e-5, $"max difference {MaxError(fast, direct, 0)}");
    }
}
