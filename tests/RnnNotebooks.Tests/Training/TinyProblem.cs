using RnnNotebooks.Training;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace RnnNotebooks.Tests.Training;

/// <summary>
/// Tests here use torch's global generator and thread count, so they run alone, not next to other classes.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class TorchGlobalState
{
    public const string Name = "Training: torch global state";
}

/// <summary>An LSTM that reads a sequence of numbers and predicts their mean.</summary>
sealed class MeanRegressor : nn.Module<Tensor, Tensor>
{
    readonly LSTM lstm;
    readonly Dropout dropout;
    readonly Linear head;

    public MeanRegressor(int numHiddens, double dropoutRate = 0) : base(nameof(MeanRegressor))
    {
        lstm = nn.LSTM(1, numHiddens, batchFirst: true);
        dropout = nn.Dropout(dropoutRate);
        head = nn.Linear(numHiddens, 1);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        var (output, _, _) = lstm.forward(x);                // [batch, steps, hidden]
        var last = output[.., -1, ..];                        // [batch, hidden]
        return head.forward(dropout.forward(last));          // [batch, 1]
    }
}

/// <summary>64 fixed sequences, shuffled per epoch with <see cref="Seeds.CreateRandom"/>, in batches of 16.</summary>
sealed class TinyProblem : IDisposable
{
    public const int BatchSize = 16;
    public const int NumSteps = 10;

    public Tensor X { get; }   // [64, steps, 1]
    public Tensor Y { get; }   // [64, 1]
    public int BatchesPerEpoch => (int)(X.shape[0] / BatchSize);

    public TinyProblem()
    {
        var generator = new Generator(12345);
        X = torch.rand(64, NumSteps, 1, generator: generator);
        Y = X.mean([1]);
        generator.Dispose();
    }

    public IEnumerable<(Tensor X, Tensor Y)> Batches(int epoch)
    {
        var order = Enumerable.Range(0, (int)X.shape[0]).ToArray();
        Seeds.CreateRandom(epoch).Shuffle(order);
        for (var b = 0; b < BatchesPerEpoch; b++)
        {
            using var index = torch.tensor(order[(b * BatchSize)..((b + 1) * BatchSize)]);
            yield return (X.index_select(0, index), Y.index_select(0, index));
        }
    }

    public static Func<(Tensor X, Tensor Y), Tensor> Loss(MeanRegressor model) =>
        batch => nn.functional.mse_loss(model.forward(batch.X), batch.Y);

    public Func<IReadOnlyDictionary<string, double>> Validation(MeanRegressor model) =>
        () => new Dictionary<string, double> { ["val_loss"] = nn.functional.mse_loss(model.forward(X), Y).ToDouble() };

    public void Dispose()
    {
        X.Dispose();
        Y.Dispose();
    }
}
