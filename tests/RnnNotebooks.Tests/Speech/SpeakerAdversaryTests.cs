using RnnNotebooks.Audio;
using RnnNotebooks.Speech;
using RnnNotebooks.Tests.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace RnnNotebooks.Tests.Speech;

public sealed class SpeakerAdversaryTests
{
    public SpeakerAdversaryTests() => SingleThreadedTorch.Ensure();

    [Theory]
    [InlineData(0.0)]
    [InlineData(0.3)]
    [InlineData(2.0)]
    public void ReverseGradient_IsTheIdentityForward_AndMinusLambdaTimesTheGradientBackward(double lambda)
    {
        using var scope = NewDisposeScope();
        manual_seed(3);
        var x = randn(4, 5, dtype: ScalarType.Float64).requires_grad_();
        var w = randn(4, 5, dtype: ScalarType.Float64);
        var y = SpeakerAdversary.ReverseGradient(x, lambda);
        Assert.True(y.allclose(x, rtol: 0, atol: 1e-12));
        y.mul(w).sin().sum().backward();
        var reversed = x.grad!.clone();

        var x2 = x.detach().clone().requires_grad_();
        x2.mul(w).sin().sum().backward();
        using Scalar minus = (-lambda).ToScalar();
        Assert.True(reversed.allclose(x2.grad!.mul(minus), rtol: 1e-12, atol: 1e-12));
        Assert.Throws<ArgumentOutOfRangeException>(() => SpeakerAdversary.ReverseGradient(x, -1));
    }

    [Fact]
    public void Ramp_RisesFromZeroToNearlyOne_AndIsClamped()
    {
        Assert.Equal(0, SpeakerAdversary.Ramp(0), 12);
        Assert.Equal(2 / (1 + Math.Exp(-5)) - 1, SpeakerAdversary.Ramp(0.5), 12);
        Assert.Equal(2 / (1 + Math.Exp(-10)) - 1, SpeakerAdversary.Ramp(1), 12);
        Assert.Equal(SpeakerAdversary.Ramp(1), SpeakerAdversary.Ramp(3));
        Assert.Equal(0, SpeakerAdversary.Ramp(-1), 12);
        for (var p = 0.0; p < 0.85; p += 0.1) Assert.True(SpeakerAdversary.Ramp(p + 0.1) > SpeakerAdversary.Ramp(p));
    }

    [Fact]
    public void Loss_IsTheCrossEntropyOfTheRealFramesOnly_WithTheGradientIntoThemReversed()
    {
        using var scope = NewDisposeScope();
        manual_seed(7);
        using var adversary = new SpeakerAdversary(inputSize: 6, speakers: 3, hiddenSize: 5);
        adversary.to(ScalarType.Float64);
        adversary.Scale = 0.5;
        var frames = randn(2, 4, 6, dtype: ScalarType.Float64).requires_grad_();
        var lengths = tensor(new long[] { 4, 2 });
        var speakers = tensor(new long[] { 2, 0 });
        var (loss, accuracy) = adversary.Loss(frames, lengths, speakers);

        // By hand: the six real frames (four of the first utterance, two of the second), each labelled with its speaker.
        var real = cat([frames.detach()[0], frames.detach()[1, ..2]], 0).requires_grad_();
        var labels = tensor(new long[] { 2, 2, 2, 2, 0, 0 });
        var logits = adversary.Logits(real);
        var expected = nn.functional.cross_entropy(logits, labels);
        Assert.Equal(expected.item<double>(), loss.item<double>(), 12);
        Assert.Equal(logits.argmax(1).eq(labels).to(ScalarType.Float64).mean().item<double>(), accuracy, 12);

        loss.backward();
        expected.backward();
        using Scalar minusHalf = (-0.5).ToScalar();
        Assert.True(frames.grad![0].allclose(real.grad![..4].mul(minusHalf), rtol: 1e-10, atol: 1e-12));
        Assert.True(frames.grad[1, ..2].allclose(real.grad[4..].mul(minusHalf), rtol: 1e-10, atol: 1e-12));
        Assert.Equal(0, frames.grad[1, 2..].abs().max().item<double>());   // padding: no gradient
        // The classifier itself learns the ordinary way (not reversed).
        foreach (var p in adversary.parameters()) Assert.True(p.grad is not null && p.grad.abs().sum().item<double>() > 0);
    }

    [Fact]
    public void Loss_RefusesMismatchedShapes_AndUnknownSpeakers_NamingThem()
    {
        using var scope = NewDisposeScope();
        using var adversary = new SpeakerAdversary(6, 3);
        var frames = randn(2, 4, 6);
        Assert.Contains("0…2", Assert.Throws<ArgumentException>(() => adversary.Loss(frames, tensor(new long[] { 4, 2 }), tensor(new long[] { 3, 0 }))).Message);
        Assert.Contains("[2, 4, 6]", Assert.Throws<ArgumentException>(() => adversary.Loss(frames, tensor(new long[] { 4 }), tensor(new long[] { 1, 0 }))).Message);
        Assert.Throws<ArgumentException>(() => new SpeakerAdversary(6, 1));
    }

    [Fact]
    public void BatchLoss_WithAnAdversary_IsTheCtcLossPlusTheSpeakerLoss()
    {
        using var scope = NewDisposeScope();
        manual_seed(11);
        var characters = CharacterSet.DigitWords;
        using var model = new AcousticModel(new AcousticModelOptions(InputSize: 13, ConvChannels: 8, HiddenSize: 6));
        model.eval();   // no dropout, so both passes compute the same
        using var adversary = new SpeakerAdversary(12, 2);
        var batch = SpeechBatch.Create([randn(30, 13), randn(22, 13)], ["one two", "six"], characters, [1, 0]);
        var (total, ctc, speaker, accuracy) = batch.Loss(model, adversary);
        Assert.Equal(batch.Loss(model).item<float>(), ctc.item<float>(), 5);
        Assert.Equal(ctc.item<float>() + speaker.item<float>(), total.item<float>(), 5);
        Assert.InRange(accuracy, 0, 1);
        Assert.Equal(5, batch.Tensors.Count());

        var unlabelled = SpeechBatch.Create([randn(30, 13)], ["one"], characters);
        Assert.Throws<InvalidOperationException>(() => unlabelled.Loss(model, adversary));
        Assert.Throws<ArgumentException>(() => SpeechBatch.Create([randn(30, 13)], ["one"], characters, [0, 1]));
    }
}
