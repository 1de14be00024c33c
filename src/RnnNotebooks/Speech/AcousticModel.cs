using RnnNotebooks.Models;
using RnnNotebooks.Platform;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace RnnNotebooks.Speech;

/// <summary>Sizes of an <see cref="AcousticModel"/>. Saved with its checkpoint.</summary>
/// <param name="InputSize">Features per frame (40 log-mel).</param>
/// <param name="Classes">Output classes, blank included (<see cref="Text.Vocabulary.Size"/> of <see cref="Text.Vocabulary.ForCtc"/>).</param>
/// <param name="ConvChannels">Channels of the two 1-D convolutions.</param>
/// <param name="Subsampling">Time subsampling of the convolutions: 1, 2 or 4 (stride 2 in none, the first, or both).</param>
/// <param name="HiddenSize">Recurrent units per direction.</param>
/// <param name="NumLayers">Stacked bidirectional recurrent layers.</param>
/// <param name="Cell">GRU or LSTM (fused TorchSharp layers).</param>
/// <param name="Dropout">Dropout after the convolutions, between recurrent layers and before the output layer.</param>
/// <remarks>Introduced in 05-speech-recognition.</remarks>
public sealed record AcousticModelOptions(
    int InputSize = 40,
    int Classes = 17,
    int ConvChannels = 128,
    int Subsampling = 2,
    int HiddenSize = 128,
    int NumLayers = 2,
    RecurrentCell Cell = RecurrentCell.Gru,
    double Dropout = 0.15)
{
    internal void Validate()
    {
        if (InputSize < 1 || Classes < 2 || ConvChannels < 1 || HiddenSize < 1 || NumLayers < 1)
            throw new ArgumentException($"Acoustic model sizes must be positive (Classes ≥ 2): {this}.");
        if (Subsampling is not (1 or 2 or 4))
            throw new ArgumentException($"Subsampling must be 1, 2 or 4, got {Subsampling}.");
        if (Cell == RecurrentCell.Rnn) throw new ArgumentException("The acoustic model uses a GRU or an LSTM.");
        if (Dropout is < 0 or >= 1) throw new ArgumentException($"Dropout must be in [0, 1), got {Dropout}.");
    }
}

/// <summary>
/// A CTC acoustic model: two 1-D convolutions over time (with 1×, 2× or 4× subsampling) → a stack of
/// bidirectional GRU/LSTM layers → a linear layer → log_softmax over the characters and the blank.
/// <c>[batch, frames, features]</c> + lengths → <c>[batch, frames / subsampling, classes]</c>.
/// </summary>
/// <remarks>
/// Padded batches are packed (<c>pack_padded_sequence</c>) before the recurrent layers, so the backward
/// direction of a short utterance starts at its own last frame, not in the padding; a batch of one gives the
/// same result as that utterance inside a batch. In training a GRU runs <see cref="FusedGru.ForwardBidirectional"/>
/// on the padded batch instead, to the same effect (each utterance reversed within its length for the backward
/// direction) at half the cost of an update.
/// state_dict keys: <c>conv1.*</c>, <c>conv2.*</c>, <c>rnn.*</c> (TorchSharp's names), <c>output.*</c>.
/// Introduced in 05-speech-recognition.
/// </remarks>
public sealed class AcousticModel : nn.Module<Tensor, Tensor, Tensor>
{
    private readonly Conv1d conv1;
    private readonly Conv1d conv2;
    private readonly nn.Module rnn;
    private readonly Dropout dropout;
    private readonly Linear output;
    private readonly int stride1;
    private readonly int stride2;

    public AcousticModel(AcousticModelOptions options) : base(nameof(AcousticModel))
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        Options = options;
        stride1 = options.Subsampling >= 2 ? 2 : 1;
        stride2 = options.Subsampling == 4 ? 2 : 1;
        conv1 = nn.Conv1d(options.InputSize, options.ConvChannels, 5, stride: stride1, padding: 2);
        conv2 = nn.Conv1d(options.ConvChannels, options.ConvChannels, 5, stride: stride2, padding: 2);
        var layerDropout = options.NumLayers > 1 ? options.Dropout : 0;
        rnn = options.Cell == RecurrentCell.Lstm
            ? nn.LSTM(options.ConvChannels, options.HiddenSize, options.NumLayers, batchFirst: true, dropout: layerDropout, bidirectional: true)
            : nn.GRU(options.ConvChannels, options.HiddenSize, options.NumLayers, batchFirst: true, dropout: layerDropout, bidirectional: true);
        dropout = nn.Dropout(options.Dropout);
        output = nn.Linear(2 * options.HiddenSize, options.Classes);
        RegisterComponents();
    }

    /// <summary>The sizes this model was built with.</summary>
    public AcousticModelOptions Options { get; }

    /// <summary>Output frames for <paramref name="inputFrames"/> input frames (each convolution: ⌊(n − 1) / stride⌋ + 1).</summary>
    public long OutputLength(long inputFrames) => (inputFrames - 1) / stride1 / stride2 + 1;

    /// <summary><see cref="OutputLength"/> of every element of an int64 lengths tensor.</summary>
    public Tensor OutputLengths(Tensor inputLengths)
    {
        ArgumentNullException.ThrowIfNull(inputLengths);
        // Computed in C#: tensor arithmetic with numbers makes implicit Scalars, which TorchSharp 0.107 can free
        // during the call (Platform.Scalars), and this runs for every utterance.
        long[] lengths;
        using (NewDisposeScope())   // frees what cpu() and to() make, never the caller's tensor
            lengths = inputLengths.cpu().to(ScalarType.Int64).data<long>().ToArray();
        return tensor(lengths.Select(OutputLength).ToArray());
    }

    /// <summary>1 for frames before each length, 0 after: <c>[batch, frames]</c>, float32.</summary>
    static Tensor FrameMask(Tensor lengths, long frames)
    {
        using Scalar start = 0L.ToScalar(), stop = frames.ToScalar(), step = 1L.ToScalar();   // no implicit Scalars (Platform.Scalars)
        return arange(start, stop, step, ScalarType.Int64).unsqueeze(0).lt(lengths.unsqueeze(1)).to(ScalarType.Float32);
    }

    /// <summary>Turns libtorch's oneDNN kernels off while this model trains; dispose the result to restore them.</summary>
    /// <remarks>With oneDNN on, training this model gave a NaN loss in some runs and not in others with the same seed
    /// and data (libtorch 2.10 on a 2-core x64 machine: the adaptation tests failed in 4 of 6 runs of their class alone,
    /// and in none of 6 with oneDNN off). Every training loop of the model (<see cref="AsrTraining"/>,
    /// <see cref="SpeakerAdaptation"/>) runs inside this block; the switch is process-wide and counted, so blocks may
    /// nest or overlap.</remarks>
    public static IDisposable TrainingKernels() => TorchKernels.WithoutOneDnn();

    /// <summary>Log probabilities <c>[batch, outFrames, classes]</c> for features <c>[batch, frames, features]</c>
    /// whose true lengths (int64, <c>[batch]</c>) are <paramref name="lengths"/>; frames past a length are padding.</summary>
    public override Tensor forward(Tensor features, Tensor lengths)
    {
        ArgumentNullException.ThrowIfNull(features);
        ArgumentNullException.ThrowIfNull(lengths);
        using var scope = NewDisposeScope();
        lengths = lengths.cpu().to(ScalarType.Int64);
        var lengthValues = lengths.data<long>().ToArray();
        var x = features.transpose(1, 2);                                       // [batch, features, frames]
        x = nn.functional.relu(conv1.call(x));
        // Zero what conv1 computed over padding, so conv2 sees at an utterance's end what it sees alone.
        var midLengths = tensor(lengthValues.Select(n => (n - 1) / stride1 + 1).ToArray());
        x = x.mul(FrameMask(midLengths, x.shape[2]).unsqueeze(1));
        x = nn.functional.relu(conv2.call(x));                                  // [batch, channels, outFrames]
        x = dropout.call(x.transpose(1, 2));                                    // [batch, outFrames, channels]
        var outFrames = x.shape[1];
        var outLengths = tensor(lengthValues.Select(n => Math.Min(OutputLength(n), outFrames)).ToArray());

        var y = rnn is GRU gru && training && is_grad_enabled() && TorchKernels.FusedGru && x.device_type == DeviceType.CPU
            // Training: the same GRU with the hand-written backward through time, which halves the cost of an update
            // against nn.GRU over a packed batch (FusedGru.ForwardBidirectional; same weights, same results to rounding).
            ? FusedGru.ForwardBidirectional(x.transpose(0, 1), outLengths, FusedGru.WeightsOf(gru, Options.NumLayers),
                FusedGru.WeightsOf(gru, Options.NumLayers, reverse: true), Options.NumLayers > 1 ? Options.Dropout : 0,
                training: true).transpose(0, 1)
            : Packed(x, outLengths);                                            // [batch, outFrames, 2·hidden]
        var logits = output.call(dropout.call(y));
        return nn.functional.log_softmax(logits, -1).MoveToOuterDisposeScope();
    }

    /// <summary>The recurrent layers (TorchSharp's) over <paramref name="x"/> <c>[batch, frames, channels]</c> packed by
    /// <paramref name="lengths"/>, padded back to <c>[batch, frames, 2·hidden]</c>.</summary>
    Tensor Packed(Tensor x, Tensor lengths)
    {
        using var packed = nn.utils.rnn.pack_padded_sequence(x, lengths, batch_first: true, enforce_sorted: false);
        var packedOut = rnn switch
        {
            GRU g => g.call(packed).Item1,
            LSTM l => l.call(packed).Item1,
            _ => throw new InvalidOperationException("unreachable"),
        };
        using (packedOut)
            return nn.utils.rnn.pad_packed_sequence(packedOut, batch_first: true, total_length: x.shape[1]).Item1;
    }
}
