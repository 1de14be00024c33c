using RnnNotebooks.Audio;

namespace RnnNotebooks.Tests.Audio;

public class MelFilterbankTests
{
    [Fact]
    public void HtkFormula_MatchesItsDefinition()
    {
        Assert.Equal(2595 * Math.Log10(2), MelFilterbank.HzToMel(700), 9);
        Assert.Equal(0, MelFilterbank.HzToMel(0), 12);
        foreach (var hz in new[] { 20.0, 440, 1000, 3999 })
        {
            Assert.Equal(2595 * Math.Log10(1 + hz / 700), MelFilterbank.HzToMel(hz), 9);
            Assert.Equal(hz, MelFilterbank.MelToHz(MelFilterbank.HzToMel(hz)), 6);
            Assert.Equal(hz, MelFilterbank.MelToHz(MelFilterbank.HzToMel(hz, MelScale.Slaney), MelScale.Slaney), 6);
        }
        Assert.Equal(15, MelFilterbank.HzToMel(1000, MelScale.Slaney), 9);          // Slaney: linear to 1 kHz
        Assert.Equal(7.5, MelFilterbank.HzToMel(500, MelScale.Slaney), 9);
    }

    [Fact]
    public void Centres_AreEquallySpacedInMel()
    {
        var edges = MelFilterbank.EdgeFrequencies(10, 20, 4000);
        var mels = edges.Select(f => MelFilterbank.HzToMel(f)).ToArray();
        Assert.Equal(12, edges.Length);
        Assert.Equal(20, edges[0], 9);
        Assert.Equal(4000, edges[^1], 9);
        var step = mels[1] - mels[0];
        for (var i = 1; i < mels.Length; i++) Assert.Equal(step, mels[i] - mels[i - 1], 9);
    }

    [Fact]
    public void PeakNorm_TrianglesPeakNearOneAtTheirCentres()
    {
        const int nFft = 8192, rate = 8000, nMels = 40;                             // ~1 Hz bins: a bin lies near every centre
        var w = MelFilterbank.Weights(nFft, rate, nMels, 20, 4000);
        var centres = MelFilterbank.EdgeFrequencies(nMels, 20, 4000)[1..^1];
        for (var m = 0; m < nMels; m++)
        {
            var peakBin = Enumerable.Range(0, nFft / 2 + 1).MaxBy(k => w[k, m]);
            Assert.Equal(Math.Round(centres[m] * nFft / rate), peakBin);
            Assert.InRange(w[peakBin, m], 0.95, 1.0);
        }
    }

    [Fact]
    public void PeakNorm_FiltersSumToOneBetweenFirstAndLastCentre()
    {
        const int nFft = 256, rate = 8000, nMels = 40;
        var w = MelFilterbank.Weights(nFft, rate, nMels, 20, 4000);
        var centres = MelFilterbank.EdgeFrequencies(nMels, 20, 4000)[1..^1];
        Assert.Equal(nFft / 2 + 1, w.GetLength(0));
        Assert.Equal(nMels, w.GetLength(1));
        for (var k = 0; k <= nFft / 2; k++)
        {
            var f = (double)k * rate / nFft;
            var sum = Enumerable.Range(0, nMels).Sum(m => w[k, m]);
            if (f >= centres[0] && f <= centres[^1]) Assert.Equal(1.0, sum, 9);
            else Assert.InRange(sum, 0.0, 1.0 + 1e-12);
        }
    }

    [Fact]
    public void AreaNorm_EveryFilterHasUnitAreaInHertz()
    {
        const int nFft = 8192, rate = 8000, nMels = 20;
        var w = MelFilterbank.Weights(nFft, rate, nMels, 20, 4000, MelScale.Slaney, MelNorm.Area);
        for (var m = 0; m < nMels; m++)
        {
            var area = Enumerable.Range(0, nFft / 2 + 1).Sum(k => w[k, m]) * rate / nFft;
            Assert.Equal(1.0, area, 2);
        }
    }
}
