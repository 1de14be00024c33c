using RnnNotebooks.Models;
using RnnNotebooks.Tasks;
using RnnNotebooks.Tests.Models;
using RnnNotebooks.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace RnnNotebooks.Tests.Tasks;

public class AddingExperimentTests
{
    public AddingExperimentTests()
    {
        SingleThreadedTorch.Ensure();
        Seeds.Set(7);                   // the training batches derive from the process seed
    }

    static readonly AddingExperimentOptions Tiny = new(Hidden: 8, BatchSize: 16, StepsPerEpoch: 5, MaxEpochs: 3);

    [Fact]
    public void Train_StopsAfterTheFirstEpochThatReachesTheTarget_AndReportsTheReturnedModelsScore()
    {
        using var test = AddingProblem.Generate(50, 6, new Random(-6));

        var run = AddingExperiment.Train(RecurrentCell.Gru, 6, test, Tiny with { SolvedAccuracy = 0 });
        using var model = run.Model;

        Assert.Equal(1, run.State.Epoch);
        using var noGrad = no_grad();
        model.eval();
        using var prediction = model.call(test.Inputs);
        Assert.Equal(AddingProblem.Accuracy(prediction, test.Targets), run.Accuracy, 9);
        Assert.Equal(nn.functional.mse_loss(prediction, test.Targets).item<float>(), run.Mse, 5);
    }

    [Fact]
    public void Train_UnreachableTarget_UsesTheWholeBudget_AndIsDeterministic()
    {
        using var test = AddingProblem.Generate(50, 6, new Random(-6));
        var options = Tiny with { SolvedAccuracy = 1.01 };

        var first = AddingExperiment.Train(RecurrentCell.Lstm, 6, test, options);
        var second = AddingExperiment.Train(RecurrentCell.Lstm, 6, test, options);
        first.Model.Dispose();
        second.Model.Dispose();

        Assert.Equal(3, first.State.Epoch);
        Assert.Equal(15, first.State.Step);
        Assert.Equal(first.State.History.Losses, second.State.History.Losses);
    }

    [Fact]
    public void Batches_AreTheSameForEveryCall_AndDifferByEpoch()
    {
        using var scope = NewDisposeScope();
        float[] Values(int epoch) => [.. AddingExperiment.Batches(6, epoch, Tiny).SelectMany(b => b.Inputs.data<float>().ToArray())];

        Assert.Equal(Values(0), Values(0));
        Assert.NotEqual(Values(0), Values(1));
    }

    [Fact]
    public void Train_HeldOutBatchOfAnotherLength_SaysSo()
    {
        using var test = AddingProblem.Generate(10, 8, new Random(1));

        var error = Assert.Throws<ArgumentException>(() => AddingExperiment.Train(RecurrentCell.Rnn, 6, test, Tiny));

        Assert.Contains("length 8", error.Message);
    }
}
