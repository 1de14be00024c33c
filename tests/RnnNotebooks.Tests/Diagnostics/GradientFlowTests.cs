using RnnNotebooks.Diagnostics;
using RnnNotebooks.Models;
using RnnNotebooks.Tests.Models;
using static TorchSharp.torch;

namespace RnnNotebooks.Tests.Diagnostics;

public class GradientFlowTests
{
    public GradientFlowTests() => SingleThreadedTorch.Ensure();

    static int[] RandomIds(Random random, int count, int vocab) =>
        Enumerable.Range(0, count).Select(_ => random.Next(vocab)).ToArray();

    [Fact]
    public void HiddenNormsByDistance_OfOneSequence_AreTheHiddenGradientNormsReversed()
    {
        manual_seed(4);
        using var rnn = new ScratchRnn(6, 5, new ScratchRnnOptions(InitScale: 0.5));
        var sequence = RandomIds(new Random(4), 9, 6);
        int[] targets = [.. Enumerable.Repeat(ScratchRnn.IgnoreTarget, 7), sequence[^1]];

        using var forward = rnn.Forward(sequence[..^1]);
        using var gradients = rnn.Backward(forward, targets);
        using var normTensor = gradients.Hidden.norm(1);                                     // [8]
        var expected = normTensor.data<double>().Reverse().ToArray();

        var byDistance = GradientFlow.HiddenNormsByDistance(rnn, [sequence]);

        Assert.Equal(8, byDistance.Length);
        for (var d = 0; d < 8; d++) Assert.Equal(expected[d], byDistance[d], 1e-12);
    }

    [Fact]
    public void HiddenNormsByDistance_AtSpectralRadiusHalf_FallsByOrdersOfMagnitude()
    {
        manual_seed(5);
        var random = new Random(5);
        using var rnn = new ScratchRnn(8, 16, new ScratchRnnOptions(InitScale: 0.5));
        rnn.ScaleSpectralRadius(0.5);
        var sequences = Enumerable.Range(0, 4).Select(_ => RandomIds(random, 31, 8)).ToList();

        var byDistance = GradientFlow.HiddenNormsByDistance(rnn, sequences);

        Assert.True(byDistance[29] < 1e-4 * byDistance[0], $"d=0: {byDistance[0]:g3}, d=29: {byDistance[29]:g3}");
    }

    [Fact]
    public void HiddenNormsByDistance_SequencesOfDifferentLengths_Throws()
    {
        using var rnn = new ScratchRnn(4, 3);

        Assert.Throws<ArgumentException>(() => GradientFlow.HiddenNormsByDistance(rnn, [[0, 1, 2], [0, 1]]));
    }
}
