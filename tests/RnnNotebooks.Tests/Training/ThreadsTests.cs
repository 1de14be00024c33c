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
        // The count follows the model and the core count only, whatever else the machine is running.
        Assert.Equal(Environment.ProcessorCount, Threads.ForTraining(big, tokensPerStep: 4096));
        Assert.Equal(Environment.ProcessorCount, torch.get_num_threads());
        Assert.Equal(Threads.ForWorkload(0), Threads.ForTraining(small, tokensPerStep: 16));

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
}
