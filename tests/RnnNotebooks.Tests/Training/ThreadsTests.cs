using RnnNotebooks.Training;
using TorchSharp;

namespace RnnNotebooks.Tests.Training;

[Collection(TorchGlobalState.Name)]
public class ThreadsTests : IDisposable
{
    readonly int threadsBefore = torch.get_num_threads();
    readonly string? variableBefore = Environment.GetEnvironmentVariable(Threads.EnvironmentVariable);

    public void Dispose()
    {
        Environment.SetEnvironmentVariable(Threads.EnvironmentVariable, variableBefore);
        torch.set_num_threads(threadsBefore);
    }

    [Fact]
    public void ForWorkload_SmallModelOnTwoCores_UsesOneThread()
    {
        var cores = Environment.ProcessorCount;

        Assert.Equal(cores <= 2 ? 1 : cores, Threads.ForWorkload(1_000_000));
        Assert.Equal(cores, Threads.ForWorkload(Threads.SmallWorkloadFlops * 10));
    }

    [Fact]
    public void Apply_UsesTheExplicitCount_UnlessTheEnvironmentOverridesIt()
    {
        Environment.SetEnvironmentVariable(Threads.EnvironmentVariable, null);
        Assert.Equal(2, Threads.Apply(2));
        Assert.Equal(2, Threads.Current);
        Assert.Equal(Threads.ForWorkload(0), Threads.Apply());

        Environment.SetEnvironmentVariable(Threads.EnvironmentVariable, "3");
        Assert.Equal(3, Threads.Apply(1));
    }

    [Fact]
    public void Apply_WithAnInvalidEnvironmentValue_SaysWhatToFix()
    {
        Environment.SetEnvironmentVariable(Threads.EnvironmentVariable, "many");

        var e = Assert.Throws<InvalidOperationException>(() => Threads.Apply());

        Assert.Contains("RNN_THREADS=many", e.Message);
        Assert.Contains("positive integer", e.Message);
    }
}
