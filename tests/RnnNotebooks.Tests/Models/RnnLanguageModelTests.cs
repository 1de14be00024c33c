using RnnNotebooks.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace RnnNotebooks.Tests.Models;

public class RnnLanguageModelTests
{
    public RnnLanguageModelTests() => SingleThreadedTorch.Ensure();

    [Theory]
    [InlineData(ScalarType.Float64, ScalarType.Float64, 1e-12)]
    [InlineData(ScalarType.Float32, ScalarType.Float32, 1e-5)]
    [InlineData(ScalarType.Float64, ScalarType.Float32, 1e-5)]
    public void Forward_MatchesTheScratchRnn_WhenWeightsAreCopied(ScalarType scratchType, ScalarType modelType, double tolerance)
    {
        manual_seed(8);
        using var scratch = new ScratchRnn(9, 6, new ScratchRnnOptions(scratchType, InitScale: 0.5));
        using (var bias = randn(6, dtype: scratchType)) scratch.Bh.copy_(bias);
        using (var bias = randn(9, dtype: scratchType)) scratch.By.copy_(bias);
        using var model = new RnnLanguageModel(new RnnLanguageModelOptions(9, 6, DType: modelType));
        model.CopyFrom(scratch);
        int[] inputs = [3, 0, 8, 8, 1, 5, 2];
        using var h0 = randn(6, dtype: scratchType);

        using var expected = scratch.Forward(inputs, h0);
        using var ids = tensor(inputs.Select(i => (long)i).ToArray()).unsqueeze(0);     // [1, steps]
        using var h0Batch = h0.to_type(modelType).reshape(1, 1, 6);                     // [layers, batch, hidden]
        var (logits, hN) = model.call(ids, h0Batch);
        var (states, _) = model.HiddenStates(ids, h0Batch);

        using (logits)
        using (hN)
        using (states)
        {
            Assert.Equal(new long[] { 1, 7, 9 }, logits.shape);
            Assert.Equal(modelType, logits.dtype);
            AssertClose(expected.Logits, logits[0], tolerance);
            AssertClose(expected.Hidden, states[0], tolerance);
            AssertClose(expected.FinalHidden, hN[0, 0], tolerance);
        }
    }

    static void AssertClose(Tensor expected, Tensor actual, double tolerance)
    {
        using var e = expected.to_type(ScalarType.Float64);
        using var a = actual.to_type(ScalarType.Float64);
        using var difference = e.sub(a).abs().max();
        Assert.True(e.allclose(a, rtol: tolerance, atol: tolerance), $"max difference {difference.item<double>():g3}");
    }

    [Fact]
    public void CopyFrom_MismatchedSizes_ThrowsNamingBothShapes()
    {
        using var scratch = new ScratchRnn(9, 6);
        using var model = new RnnLanguageModel(new RnnLanguageModelOptions(9, 5));

        var error = Assert.Throws<ArgumentException>(() => model.CopyFrom(scratch));

        Assert.Contains("hidden size 6", error.Message);
        Assert.Contains("hidden size 5", error.Message);
    }

    [Fact]
    public void CopyFrom_IntoAnEmbeddingModel_Throws()
    {
        using var scratch = new ScratchRnn(9, 6);
        using var model = new RnnLanguageModel(new RnnLanguageModelOptions(9, 6, EmbeddingSize: 4));

        Assert.Throws<InvalidOperationException>(() => model.CopyFrom(scratch));
    }

    [Fact]
    public void StateDict_HasStableCamelCaseKeys()
    {
        using var oneHot = new RnnLanguageModel(new RnnLanguageModelOptions(9, 6));
        using var embedded = new RnnLanguageModel(new RnnLanguageModelOptions(9, 6, NumLayers: 2, EmbeddingSize: 4));

        Assert.Equal(
            ["rnn.weight_ih_l0", "rnn.weight_hh_l0", "rnn.bias_ih_l0", "rnn.bias_hh_l0", "readout.weight", "readout.bias"],
            oneHot.state_dict().Keys.OrderBy(NotReadoutFirst));
        Assert.Contains("embedding.weight", embedded.state_dict().Keys);
        Assert.Contains("rnn.weight_hh_l1", embedded.state_dict().Keys);

        static int NotReadoutFirst(string key) => key.StartsWith("readout", StringComparison.Ordinal) ? 1 : 0;
    }

    [Fact]
    public void Forward_WithAnEmbeddingAndTwoLayers_GivesBatchFirstShapes()
    {
        manual_seed(9);
        using var model = new RnnLanguageModel(new RnnLanguageModelOptions(9, 6, NumLayers: 2, EmbeddingSize: 4));
        using var ids = randint(0, 9, [3, 5]);                                          // [batch, steps]

        var (logits, hN) = model.call(ids, null);

        using (logits)
        using (hN)
        {
            Assert.Equal(new long[] { 3, 5, 9 }, logits.shape);
            Assert.Equal(new long[] { 2, 3, 6 }, hN.shape);
        }
    }
}
