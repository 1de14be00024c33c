using RnnNotebooks.Diagnostics;
using RnnNotebooks.Models;
using RnnNotebooks.Text;
using TorchSharp;
using static TorchSharp.torch;

namespace RnnNotebooks.Tests.Models;

public class ScratchRnnTests
{
    readonly ITestOutputHelper output;

    public ScratchRnnTests(ITestOutputHelper output)
    {
        this.output = output;
        SingleThreadedTorch.Ensure();
    }

    static readonly ScratchRnnOptions Float64Wide = new(ScalarType.Float64, InitScale: 0.5);

    static int[] RandomIds(Random random, int count, int vocab) =>
        Enumerable.Range(0, count).Select(_ => random.Next(vocab)).ToArray();

    static void AssertAllBelow(IReadOnlyList<GradientCheckResult> results, double tolerance) =>
        Assert.All(results, r => Assert.True(r.MaxRelativeError < tolerance, r.ToString()));

    [Theory]
    [InlineData(5, 3, 4, false)]
    [InlineData(11, 7, 9, false)]
    [InlineData(11, 7, 9, true)]
    [InlineData(4, 6, 1, true)]
    public void Backward_MatchesNumericAndAutogradGradients(int vocab, int hidden, int steps, bool carriedHidden)
    {
        manual_seed(vocab * 100 + hidden * 10 + steps);
        var random = new Random(steps);
        using var rnn = new ScratchRnn(vocab, hidden, Float64Wide);
        var inputs = RandomIds(random, steps, vocab);
        var targets = RandomIds(random, steps, vocab);
        // A carried hidden state is a truncated-BPTT window: h0 is a constant, gradients stop there.
        using var h0 = carriedHidden ? rand(hidden, dtype: ScalarType.Float64).mul_(2).sub_(1) : zeros(hidden, dtype: ScalarType.Float64);

        using var forward = rnn.Forward(inputs, h0);
        using var gradients = rnn.Backward(forward, targets);
        var numeric = GradientCheck.Run(rnn.Parameters, gradients.Parameters, () => rnn.Loss(inputs, targets, h0));
        var autogradTensors = GradientCheck.AutogradGradients(
            [.. rnn.Parameters.Select(p => p.Value), h0], p => ScratchRnn.LossOf([.. p.Take(5)], inputs, targets, p[5]));
        var autograd = GradientCheck.Compare([.. ScratchRnn.ParameterNames, "h0"], [.. gradients.Parameters, gradients.H0], autogradTensors);
        foreach (var t in autogradTensors) t.Dispose();

        foreach (var (n, a) in numeric.Zip(autograd))
            output.WriteLine($"{n.Name}: vs numeric {n.MaxRelativeError:e2}, vs autograd {a.MaxRelativeError:e2}");
        Assert.Equal(ScratchRnn.ParameterNames, numeric.Select(r => r.Name));
        AssertAllBelow(numeric, 1e-6);
        AssertAllBelow(autograd, 1e-10);
        Assert.Equal(new long[] { steps, hidden }, gradients.Hidden.shape);
    }

    [Fact]
    public void Backward_WithOnlyTheLastStepScored_MatchesAutograd()
    {
        manual_seed(7);
        using var rnn = new ScratchRnn(6, 5, Float64Wide);
        int[] inputs = [1, 4, 2, 0, 5, 3, 3, 1];
        int[] targets = [.. Enumerable.Repeat(ScratchRnn.IgnoreTarget, 7), 2];

        using var forward = rnn.Forward(inputs);
        using var gradients = rnn.Backward(forward, targets);
        var reference = GradientCheck.AutogradGradients([.. rnn.Parameters.Select(p => p.Value)], p => ScratchRnn.LossOf(p, inputs, targets));
        var results = GradientCheck.Compare(ScratchRnn.ParameterNames, gradients.Parameters, reference);
        foreach (var t in reference) t.Dispose();

        AssertAllBelow(results, 1e-10);
        using var logProbabilities = forward.Logits[7].log_softmax(0);
        Assert.Equal(-logProbabilities[2].item<double>(), rnn.Loss(forward, targets), 12);
    }

    [Fact]
    public void Backward_ChainedThroughTwoWindows_EqualsBackwardOverTheWholeSequence()
    {
        manual_seed(11);
        var random = new Random(11);
        using var rnn = new ScratchRnn(7, 4, Float64Wide);
        var inputs = RandomIds(random, 10, 7);
        var targets = RandomIds(random, 10, 7);

        using var whole = rnn.Forward(inputs);
        using var wholeGradients = rnn.Backward(whole, targets);

        // The two window losses are means over 6 and 4 steps; weight them back to a mean over 10.
        using var first = rnn.Forward(inputs[..6]);
        using var second = rnn.Forward(inputs[6..], first.FinalHidden);
        using var secondGradients = rnn.Backward(second, targets[6..]);
        using var carried = secondGradients.H0.mul(4.0 / 6.0);
        using var firstGradients = rnn.Backward(first, targets[..6], dFinalHidden: carried);

        for (var i = 0; i < 5; i++)
        {
            using var combined = firstGradients.Parameters[i].mul(0.6).add(secondGradients.Parameters[i].mul(0.4));
            Assert.True(combined.allclose(wholeGradients.Parameters[i], rtol: 1e-10, atol: 1e-12), ScratchRnn.ParameterNames[i]);
        }
        using var hidden = cat([firstGradients.Hidden.mul(0.6), secondGradients.Hidden.mul(0.4)]);
        Assert.True(hidden.allclose(wholeGradients.Hidden, rtol: 1e-10, atol: 1e-12));
    }

    [Fact]
    public void HiddenGradients_OfTheLastLoss_VanishWithDistance_WhenTheSpectralRadiusIsSmall()
    {
        manual_seed(6);
        var random = new Random(6);
        using var rnn = new ScratchRnn(8, 16, Float64Wide);
        rnn.ScaleSpectralRadius(0.5);
        var inputs = RandomIds(random, 30, 8);
        int[] targets = [.. Enumerable.Repeat(ScratchRnn.IgnoreTarget, 29), 3];

        using var forward = rnn.Forward(inputs);
        using var gradients = rnn.Backward(forward, targets);
        using var normTensor = gradients.Hidden.norm(1);                                 // [steps]
        var norms = normTensor.data<double>().ToArray();

        Assert.True(norms[0] < 1e-4 * norms[29], $"‖∂L/∂h_0‖ = {norms[0]:g3}, ‖∂L/∂h_29‖ = {norms[29]:g3}");
    }

    [Fact]
    public void Loss_OfAFreshSmallWeightModel_IsAboutLogVocabSize()
    {
        manual_seed(1);
        var vocabulary = Vocabulary.OfCharacters("the quick brown fox jumps over the lazy dog");
        var ids = vocabulary.Encode("the quick brown fox jumps over the lazy dog");
        using var rnn = new ScratchRnn(vocabulary.Size, 16);

        var loss = rnn.Loss(ids[..^1], ids[1..]);

        Assert.Equal(Math.Log(vocabulary.Size), loss, 0.01);
    }

    [Fact]
    public void TrainStep_OnARepeatedString_LearnsItAndKeepsTheLiveTensorCountFlat()
    {
        manual_seed(0);
        const string period = "hello world ";
        var vocabulary = Vocabulary.OfCharacters(period);
        var ids = vocabulary.Encode(string.Concat(Enumerable.Repeat(period, 10)));
        using var rnn = new ScratchRnn(vocabulary.Size, 24, new ScratchRnnOptions(InitScale: 0.1));
        var options = new ScratchStepOptions(LearningRate: 0.1, ScratchOptimizer.Adagrad, ClipNorm: 5.0);
        const int window = 16;

        var h = zeros(24, dtype: ScalarType.Float64);
        long liveAfter20 = 0;
        var position = 0;
        for (var step = 1; step <= 300; step++)
        {
            if (position + window + 1 > ids.Length)
            {
                position = 0;
                h.Dispose();
                h = zeros(24, dtype: ScalarType.Float64);
            }
            var result = rnn.TrainStep(ids[position..(position + window)], ids[(position + 1)..(position + window + 1)], h, options);
            h.Dispose();
            h = result.FinalHidden;
            position += window;
            if (step == 20) liveAfter20 = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        }
        var liveAfter300 = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        h.Dispose();

        var loss = rnn.Loss(ids[..^1], ids[1..]);
        output.WriteLine($"loss after 300 steps: {loss:g3}; live tensors after 20 and 300 steps: {liveAfter20}, {liveAfter300}");

        Assert.Equal(liveAfter20, liveAfter300);
        Assert.True(loss < 0.05, $"loss {loss}");
        var generated = vocabulary.Decode(rnn.Sample(vocabulary.Encode("h"), 2 * period.Length - 1, temperature: 0));
        Assert.Equal("ello world hello world ", generated);
    }

    [Fact]
    public void ModelState_SurvivesTheCallersDisposeScopes()
    {
        ScratchRnn rnn;
        using (NewDisposeScope()) rnn = new ScratchRnn(5, 4);
        using (rnn)
        {
            for (var step = 0; step < 2; step++)
            {
                using var batchScope = NewDisposeScope();
                var result = rnn.TrainStep([0, 1, 2], [1, 2, 3], null, new ScratchStepOptions());
                Assert.True(double.IsFinite(result.Loss));
            }

            Assert.All(rnn.Parameters, p => Assert.False(p.Value.IsInvalid));
        }
    }

    [Fact]
    public void TrainStep_InFloat32_ReportsTheLossAndGradientNorm()
    {
        manual_seed(3);
        using var rnn = new ScratchRnn(5, 4, new ScratchRnnOptions(ScalarType.Float32));

        var result = rnn.TrainStep([0, 1, 2], [1, 2, 3], null, new ScratchStepOptions());
        result.FinalHidden.Dispose();

        Assert.Equal(Math.Log(5), result.Loss, 0.01);
        Assert.True(result.GradientNorm > 0 && double.IsFinite(result.GradientNorm), $"norm {result.GradientNorm}");
    }

    [Fact]
    public void Sample_WithTheSameRandomSeed_IsRepeatable()
    {
        manual_seed(5);
        using var rnn = new ScratchRnn(9, 8, Float64Wide);

        var a = rnn.Sample([3, 1], 20, temperature: 1.0, new Random(42));
        var b = rnn.Sample([3, 1], 20, temperature: 1.0, new Random(42));

        Assert.Equal(a, b);
        Assert.Equal(20, a.Length);
        Assert.All(a, id => Assert.InRange(id, 0, 8));
    }

    [Theory]
    [InlineData(0.5)]
    [InlineData(1.0)]
    [InlineData(1.5)]
    public void ScaleSpectralRadius_GivesTheRequestedRadius(double radius)
    {
        manual_seed(2);
        using var rnn = new ScratchRnn(5, 12);

        rnn.ScaleSpectralRadius(radius);

        Assert.Equal(radius, rnn.SpectralRadius(), 1e-6);
    }

    [Fact]
    public void SpectralRadius_OfADiagonalMatrix_IsItsLargestAbsoluteEntry()
    {
        using var rnn = new ScratchRnn(3, 3);
        using (var diagonal = diag(tensor(new[] { 0.2, -0.9, 0.5 }))) rnn.Whh.copy_(diagonal);

        Assert.Equal(0.9, rnn.SpectralRadius(), 1e-12);
    }

    [Fact]
    public void Step_WithSgdAndNormClipping_MovesTheParametersByAtMostTheClipNorm()
    {
        manual_seed(4);
        using var rnn = new ScratchRnn(6, 5, Float64Wide);
        var before = rnn.Parameters.Select(p => p.Value.clone()).ToArray();
        using var forward = rnn.Forward([0, 1, 2, 3]);
        using var gradients = rnn.Backward(forward, [1, 2, 3, 4]);
        var clip = gradients.GlobalNorm() / 4;

        var norm = rnn.Step(gradients, new ScratchStepOptions(LearningRate: 1.0, ScratchOptimizer.Sgd, ClipNorm: clip));

        Assert.Equal(gradients.GlobalNorm(), norm, 12);
        var moved = Math.Sqrt(rnn.Parameters.Zip(before).Sum(p => p.First.Value.sub(p.Second).square().sum().item<double>()));
        Assert.Equal(clip, moved, 1e-10);
        foreach (var t in before) t.Dispose();
    }

    [Fact]
    public void Forward_IdOutsideTheVocabulary_ThrowsNamingThePosition()
    {
        using var rnn = new ScratchRnn(4, 3);

        var error = Assert.Throws<ArgumentOutOfRangeException>(() => rnn.Forward([0, 4]));

        Assert.Contains("position 1", error.Message);
    }
}
