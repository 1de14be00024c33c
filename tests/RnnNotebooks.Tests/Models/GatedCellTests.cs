using RnnNotebooks.Diagnostics;
using RnnNotebooks.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace RnnNotebooks.Tests.Models;

/// <summary>LstmCell and GruCell: one step against TorchSharp, gradients against central differences.</summary>
public class GatedCellTests
{
    public GatedCellTests() => SingleThreadedTorch.Ensure();

    [Fact]
    public void LstmStep_MatchesTorchLstm_WhenWeightsCopied()
    {
        manual_seed(1);
        using var fused = nn.LSTM(3, 4, dtype: ScalarType.Float64);
        using var cell = new LstmCell(3, 4, ScalarType.Float64);
        CopyLayer0(fused, cell.WeightIh, cell.WeightHh, cell.BiasIh, cell.BiasHh);
        using var x = randn(2, 3, dtype: ScalarType.Float64);                         // [batch, input]
        using var h0 = randn(1, 2, 4, dtype: ScalarType.Float64);
        using var c0 = randn(1, 2, 4, dtype: ScalarType.Float64);

        var (output, hN, cN) = fused.call(x.unsqueeze(0), (h0, c0));                 // one step, [1, batch, hidden]
        using var step = cell.Step(x, (h0[0], c0[0]));

        using (output) using (hN) using (cN)
        {
            AssertClose(hN[0], step.H, 1e-12);
            AssertClose(cN[0], step.C, 1e-12);
        }
        // The gates are probabilities, the candidate lies in (−1, 1).
        foreach (var gate in new[] { step.Input, step.Forget, step.Output })
            Assert.True(gate.gt(0).all().item<bool>() && gate.lt(1).all().item<bool>());
        Assert.True(step.Candidate.abs().lt(1).all().item<bool>());
    }

    [Fact]
    public void GruStep_MatchesTorchGru_WhenWeightsCopied()
    {
        manual_seed(2);
        using var fused = nn.GRU(3, 4, dtype: ScalarType.Float64);
        using var cell = new GruCell(3, 4, ScalarType.Float64);
        CopyLayer0(fused, cell.WeightIh, cell.WeightHh, cell.BiasIh, cell.BiasHh);
        using var x = randn(2, 3, dtype: ScalarType.Float64);
        using var h0 = randn(1, 2, 4, dtype: ScalarType.Float64);

        var (output, hN) = fused.call(x.unsqueeze(0), h0);
        using var h = cell.call(x, h0[0]);

        using (output) using (hN) AssertClose(hN[0], h, 1e-12);
    }

    [Fact]
    public void GruStep_DiffersFromTorch_IfTheRecurrentCandidateBiasIsMovedOutsideTheResetProduct()
    {
        // b_hn is multiplied by the reset gate: folding it into b_in (as one may for the other gates) changes the result.
        manual_seed(3);
        using var fused = nn.GRU(3, 4, dtype: ScalarType.Float64);
        using var cell = new GruCell(3, 4, ScalarType.Float64);
        CopyLayer0(fused, cell.WeightIh, cell.WeightHh, cell.BiasIh, cell.BiasHh);
        using (no_grad())
        {
            using var bhn = cell.BiasHh[TensorIndex.Slice(8, 12)];
            using var bin = cell.BiasIh[TensorIndex.Slice(8, 12)];
            bin.add_(bhn);
            bhn.zero_();
        }
        using var x = randn(2, 3, dtype: ScalarType.Float64);
        using var h0 = randn(1, 2, 4, dtype: ScalarType.Float64);

        var (output, hN) = fused.call(x.unsqueeze(0), h0);
        using var h = cell.call(x, h0[0]);

        using (output) using (hN) Assert.True(hN[0].sub(h).abs().max().item<double>() > 1e-3);
    }

    [Theory]
    [InlineData(RecurrentCell.Lstm)]
    [InlineData(RecurrentCell.Gru)]
    public void AutogradGradients_MatchCentralDifferences_InFloat64(RecurrentCell kind)
    {
        manual_seed(4);
        using var net = new SequenceRnn(new SequenceRnnOptions(kind, 2, 3, DType: ScalarType.Float64));
        using var x = randn(2, 4, 2, dtype: ScalarType.Float64);                      // [batch, steps, input]
        using var w = randn(3, dtype: ScalarType.Float64);
        var parameters = net.named_parameters().ToList();
        double Loss()
        {
            using var scope = NewDisposeScope();
            var (output, state) = net.call(x, null);
            return output.select(1, -1).matmul(w).tanh().sum().item<double>();
        }

        using (var scope = NewDisposeScope())
        {
            var (output, _) = net.call(x, null);
            output.select(1, -1).matmul(w).tanh().sum().backward();
        }
        var numeric = GradientCheck.NumericGradients([.. parameters.Select(p => (Tensor)p.parameter)], Loss);
        var results = GradientCheck.Compare([.. parameters.Select(p => p.name)], [.. parameters.Select(p => p.parameter.grad!)], numeric);

        Assert.Equal(4, results.Count);
        Assert.All(results, r => Assert.True(r.MaxRelativeError < 1e-7, r.ToString()));
        foreach (var t in numeric) t.Dispose();
    }

    [Fact]
    public void Cells_HaveCamelCaseStateDictKeys_ShapedLikeTorch()
    {
        using var lstm = new LstmCell(3, 5);
        using var gru = new GruCell(3, 5);

        Assert.Equal(["biasHh", "biasIh", "weightHh", "weightIh"], lstm.state_dict().Keys.Order());
        Assert.Equal(new long[] { 20, 3 }, lstm.WeightIh.shape);
        Assert.Equal(new long[] { 20, 5 }, lstm.WeightHh.shape);
        Assert.Equal(new long[] { 15, 3 }, gru.WeightIh.shape);
        Assert.Equal(new long[] { 15 }, gru.BiasHh.shape);
        // 4·(H·(I + H) + 2H) parameters, as nn.LSTM.
        Assert.Equal(4 * (5 * (3 + 5) + 2 * 5), lstm.parameters().Sum(p => p.numel()));
    }

    [Fact]
    public void Step_WithTheWrongInputShape_SaysWhatItExpected()
    {
        using var cell = new LstmCell(3, 5);
        using var x = zeros(2, 4, 3);

        var error = Assert.Throws<ArgumentException>(() => cell.Step(x));

        Assert.Contains("[batch, 3]", error.Message);
        Assert.Contains("SequenceRnn", error.Message);
    }

    internal static void CopyLayer0(nn.Module fused, params Tensor[] targets)
    {
        var source = fused.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        using var noGrad = no_grad();
        string[] names = ["weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0"];
        for (var i = 0; i < names.Length; i++) targets[i].copy_(source[names[i]]);
    }

    internal static void AssertClose(Tensor expected, Tensor actual, double tolerance)
    {
        Assert.Equal(expected.shape, actual.shape);
        using var difference = expected.sub(actual).abs().max();
        Assert.True(difference.item<double>() <= tolerance, $"max difference {difference.item<double>():g3}");
    }
}
