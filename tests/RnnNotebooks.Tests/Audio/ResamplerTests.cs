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
}
