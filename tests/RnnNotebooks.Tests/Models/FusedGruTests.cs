using RnnNotebooks.Models;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace RnnNotebooks.Tests.Models;

/// <summary>The hand-written backward of <see cref="FusedGru"/> against TorchSharp's <c>nn.GRU</c> with the same weights.</summary>
public class FusedGruTests
{
    public FusedGruTests() => SingleThreadedTorch.Ensure();

    /// <summary>Both paths on the same weights and data: outputs, last states and every gradient.</summary>
    static void Compare(ScalarType dtype, int layers, long steps, long batch, long features, long hidden, bool withState, double tolerance)
    {
        manual_seed(7);
        using var gru = nn.GRU(features, hidden, layers).to(dtype);
        using var x1 = randn(steps, batch, features, dtype: dtype).requires_grad_();
        using var x2 = x1.detach().clone().requires_grad_();
        using var s1 = withState ? randn(layers, batch, hidden, dtype: dtype).requires_grad_() : null;
        using var s2 = withState ? s1!.detach().clone().requires_grad_() : null;
        // Weight the outputs and the final state differently, so that every gradient path is exercised.
        using var wy = randn(steps, batch, hidden, dtype: dtype);
        using var wh = randn(layers, batch, hidden, dtype: dtype);

        var (yRef, hRef) = gru.call(x1, s1);
        using (var loss = (yRef * wy).sum() + (hRef * wh).sum()) loss.backward();
        var refGrads = gru.parameters().Select(p => p.grad!.detach().clone()).ToList();
        gru.zero_grad();

        var (y, h) = FusedGru.Forward(x2, s2, FusedGru.WeightsOf(gru, layers));
        using (var loss = (y * wy).sum() + (h * wh).sum()) loss.backward();

        Assert.True(y.allclose(yRef, rtol: 0, atol: tolerance), $"outputs differ by {(y - yRef).abs().max().ToDouble():g3}");
        Assert.True(h.allclose(hRef, rtol: 0, atol: tolerance), $"last states differ by {(h - hRef).abs().max().ToDouble():g3}");
        Assert.True(x2.grad!.allclose(x1.grad!, rtol: 0, atol: tolerance), $"input gradients differ by {(x2.grad! - x1.grad!).abs().max().ToDouble():g3}");
        if (withState)
            Assert.True(s2!.grad!.allclose(s1!.grad!, rtol: 0, atol: tolerance), $"initial-state gradients differ by {(s2.grad! - s1.grad!).abs().max().ToDouble():g3}");
        foreach (var ((name, p), expected) in gru.named_parameters().Zip(refGrads))
            Assert.True(p.grad!.allclose(expected, rtol: 0, atol: tolerance * Math.Max(1, expected.abs().max().ToDouble())),
                $"{name}: gradients differ by {(p.grad! - expected).abs().max().ToDouble():g3}");
        foreach (var t in new[] { yRef, hRef, y, h }.Concat(refGrads)) t.Dispose();
    }

    [Fact]
    public void Forward_AndBackward_MatchNnGru_InDoublePrecision() =>
        Compare(ScalarType.Float64, layers: 2, steps: 9, batch: 4, features: 5, hidden: 6, withState: true, tolerance: 1e-12);

    [Fact]
    public void Forward_AndBackward_MatchNnGru_FromAZeroState_InSinglePrecision() =>
        Compare(ScalarType.Float32, layers: 3, steps: 40, batch: 8, features: 16, hidden: 32, withState: false, tolerance: 2e-5);

    [Fact]
    public void SingleStep_MatchesNnGru() =>
        Compare(ScalarType.Float64, layers: 1, steps: 1, batch: 3, features: 2, hidden: 4, withState: true, tolerance: 1e-12);

    [Fact]
    public void Gradients_MatchCentralDifferences()
    {
        // An independent check of the hand-written backward: the loss's slope along a random direction in
        // weight space, by autograd and by (L(w + εd) − L(w − εd)) / 2ε.
        manual_seed(3);
        using var gru = nn.GRU(3, 4, 2).to(ScalarType.Float64);
        using var x = randn(6, 2, 3, dtype: ScalarType.Float64);
        using var w = randn(6, 2, 4, dtype: ScalarType.Float64);
        var weights = FusedGru.WeightsOf(gru, 2);
        Tensor Loss() { var (y, _) = FusedGru.Forward(x, null, weights); return (y * w).sum(); }

        using (var loss = Loss()) loss.backward();
        var directions = gru.parameters().Select(p => randn_like(p)).ToList();
        var analytic = gru.parameters().Zip(directions).Sum(pd => (pd.First.grad! * pd.Second).sum().item<double>());
        const double eps = 1e-6;
        double Shifted(double sign)
        {
            using var noGrad = no_grad();
            foreach (var (p, d) in gru.parameters().Zip(directions)) p.add_(d, alpha: sign * eps);
            using var loss = Loss();
            foreach (var (p, d) in gru.parameters().Zip(directions)) p.add_(d, alpha: -sign * eps);
            return loss.item<double>();
        }
        var numeric = (Shifted(+1) - Shifted(-1)) / (2 * eps);

        Assert.Equal(numeric, analytic, 6);
        directions.ForEach(d => d.Dispose());
    }

    [Fact]
    public void Training_LiveTensorCount_StaysFlat()
    {
        manual_seed(4);
        using var gru = nn.GRU(5, 8, 2);
        using var optimizer = optim.Adam(gru.parameters(), 1e-3);
        var weights = FusedGru.WeightsOf(gru, 2);
        var counts = new List<long>();
        for (var step = 0; step < 40; step++)
        {
            using (NewDisposeScope())
            {
                optimizer.zero_grad();
                var (y, h) = FusedGru.Forward(randn(7, 3, 5), randn(2, 3, 8), weights, dropout: 0.3, training: true);
                (y.square().mean() + h.mean()).backward();
                optimizer.step();
            }
            counts.Add(DisposeScopeManager.Statistics.ThreadTotalLiveCount);
        }
        Assert.Equal(counts[5], counts[^1]);
    }

    [Fact]
    public void LanguageModel_TrainsAGruWithTheSameLossAndGradients_OnEitherPath()
    {
        manual_seed(5);
        using var model = new LanguageModel(new LanguageModelOptions(13, 8, 2, RecurrentCell.Gru));
        using var ids = randint(0, 13, [3, 9]);
        using var targets = randint(0, 13, [3, 9]);
        using var start = randn(2, 3, 8);
        (double Loss, List<Tensor> Grads, Tensor State) Run(bool fused)
        {
            var previous = RnnNotebooks.Platform.TorchKernels.FusedGru;
            RnnNotebooks.Platform.TorchKernels.FusedGru = fused;
            try
            {
                model.zero_grad();
                var (loss, state) = model.Loss(ids, targets, new RecurrentState(start, null));
                loss.backward();
                var result = (loss.item<float>() * 1.0, model.parameters().Select(p => p.grad!.detach().clone()).ToList(), state.H.detach().clone());
                loss.Dispose();
                state.Dispose();
                return result;
            }
            finally { RnnNotebooks.Platform.TorchKernels.FusedGru = previous; }
        }

        var (lossFused, gradsFused, stateFused) = Run(fused: true);
        var (lossPlain, gradsPlain, statePlain) = Run(fused: false);

        Assert.Equal(lossPlain, lossFused, 5);
        Assert.True(stateFused.allclose(statePlain, rtol: 0, atol: 1e-6), "the carried states differ");
        foreach (var ((name, _), (a, b)) in model.named_parameters().Zip(gradsFused.Zip(gradsPlain)))
            Assert.True(a.allclose(b, rtol: 1e-4, atol: 1e-6), $"{name}: gradients differ by {(a - b).abs().max().ToDouble():g3}");
    }

    /// <summary><see cref="FusedGru.ForwardBidirectional"/> against a bidirectional <c>nn.GRU</c> over the packed batch:
    /// outputs on every real frame, and every gradient.</summary>
    static void CompareBidirectional(ScalarType dtype, int layers, long[] lengths, long features, long hidden, double tolerance)
    {
        manual_seed(11);
        var (steps, batch) = (lengths.Max(), lengths.Length);
        using var gru = nn.GRU(features, hidden, layers, bidirectional: true).to(dtype);
        using var x1 = randn(steps, batch, features, dtype: dtype).requires_grad_();
        using var x2 = x1.detach().clone().requires_grad_();
        using var lengthTensor = tensor(lengths);
        // Weights on the real frames only: what lies past a length must not matter to either path.
        using var real = arange(steps).unsqueeze(1).lt(lengthTensor.unsqueeze(0)).unsqueeze(2).to(dtype);
        using var wy = randn(steps, batch, 2 * hidden, dtype: dtype).mul(real);

        Tensor yRef;
        using (var packed = nn.utils.rnn.pack_padded_sequence(x1, lengthTensor, enforce_sorted: false))
        {
            var (packedOut, h) = gru.call(packed);
            h.Dispose();
            using (packedOut) yRef = nn.utils.rnn.pad_packed_sequence(packedOut, total_length: steps).Item1;
        }
        using (var loss = (yRef * wy).sum()) loss.backward();
        var refGrads = gru.parameters().Select(p => p.grad!.detach().clone()).ToList();
        gru.zero_grad();

        using var y = FusedGru.ForwardBidirectional(x2, lengthTensor, FusedGru.WeightsOf(gru, layers), FusedGru.WeightsOf(gru, layers, reverse: true));
        using (var loss = (y * wy).sum()) loss.backward();

        using var gap = (y - yRef).mul(real).abs().max();
        Assert.True(gap.ToDouble() <= tolerance, $"outputs on real frames differ by {gap.ToDouble():g3}");
        Assert.True(x2.grad!.allclose(x1.grad!, rtol: 0, atol: tolerance), $"input gradients differ by {(x2.grad! - x1.grad!).abs().max().ToDouble():g3}");
        foreach (var ((name, p), expected) in gru.named_parameters().Zip(refGrads))
            Assert.True(p.grad!.allclose(expected, rtol: 0, atol: tolerance * Math.Max(1, expected.abs().max().ToDouble())),
                $"{name}: gradients differ by {(p.grad! - expected).abs().max().ToDouble():g3}");
        yRef.Dispose();
        foreach (var t in refGrads) t.Dispose();
    }

    [Fact]
    public void Bidirectional_MatchesPackedNnGru_InDoublePrecision() =>
        CompareBidirectional(ScalarType.Float64, layers: 2, lengths: [9, 4, 1, 7], features: 5, hidden: 6, tolerance: 1e-12);

    [Fact]
    public void Bidirectional_MatchesPackedNnGru_InSinglePrecision() =>
        CompareBidirectional(ScalarType.Float32, layers: 3, lengths: [40, 33, 40, 12, 27, 5], features: 16, hidden: 32, tolerance: 2e-5);

    [Fact]
    public void Bidirectional_OnTwoThreads_GivesWhatOneThreadGives_ToTheLastBit()
    {
        manual_seed(12);
        long[] lengths = [30, 17, 30, 4];
        using var gru = nn.GRU(8, 12, 2, bidirectional: true);
        using var x = randn(30, lengths.Length, 8);
        using var lengthTensor = tensor(lengths);
        using var wy = randn(30, lengths.Length, 24);
        (Tensor Y, List<Tensor> Grads) Run(bool threads)
        {
            var before = FusedGru.BidirectionalThreads;
            FusedGru.BidirectionalThreads = threads;
            try
            {
                gru.zero_grad();
                using var input = x.detach().clone().requires_grad_();
                var y = FusedGru.ForwardBidirectional(input, lengthTensor, FusedGru.WeightsOf(gru, 2), FusedGru.WeightsOf(gru, 2, reverse: true));
                using (var loss = (y * wy).sum()) loss.backward();
                return (y.detach(), [input.grad!.clone(), .. gru.parameters().Select(p => p.grad!.clone())]);
            }
            finally { FusedGru.BidirectionalThreads = before; }
        }
        var (y1, g1) = Run(threads: false);
        var (y2, g2) = Run(threads: true);
        Assert.True(y1.allclose(y2, rtol: 0, atol: 0), "outputs differ");
        Assert.Equal(g1.Count, g2.Count);
        foreach (var (a, b) in g1.Zip(g2)) Assert.True(a.allclose(b, rtol: 0, atol: 0), "gradients differ");
        foreach (var t in g1.Concat(g2).Append(y1).Append(y2)) t.Dispose();
    }

    [Fact]
    public void Bidirectional_RejectsLengthsOutsideTheInput()
    {
        using var gru = nn.GRU(5, 8, 1, bidirectional: true);
        using var x = randn(7, 3, 5);
        using var tooLong = tensor(new long[] { 7, 8, 2 });
        using var tooFew = tensor(new long[] { 7, 2 });

        var e = Assert.Throws<ArgumentException>(() => FusedGru.ForwardBidirectional(x, tooLong, FusedGru.WeightsOf(gru, 1), FusedGru.WeightsOf(gru, 1, reverse: true)));
        Assert.Contains("1…7", e.Message);
        Assert.Equal("lengths", e.ParamName);
        e = Assert.Throws<ArgumentException>(() => FusedGru.ForwardBidirectional(x, tooFew, FusedGru.WeightsOf(gru, 1), FusedGru.WeightsOf(gru, 1, reverse: true)));
        Assert.Contains("Expected 3 lengths", e.Message);
        using var oneWay = nn.GRU(5, 8, 1);
        e = Assert.Throws<ArgumentException>(() => FusedGru.WeightsOf(oneWay, 1, reverse: true));
        Assert.Contains("backward direction", e.Message);

        // A layer of the wrong width is named with its direction.
        using var x3 = randn(7, 3, 5);
        using var lengths = tensor(new long[] { 7, 4, 2 });
        using var wide = nn.GRU(6, 8, 1, bidirectional: true);
        e = Assert.Throws<ArgumentException>(() => FusedGru.ForwardBidirectional(x3, lengths, FusedGru.WeightsOf(gru, 1), FusedGru.WeightsOf(wide, 1, reverse: true)));
        Assert.Equal("backward", e.ParamName);
        Assert.Contains("(backward): W_ih expects 6 features, the input has 5", e.Message);
        e = Assert.Throws<ArgumentException>(() => FusedGru.ForwardBidirectional(x3, lengths, FusedGru.WeightsOf(wide, 1), FusedGru.WeightsOf(gru, 1, reverse: true)));
        Assert.Equal("forward", e.ParamName);
    }

    [Fact]
    public void Forward_RejectsAStateOfTheWrongShape()
    {
        using var gru = nn.GRU(5, 8, 2);
        using var x = randn(7, 3, 5);
        using var wrong = zeros(1, 3, 8);

        var e = Assert.Throws<ArgumentException>(() => FusedGru.Forward(x, wrong, FusedGru.WeightsOf(gru, 2)));
        Assert.Contains("[2, 3, 8]", e.Message);
    }
}
