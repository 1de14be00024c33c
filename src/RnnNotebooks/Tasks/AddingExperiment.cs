using RnnNotebooks.Models;
using RnnNotebooks.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace RnnNotebooks.Tasks;

/// <summary>How one adding-problem run trains.</summary>
/// <param name="Hidden">Units of the one recurrent layer.</param>
/// <param name="BatchSize">Fresh sequences per step.</param>
/// <param name="StepsPerEpoch">Steps between two scorings of the validation set.</param>
/// <param name="MaxEpochs">The budget: at most this many epochs.</param>
/// <param name="LearningRate">Adam's learning rate.</param>
/// <param name="SolvedAccuracy">Stop after the first epoch whose validation accuracy reaches this.</param>
/// <param name="InitSeed">Torch seed for the initial weights, the same for every run so cells start alike.</param>
/// <remarks>Introduced in 02-lstm-and-gru.</remarks>
public sealed record AddingExperimentOptions(
    int Hidden = 32,
    int BatchSize = 64,
    int StepsPerEpoch = 100,
    int MaxEpochs = 30,
    double LearningRate = 0.01,
    double SolvedAccuracy = 0.95,
    int InitSeed = 1);

/// <summary>The outcome of one run: the trained model, its validation accuracy and MSE at the end, and its history.</summary>
/// <remarks>Introduced in 02-lstm-and-gru.</remarks>
public sealed record AddingRun(SequenceRegressor Model, double Accuracy, double Mse, TrainingState State);

/// <summary>
/// Lesson 02's experiment: train a one-layer RNN, GRU or LSTM on the adding problem of length T through the
/// library's <see cref="Trainer"/>, scoring a validation set after every epoch and stopping once it is solved. The validation set chose
/// the stopping point, so an unbiased figure needs a separate test set scored after training.
/// </summary>
/// <remarks>Introduced in 02-lstm-and-gru.</remarks>
public static class AddingExperiment
{
    /// <summary>
    /// The training batches of one epoch: the same for every cell kind, different for every length and epoch,
    /// and never those of the validation set (which the caller draws from other seeds). They derive from the seed of
    /// the last <see cref="Seeds.Set"/>, so one seed fixes the whole experiment.
    /// </summary>
    public static IEnumerable<AddingBatch> Batches(int length, int epoch, AddingExperimentOptions options) =>
        Enumerable.Range(0, options.StepsPerEpoch).Select(i =>
            AddingProblem.Generate(options.BatchSize, length, Seeds.CreateRandom(length * 1_000_000 + epoch * 1_000 + i)));

    /// <summary>Trains one model on sequences of <paramref name="length"/>, early-stopped on <paramref name="validation"/>.</summary>
    public static AddingRun Train(RecurrentCell kind, int length, AddingBatch validation, AddingExperimentOptions options,
        Action<TrainingProgress>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(validation);
        ArgumentNullException.ThrowIfNull(options);
        if (validation.Length != length)
            throw new ArgumentException($"The validation batch has sequences of length {validation.Length}, the run trains on {length}.", nameof(validation));
        manual_seed(options.InitSeed);
        var model = new SequenceRegressor(kind, 2, options.Hidden);
        using var optimizer = new FastAdam(model.parameters(), options.LearningRate);
        using var solved = new CancellationTokenSource();
        IReadOnlyDictionary<string, double> Validate()
        {
            using var scope = NewDisposeScope();
            var prediction = model.call(validation.Inputs);                 // [validation size]
            var accuracy = AddingProblem.Accuracy(prediction, validation.Targets);
            if (accuracy >= options.SolvedAccuracy) solved.Cancel();      // solved: stop after this epoch
            return new Dictionary<string, double>
            {
                ["val_mse"] = nn.functional.mse_loss(prediction, validation.Targets).item<float>(),
                ["val_acc"] = accuracy,
            };
        }
        var state = Trainer.Fit(model, optimizer, epoch => Batches(length, epoch, options),
            b => nn.functional.mse_loss(model.call(b.Inputs), b.Targets),
            new TrainerOptions(Epochs: options.MaxEpochs, ClipGradNorm: 1.0, LogEvery: 50),
            validate: Validate, progress: progress, cancellationToken: solved.Token);
        if (state.History.Epochs.Count == 0)
            throw new InvalidOperationException("No epoch finished, so there is no validation score; raise MaxEpochs or StepsPerEpoch.");
        var final = state.History.Epochs[^1].Metrics;
        return new AddingRun(model, final["val_acc"], final["val_mse"], state);
    }
}
