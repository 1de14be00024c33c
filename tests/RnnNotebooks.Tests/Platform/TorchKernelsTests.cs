using RnnNotebooks.Platform;
using TorchSharp;
using static TorchSharp.torch;

namespace RnnNotebooks.Tests.Platform;

public class TorchKernelsTests
{
    [Fact]
    public void WithoutOneDnn_TurnsItOffAndRestoresIt()
    {
        Assert.True(TorchKernels.IsAvailable);
        Assert.True(TorchKernels.OneDnnEnabled);
        using (TorchKernels.WithoutOneDnn())
        {
            Assert.False(TorchKernels.OneDnnEnabled);
            using (TorchKernels.WithoutOneDnn()) Assert.False(TorchKernels.OneDnnEnabled);
            Assert.False(TorchKernels.OneDnnEnabled);
        }
        Assert.True(TorchKernels.OneDnnEnabled);
    }

    /// <summary>Two blocks that overlap without nesting, as two decoding threads make them: oneDNN stays off until
    /// both have ended, then comes back on (each restoring what it saw would do the reverse).</summary>
    [Fact]
    public void WithoutOneDnn_BlocksEndingOutOfOrder_KeepItOffUntilTheLastEnds_ThenRestoreIt()
    {
        Assert.True(TorchKernels.OneDnnEnabled);
        var first = TorchKernels.WithoutOneDnn();
        var second = TorchKernels.WithoutOneDnn();
        first.Dispose();
        Assert.False(TorchKernels.OneDnnEnabled);
        first.Dispose();                                               // a second Dispose counts nothing
        Assert.False(TorchKernels.OneDnnEnabled);
        second.Dispose();
        Assert.True(TorchKernels.OneDnnEnabled);
    }

    /// <summary>libtorch tries NNPACK for a convolution oneDNN does not take and, where NNPACK does not support the
    /// processor, warns on every call: <see cref="TorchRuntime.Prepare"/> (run for every test) turns it off for the
    /// process on x86-64, and a block without oneDNN leaves it off.</summary>
    [Fact]
    public void Nnpack_IsOffAfterPrepare_AndStaysOffThroughABlockWithoutOneDnn_AndAConvolutionGivesTheSameOutput()
    {
        TorchRuntime.Prepare();
        Assert.False(TorchKernels.NnpackEnabled);
        torch.manual_seed(5);
        using var conv = nn.Conv1d(13, 32, 3, padding: 1);
        using var x = randn(4, 13, 50);
        using var scope = NewDisposeScope();
        var withOneDnn = conv.forward(x);
        Tensor without;
        using (TorchKernels.WithoutOneDnn())
        {
            Assert.False(TorchKernels.NnpackEnabled);
            without = conv.forward(x);
        }
        Assert.False(TorchKernels.NnpackEnabled);
        Assert.True(withOneDnn.allclose(without, rtol: 1e-5, atol: 1e-5));
    }

    [Fact]
    public void Lstm_GivesTheSameOutputWithAndWithoutOneDnn()
    {
        torch.manual_seed(3);
        using var lstm = nn.LSTM(8, 16, numLayers: 2, batchFirst: true);
        using var x = randn(1, 5, 8);
        using var scope = NewDisposeScope();
        var (withOneDnn, _, _) = lstm.forward(x);
        Tensor without;
        using (TorchKernels.WithoutOneDnn()) (without, _, _) = lstm.forward(x);
        Assert.True(withOneDnn.allclose(without, rtol: 1e-5, atol: 1e-6));
    }
}
