using TorchSharp;
using RnnNotebooks.Text;
using static TorchSharp.torch;

namespace RnnNotebooks.Speech;

/// <summary>A padded batch of utterances for CTC training.</summary>
/// <param name="Features">Zero-padded features <c>[batch, maxFrames, dims]</c>.</param>
/// <param name="Lengths">True frame counts <c>[batch]</c>, int64.</param>
/// <param name="Targets">All transcripts' labels concatenated <c>[sum of target lengths]</c>, int64, no blanks.</param>
/// <param name="TargetLengths">Labels per transcript <c>[batch]</c>, int64.</param>
/// <param name="Transcripts">The transcripts as text.</param>
/// <remarks>Introduced in 05-speech-recognition.</remarks>
public sealed record SpeechBatch(Tensor Features, Tensor Lengths, Tensor Targets, Tensor TargetLengths, IReadOnlyList<string> Transcripts)
{
    /// <summary>Pads <paramref name="features"/> (each <c>[frames, dims]</c>) and encodes <paramref name="transcripts"/>.</summary>
    /// <param name="features">Each utterance's features.</param>
    /// <param name="transcripts">Each utterance's transcript.</param>
    /// <param name="characters">Encodes the transcripts.</param>
    public static SpeechBatch Create(IReadOnlyList<Tensor> features, IReadOnlyList<string> transcripts, Vocabulary characters)
    {
        ArgumentNullException.ThrowIfNull(features);
        ArgumentNullException.ThrowIfNull(transcripts);
        ArgumentNullException.ThrowIfNull(characters);
        if (features.Count == 0 || features.Count != transcripts.Count)
            throw new ArgumentException($"Need one transcript per utterance and at least one utterance; got {features.Count} and {transcripts.Count}.");
        var padded = nn.utils.rnn.pad_sequence(features, batch_first: true);
        var lengths = tensor(features.Select(f => f.shape[0]).ToArray());
        var labels = transcripts.Select(characters.Encode).ToArray();
        var targets = tensor(labels.SelectMany(l => l.Select(x => (long)x)).ToArray());
        var targetLengths = tensor(labels.Select(l => (long)l.Length).ToArray());
        return new SpeechBatch(padded, lengths, targets, targetLengths, transcripts);
    }

    /// <summary>The tensors the batch owns.</summary>
    public IEnumerable<Tensor> Tensors => [Features, Lengths, Targets, TargetLengths];

    /// <summary>Utterances in the batch.</summary>
    public int Count => Transcripts.Count;

    /// <summary>The mean CTC loss of <paramref name="model"/> on this batch (each utterance's −log P divided by
    /// its transcript length, then averaged; impossible alignments count as zero).</summary>
    public Tensor Loss(AcousticModel model)
    {
        ArgumentNullException.ThrowIfNull(model);
        using var scope = NewDisposeScope();
        var logProbs = model.call(Features, Lengths);                           // [batch, outFrames, classes]
        var loss = nn.functional.ctc_loss(logProbs.transpose(0, 1), Targets, model.OutputLengths(Lengths), TargetLengths,
            blank: Vocabulary.Blank, zero_infinity: true);
        return loss.MoveToOuterDisposeScope();
    }
}
