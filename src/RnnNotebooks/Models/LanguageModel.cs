using RnnNotebooks.Platform;
using RnnNotebooks.Text;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace RnnNotebooks.Models;

/// <summary>Shape of a <see cref="LanguageModel"/>.</summary>
/// <param name="VocabSize">Token ids in and out.</param>
/// <param name="HiddenSize">Size of each layer's hidden state.</param>
/// <param name="NumLayers">Stacked recurrent layers.</param>
/// <param name="Cell">LSTM, GRU or plain RNN.</param>
/// <param name="EmbeddingSize">Size of the token embedding; null means <paramref name="HiddenSize"/>.</param>
/// <param name="Dropout">Dropout on the embedding, between layers and before the readout (training only).</param>
/// <param name="TieWeights">Use the embedding matrix as the readout matrix (needs embedding size = hidden size).</param>
/// <remarks>Introduced in 03-language-modeling.</remarks>
public sealed record LanguageModelOptions(
    int VocabSize,
    int HiddenSize = 256,
    int NumLayers = 2,
    RecurrentCell Cell = RecurrentCell.Lstm,
    int? EmbeddingSize = null,
    double Dropout = 0.0,
    bool TieWeights = false)
{
    /// <summary>The embedding size in effect.</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public int Embedding => EmbeddingSize ?? HiddenSize;

    internal void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(VocabSize, 1, nameof(VocabSize));
        ArgumentOutOfRangeException.ThrowIfLessThan(HiddenSize, 1, nameof(HiddenSize));
        ArgumentOutOfRangeException.ThrowIfLessThan(NumLayers, 1, nameof(NumLayers));
        ArgumentOutOfRangeException.ThrowIfLessThan(Embedding, 1, nameof(EmbeddingSize));
        if (Dropout is < 0 or >= 1 or double.NaN)
            throw new ArgumentOutOfRangeException(nameof(Dropout), Dropout, "Dropout is a probability in [0, 1).");
        if (TieWeights && Embedding != HiddenSize)
            throw new ArgumentException(
                $"TieWeights needs the embedding size ({Embedding}) to equal the hidden size ({HiddenSize}), because the " +
                "readout reuses the embedding matrix. Leave EmbeddingSize null or set it to HiddenSize.", nameof(TieWeights));
    }

    /// <summary>A rough cost of a training step in floating-point operations, for <c>Threads.ForWorkload</c>.</summary>
    public long TrainingFlops(int batchSize, int steps)
    {
        var gates = Cell switch { RecurrentCell.Lstm => 4L, RecurrentCell.Gru => 3L, _ => 1L };
        long perToken = 0;
        for (var layer = 0; layer < NumLayers; layer++)
            perToken += 2 * gates * HiddenSize * ((layer == 0 ? Embedding : HiddenSize) + HiddenSize);
        perToken += 2L * HiddenSize * VocabSize;
        return 3 * perToken * batchSize * steps;
    }
}

/// <summary>
/// A token-level language model: embedding → dropout → stacked LSTM/GRU/RNN (batch first) → dropout → linear
/// readout to next-token scores. Token ids <c>[batch, steps]</c> → logits <c>[batch, steps, vocab]</c>.
/// </summary>
/// <remarks>
/// state_dict keys: <c>embedding.weight</c>; <c>rnn.weight_ih_l0</c>, <c>rnn.weight_hh_l0</c>,
/// <c>rnn.bias_ih_l0</c>, <c>rnn.bias_hh_l0</c>, … per layer; <c>readout.weight</c> and <c>readout.bias</c>, or,
/// with tied weights, only <c>readoutBias</c> (the readout matrix is <c>embedding.weight</c>).
/// The embedding starts uniform in ±0.1 (small, as it doubles as the readout when tied); the recurrent and
/// linear layers keep TorchSharp's default initialisation.
/// Introduced in 03-language-modeling.
/// </remarks>
public sealed class LanguageModel : nn.Module<Tensor, RecurrentState?, (Tensor Logits, RecurrentState State)>
{
    private readonly Embedding embedding;
    private readonly Dropout dropout;
    private readonly nn.Module rnn;
    private readonly Linear? readout;
    private readonly Parameter? readoutBias;
    private GenerationStep? generationStep;                // buffers for generation, made on first use

    /// <summary>Creates the model, drawing initial weights from torch's generator.</summary>
    public LanguageModel(LanguageModelOptions options) : base(nameof(LanguageModel))
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        Options = options;
        embedding = nn.Embedding(options.VocabSize, options.Embedding);
        using (no_grad()) nn.init.uniform_(embedding.weight, -0.1, 0.1);
        dropout = nn.Dropout(options.Dropout);
        var interLayer = options.NumLayers > 1 ? options.Dropout : 0.0;
        rnn = options.Cell switch
        {
            RecurrentCell.Lstm => nn.LSTM(options.Embedding, options.HiddenSize, options.NumLayers, batchFirst: true, dropout: interLayer),
            RecurrentCell.Gru => nn.GRU(options.Embedding, options.HiddenSize, options.NumLayers, batchFirst: true, dropout: interLayer),
            _ => nn.RNN(options.Embedding, options.HiddenSize, options.NumLayers, batchFirst: true, dropout: interLayer),
        };
        if (options.TieWeights)
            readoutBias = new Parameter(zeros(options.VocabSize));
        else
            readout = nn.Linear(options.HiddenSize, options.VocabSize);
        RegisterComponents();
    }

    /// <summary>The shape this model was created with.</summary>
    public LanguageModelOptions Options { get; }

    /// <summary>Scores for the next token after every step, and the state after the last step.</summary>
    /// <param name="ids">Token ids <c>[batch, steps]</c> (int64).</param>
    /// <param name="state">The state to start from; zeros if null.</param>
    public override (Tensor Logits, RecurrentState State) forward(Tensor ids, RecurrentState? state)
    {
        using var scope = NewDisposeScope();
        var (outputs, next) = HiddenStates(ids, state);
        if (training && Options.Dropout > 0) outputs = dropout.call(outputs);
        var logits = Readout(outputs);                                                 // [batch, steps, vocab]
        return (logits.MoveToOuterDisposeScope(), next.MoveToOuterDisposeScope());
    }

    /// <summary>
    /// The top layer's hidden state after every step <c>[batch, steps, hidden]</c> (before the output dropout)
    /// and the state of every layer after the last step.
    /// </summary>
    public (Tensor Outputs, RecurrentState State) HiddenStates(Tensor ids, RecurrentState? state = null)
    {
        if (ids.dim() != 2)
            throw new ArgumentException(
                $"Expected token ids of shape [batch, steps], got [{string.Join(", ", ids.shape)}]. " +
                "For one sequence use ids.unsqueeze(0).", nameof(ids));
        if (state is not null && state.H.shape[1] != ids.shape[0])
            throw new ArgumentException(
                $"The state is for a batch of {state.H.shape[1]} but the ids have a batch of {ids.shape[0]}. " +
                "Start from null (zeros) when the batch size changes.", nameof(ids));
        using var scope = NewDisposeScope();
        var (outputs, next) = Recur(ids, state);
        return (outputs.MoveToOuterDisposeScope(), next.MoveToOuterDisposeScope());  // [batch, steps, hidden]
    }

    /// <summary>Embedding, dropout (in training only) and the recurrent layers, with no checks and no scope.</summary>
    (Tensor Outputs, RecurrentState State) Recur(Tensor ids, RecurrentState? state)
    {
        var x = embedding.call(ids);                                                   // [batch, steps, embedding]
        if (training && Options.Dropout > 0) x = dropout.call(x);
        switch (rnn)
        {
            case LSTM lstm:
            {
                var (y, h, c) = lstm.call(x, state is null ? null : (state.H, state.C ?? zeros_like(state.H)));
                return (y, new RecurrentState(h, c));
            }
            case GRU gru when training && is_grad_enabled() && TorchKernels.FusedGru && x.device_type == DeviceType.CPU:
            {
                // Training: the GRU with the hand-written backward (same weights, same results, faster products).
                var (y, h) = FusedGru.Forward(x.transpose(0, 1), state?.H, FusedGru.WeightsOf(gru, Options.NumLayers),
                    Options.NumLayers > 1 ? Options.Dropout : 0.0, training: true);
                return (y.transpose(0, 1), new RecurrentState(h, null));
            }
            case GRU gru:
            {
                var (y, h) = gru.call(x, state?.H);
                return (y, new RecurrentState(h, null));
            }
            default:
            {
                var (y, h) = ((RNN)rnn).call(x, state?.H);
                return (y, new RecurrentState(h, null));
            }
        }
    }

    /// <summary>
    /// One step for a batch of single tokens <c>[batch]</c>: next-token logits <c>[batch, vocab]</c> and the new
    /// state. For generation; call it in eval mode under <c>no_grad</c> (and, for speed,
    /// <c>TorchKernels.WithoutOneDnn()</c>).
    /// </summary>
    public (Tensor Logits, RecurrentState State) Step(Tensor tokens, RecurrentState? state)
    {
        // The lean path of forward: generation calls this once per token, where every extra call counts.
        using var scope = NewDisposeScope();
        var (outputs, next) = Recur(tokens.reshape(-1, 1), state);                     // [batch, 1, hidden]
        if (training && Options.Dropout > 0) outputs = dropout.call(outputs);
        var logits = Readout(outputs.squeeze(1));                                      // [batch, vocab]
        return (logits.MoveToOuterDisposeScope(), next.MoveToOuterDisposeScope());
    }

    /// <summary>
    /// The fast one-token step, prepared with the current weights for generating <paramref name="tokens"/> tokens
    /// (owned by this model: do not dispose it), or null when this model has no fast path (training mode, where
    /// dropout would apply, or weights that are not float32 on the CPU) and <see cref="Step"/> is the way.
    /// </summary>
    internal GenerationStep? PrepareGenerationStep(int tokens)
    {
        // The step's buffers are float32 on the CPU, the course's setting; anything else takes the general path.
        if (training || EmbeddingWeight is not { dtype: ScalarType.Float32, device_type: DeviceType.CPU }) return null;
        generationStep ??= new GenerationStep(Options);
        // The table costs one row per vocabulary entry and saves a product per generated token.
        generationStep.Prepare(EmbeddingWeight, rnn, readout?.weight ?? EmbeddingWeight, readout is not null ? readout.bias : readoutBias,
            tabulateInput: tokens >= Options.VocabSize);
        return generationStep;
    }

    /// <summary>Mean cross-entropy (nats per token) of predicting <c>targets</c> from <c>ids</c>, and the final state.</summary>
    public (Tensor Loss, RecurrentState State) Loss(Tensor ids, Tensor targets, RecurrentState? state = null)
    {
        using var scope = NewDisposeScope();
        var (logits, next) = forward(ids, state);
        var loss = nn.functional.cross_entropy(logits.reshape(-1, Options.VocabSize), targets.reshape(-1));
        return (loss.MoveToOuterDisposeScope(), next.MoveToOuterDisposeScope());
    }

    Tensor Readout(Tensor h) => readout is not null
        ? readout.call(h)
        : nn.functional.linear(h, EmbeddingWeight, readoutBias);

    // Embedding.weight makes a new tensor object on every read, which no dispose scope owns (one leaked per call,
    // measured with DisposeScopeManager.Statistics); the registered parameter is the same tensor without that.
    Tensor EmbeddingWeight => embedding.named_parameters().First(p => p.name == "weight").parameter;

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            embedding.Dispose();
            dropout.Dispose();
            rnn.Dispose();
            readout?.Dispose();
            readoutBias?.Dispose();
            generationStep?.Dispose();
        }
        base.Dispose(disposing);
    }
}

/// <summary>
/// The loss function for <c>Trainer.Fit</c> over <see cref="TokenStreams"/>: carries the hidden state from one
/// batch to the next, cut from the graph (truncated backpropagation through time), and starts from zeros
/// whenever a batch does not continue the previous one.
/// </summary>
/// <remarks>
/// The carried state is owned here, outside every dispose scope, and the previous one is freed at each step,
/// so the number of live tensors stays flat. Dispose this object (or call <see cref="Reset"/>) when done.
/// Introduced in 03-language-modeling.
/// </remarks>
public sealed class CarriedStateLoss(LanguageModel model) : IDisposable
{
    RecurrentState? state;

    /// <summary>The state carried into the next batch (detached), or null before the first batch and after a reset.</summary>
    public RecurrentState? State => state;

    /// <summary>Mean cross-entropy of the batch, starting from the carried state; keeps the new state, detached.</summary>
    public Tensor Compute(TokenBatch batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        if (!batch.ContinuesPrevious) Reset();
        var (loss, next) = model.Loss(batch.Inputs, batch.Targets, state);
        using (var scope = NewDisposeScope())
        {
            var kept = next.Detach();
            scope.Detach(kept.H);
            if (kept.C is not null) scope.Detach(kept.C);
            state?.Dispose();
            state = kept;
        }
        return loss;
    }

    /// <summary>
    /// Carries <paramref name="carried"/> into the next batch (e.g. the state a checkpoint saved in the middle of
    /// an epoch); takes ownership of it.
    /// </summary>
    public void Restore(RecurrentState carried)
    {
        ArgumentNullException.ThrowIfNull(carried);
        var (layers, hidden) = (model.Options.NumLayers, model.Options.HiddenSize);
        if (carried.H.dim() != 3 || carried.H.shape[0] != layers || carried.H.shape[2] != hidden)
            throw new ArgumentException(
                $"A carried state of shape [{string.Join(", ", carried.H.shape)}] does not fit a {layers}×{hidden} model.", nameof(carried));
        if ((carried.C is null) != (model.Options.Cell != RecurrentCell.Lstm))
            throw new ArgumentException($"A {model.Options.Cell} model needs {(carried.C is null ? "a cell state" : "no cell state")}.", nameof(carried));
        Reset();
        state = carried;
    }

    /// <summary>Drops the carried state: the next batch starts from zeros.</summary>
    public void Reset()
    {
        state?.Dispose();
        state = null;
    }

    /// <summary>Frees the carried state.</summary>
    public void Dispose() => Reset();
}
