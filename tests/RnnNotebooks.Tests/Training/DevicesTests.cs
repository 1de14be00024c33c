using RnnNotebooks.Training;
using TorchSharp;

namespace RnnNotebooks.Tests.Training;

public class DevicesTests
{
    [Fact]
    public void Pick_AutoOrNull_GivesTheDefault_AndCpuGivesCpu()
    {
        Assert.Equal(Devices.Default.type, Devices.Pick(null).type);
        Assert.Equal(Devices.Default.type, Devices.Pick("auto").type);
        Assert.Equal(DeviceType.CPU, Devices.Pick("CPU").type);
        Assert.Equal(torch.cuda.is_available() ? DeviceType.CUDA : DeviceType.CPU, Devices.Default.type);
    }

    [Fact]
    public void Pick_Cuda_WithoutCuda_SaysItIsNotAvailable()
    {
        Assert.SkipWhen(torch.cuda.is_available(), "CUDA is available on this machine: the no-CUDA message cannot be checked.");

        var e = Assert.Throws<InvalidOperationException>(() => Devices.Pick("cuda:0"));

        Assert.Contains("CUDA is not available", e.Message);
    }

    [Fact]
    public void Pick_UnknownName_ListsTheChoices()
    {
        var e = Assert.Throws<ArgumentException>(() => Devices.Pick("tpu"));

        Assert.Contains("\"cpu\"", e.Message);
    }
}
