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
        Threads.Apply();   // back to the automatic policy
        torch.set_num_threads(threadsBefore);
    }

    [Fact]
    public void EstimateTrainingFlops_CountsWeightMatrices_NotEmbeddingsOrBiases()
    {
        using var model = torch.nn.Sequential(("embedding", torch.nn.Embedding(100, 8)), ("readout", torch.nn.Linear(8, 5)));
        // Only the readout's 8×5 weight matrix counts: 6 operations per weight and token.
        Assert.Equal(6L * 40 * 1000, Threads.EstimateTrainingFlops(model, 1000));
    }

    [Fact]
    public void ForTraining_GivesALargeStepEveryCore_ButLeavesAnExplicitChoiceAlone()
    {
        Environment.SetEnvironmentVariable(Threads.EnvironmentVariable, null);
        using var big = torch.nn.Linear(1024, 1024);
        using var small = torch.nn.Linear(4, 4);

        Threads.Apply();
        Assert.True(Threads.IsAutomatic);
        // Other processes (e.g. parallel test runs) may hold cores, so the exact count depends on the moment.
        var bigCount = Threads.ForTraining(big, tokensPerStep: 4096);
        Assert.Equal(bigCount, torch.get_num_threads());
        Assert.InRange(bigCount, 1, Environment.ProcessorCount);
        Assert.InRange(Threads.ForTraining(small, tokensPerStep: 16), 1, Threads.ForWorkload(0));

        Threads.Apply(1);
        Assert.False(Threads.IsAutomatic);
        Assert.Equal(1, Threads.ForTraining(big, tokensPerStep: 4096));
        Assert.Equal(1, torch.get_num_threads());
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

    [Fact]
    public void ForWorkload_NeverUsesMoreThreadsThanFreeCores_AndAtLeastOne()
    {
        var cores = Environment.ProcessorCount;
        var big = Threads.SmallWorkloadFlops * 10;

        Assert.Equal(cores, Threads.ForWorkload(big, busyCores: 0));
        Assert.Equal(Math.Max(1, cores - 1), Threads.ForWorkload(big, busyCores: 1));
        Assert.Equal(1, Threads.ForWorkload(big, busyCores: cores + 3));
        Assert.Equal(Threads.ForWorkload(1_000), Threads.ForWorkload(1_000, busyCores: -2));
    }

    [Fact]
    public void RunnableTasks_ReadsTheFourthFieldOfLoadavg()
    {
        Assert.Equal(3, Threads.RunnableTasks("0.52 0.61 0.70 3/245 12345\n"));
        Assert.Equal(17, Threads.RunnableTasks("16.57 13.33 11.05 17/1201 9999"));
        var error = Assert.Throws<FormatException>(() => Threads.RunnableTasks("0.5 0.6"));
        Assert.Contains("/proc/loadavg", error.Message);
    }

    [Fact]
    public void BusyCores_OnThisMachine_IsANonNegativeCount()
    {
        var busy = Threads.BusyCores();

        Assert.InRange(busy, 0, 4096);
        if (File.Exists("/proc/loadavg"))
            Assert.True(Threads.RunnableTasks(File.ReadAllText("/proc/loadavg")) >= 1);   // at least this thread runs
    }
}
