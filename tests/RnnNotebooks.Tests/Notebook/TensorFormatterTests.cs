using RnnNotebooks.Notebook;
using TorchSharp;
using static TorchSharp.torch;

namespace RnnNotebooks.Tests.Notebook;

public class TensorFormatterTests
{
    [Fact]
    public void SmallTensor_ShowsHeaderAndEveryValue()
    {
        using var t = torch.tensor(new float[] { 1, 2.5f, -3, 4 }).reshape(2, 2);
        Assert.Equal("Tensor [2, 2] float32 cpu\n1.0000  2.5000\n-3.0000  4.0000", TensorFormatter.ToText(t));
    }

    [Fact]
    public void IntegerTensor_ShowsWholeNumbers()
    {
        using var t = torch.arange(3);
        Assert.Equal("Tensor [3] int64 cpu\n0  1  2", TensorFormatter.ToText(t));
    }

    [Fact]
    public void LargeTensor_ShowsStatisticsInsteadOfValues()
    {
        using var t = torch.ones(30, 30, dtype: ScalarType.Float64);
        Assert.Equal("Tensor [30, 30] float64 cpu\nmin 1  mean 1  max 1  std 0", TensorFormatter.ToText(t));
    }

    [Fact]
    public void Html_MarksGradientTracking_AndLeaksNoTensors()
    {
        using var t = torch.zeros(2, requires_grad: true);
        var before = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        var html = TensorFormatter.ToHtml(t);
        Assert.Equal(before, DisposeScopeManager.Statistics.ThreadTotalLiveCount);
        Assert.Contains("requires_grad", html);
        Assert.Contains("<table", html);
    }
}
