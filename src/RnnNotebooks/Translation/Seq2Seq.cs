using RnnNotebooks.Decoding;
using RnnNotebooks.Platform;
using RnnNotebooks.Text;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace RnnNotebooks.Translation;

/// <summary>Shape of a <see cref="Seq2Seq"/> model.</summary>
/// <param name="SourceVocab">Source vocabulary size.</param>
/// <param name="TargetVocab">Target vocabulary size.</param>
/// <param name="EmbeddingSize">Word embedding size (both sides).</param>
/// <param name="HiddenSize">Hidden size of each encoder direction and of the decoder.</param>
/// <param name="Attention">Attention of the decoder.</param>
/// <param name="Dropout">Dropout on embeddings and on the decoder's output features.</param>
/// <remarks>Introduced in 04-machine-translation.</remarks>
public sealed record Seq2SeqOptions(
    int SourceVocab,
    int TargetVocab,
    int EmbeddingSize = 256,
    int HiddenSize = 256,
    AttentionKind Attention = AttentionKind.Additive,
    double Dropout = 0.2)
{
    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> naming the first property out of range.</summary>
    public void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(SourceVocab, 5, nameof(SourceVocab));
        ArgumentOutOfRangeException.ThrowIfLessThan(TargetVocab, 5, nameof(TargetVocab));
        ArgumentOutOfRangeException.ThrowIfLessThan(EmbeddingSize, 1, nameof(EmbeddingSize));
        ArgumentOutOfRangeException.ThrowIfLessThan(HiddenSize, 1, nameof(HiddenSize));
        if (!Enum.IsDefined(Attention))
            throw new ArgumentOutOfRangeException(nameof(Attention), Attention, "Attention must be additive, dot or none.");
        if (Dropout is < 0 or >= 1 or double.NaN)
            throw new ArgumentOutOfRangeException(nameof(Dropout), Dropout, "Dropout is a probability in [0, 1).");
    }
}

/// <summary>
/// What the encoder computed for a batch of sources; reused by every decoder step.
/// </summary>
/// <param name="Outputs">Encoder outputs <c>[batch, srcSteps, 2·hidden]</c> (zero at padding).</param>
/// <param name="Keys">Attention keys prepared from the outputs, or null without attention.</param>
/// <param name="Mask">True at real source positions <c>[batch, srcSteps]</c>.</param>
/// <param name="Summary">Final forward and backward states, concatenated <c>[batch, 2·hidden]</c>.</param>
/// <param name="InitialHidden">The decoder's first state <c>[batch, hidden]</c>.</param>
/// <remarks>Introduced in 04-machine-translation.</remarks>
public sealed record EncodedSource(Tensor Outputs, Tensor? Keys, Tensor Mask, Tensor Summary, Tensor InitialHidden) : IDisposable
{
    /// <summary>Disposes the tensors.</summary>
    public void Dispose()
    {
        Outputs.Dispose();
        Keys?.Dispose();
        Mask.Dispose();
        Summary.Dispose();
        InitialHidden.Dispose();
    }
}

/// <summary>
/// An encoder–decoder translation model: a bidirectional GRU encoder over the padded source (packed, so padding
/// never enters a state), and a GRU decoder that at each step reads the previous word and a context vector (from
/// <see cref="Translation.Attention"/> over the encoder outputs, or the source summary without attention), then
/// scores the next word from its state, the context and the previous word.
/// </summary>
/// <remarks>
/// state_dict keys: <c>sourceEmbedding.weight</c>, <c>encoder.*</c> (nn.GRU, bidirectional), <c>bridge.*</c>,
/// <c>targetEmbedding.weight</c>, <c>decoderCell.*</c> (nn.GRUCell), <c>attention.*</c> (with attention),
/// <c>combine.*</c>, <c>readout.*</c>.
/// Introduced in 04-machine-translation.
/// </remarks>
public sealed class Seq2Seq : nn.Module<TranslationBatch, Tensor>
{
    private readonly Embedding sourceEmbedding;
    private readonly GRU encoder;
    private readonly Linear bridge;
    private readonly Embedding targetEmbedding;
    private readonly GRUCell decoderCell;
    private readonly Attention? attention;
    private readonly Linear combine;
    private readonly Linear readout;
    private readonly Dropout dropout;

    /// <summary>Creates the model with TorchSharp's default initialisation, from torch's generator.</summary>
    public Seq2Seq(Seq2SeqOptions options) : base(nameof(Seq2Seq))
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        Options = options;
        int e = options.EmbeddingSize, h = options.HiddenSize;
        sourceEmbedding = nn.Embedding(options.SourceVocab, e, padding_idx: Vocabulary.Pad);
        encoder = nn.GRU(e, h, batchFirst: true, bidirectional: true);
        bridge = nn.Linear(2 * h, h);
        targetEmbedding = nn.Embedding(options.TargetVocab, e, padding_idx: Vocabulary.Pad);
        decoderCell = nn.GRUCell(e + 2 * h, h);
        attention = Attention.Create(options.Attention, h, 2 * h, h);
        combine = nn.Linear(h + 2 * h + e, h);
        readout = nn.Linear(h, options.TargetVocab);
        dropout = nn.Dropout(options.Dropout);
        RegisterComponents();
    }

    /// <summary>The shape this model was created with.</summary>
    public Seq2SeqOptions Options { get; }

    /// <summary>Teacher-forced scores <c>[batch, tgtSteps, targetVocab]</c> for <see cref="TranslationBatch.TargetOutput"/>.</summary>
    public override Tensor forward(TranslationBatch batch) => Forward(batch).Logits;

    /// <summary>The masked cross-entropy of a batch under teacher forcing.</summary>
    public Tensor Loss(TranslationBatch batch, double labelSmoothing = 0)
    {
        using var scope = NewDisposeScope();
        var logits = forward(batch);
        return scope.MoveToOuter(SequenceLoss.MaskedCrossEntropy(logits, batch.TargetOutput, batch.TargetMask, labelSmoothing));
    }

    /// <summary>
    /// Teacher forcing: the decoder reads the reference words (<see cref="TranslationBatch.TargetInput"/>), not its
    /// own guesses. Returns the scores <c>[batch, tgtSteps, vocab]</c> and the attention weights
    /// <c>[batch, tgtSteps, srcSteps]</c> (null without attention).
    /// </summary>
    public (Tensor Logits, Tensor? Weights) Forward(TranslationBatch batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        using var scope = NewDisposeScope();
        var source = Encode(batch.Source, batch.SourceLengths);
        var embedded = dropout.call(targetEmbedding.call(batch.TargetInput));           // [batch, tgtSteps, emb]
        var hidden = source.InitialHidden;
        var features = new List<Tensor>();
        var weights = new List<Tensor>();
        foreach (var word in embedded.unbind(1))
        {
            var (feature, newHidden, w) = Step(word, hidden, source);
            features.Add(feature);
            if (w is not null) weights.Add(w);
            hidden = newHidden;
        }
        var logits = readout.call(stack(features, 1));                                  // [batch, tgtSteps, vocab]
        return weights.Count > 0 ? scope.MoveToOuter(logits, stack(weights, 1)) : (scope.MoveToOuter(logits), null);
    }

    /// <summary>Runs the encoder over padded source ids <c>[batch, srcSteps]</c> with their real lengths.</summary>
    public EncodedSource Encode(Tensor source, Tensor lengths)
    {
        using var scope = NewDisposeScope();
        var steps = source.shape[1];
        var embedded = dropout.call(sourceEmbedding.call(source));                      // [batch, srcSteps, emb]
        var packed = nn.utils.rnn.pack_padded_sequence(embedded, lengths.cpu(), batch_first: true, enforce_sorted: false);
        var (packedOutputs, final) = encoder.call(packed);
        var (outputs, _) = nn.utils.rnn.pad_packed_sequence(packedOutputs, batch_first: true, total_length: steps);
        var summary = cat([final[0], final[1]], 1);                                    // [batch, 2·hidden]
        var initial = bridge.call(summary).tanh();                                      // [batch, hidden]
        var keys = attention?.PrepareKeys(outputs);
        var mask = source.ne(Vocabulary.PadScalar);
        var result = new EncodedSource(outputs, keys, mask, summary, initial);
        scope.MoveToOuter(keys is null ? [outputs, mask, summary, initial] : [outputs, keys, mask, summary, initial]);
        return result;
    }

    /// <summary>
    /// One decoder step: the previous word's embedding <c>[n, emb]</c> and state <c>[n, hidden]</c> → output features
    /// <c>[n, hidden]</c> (before the readout), the new state, and the attention weights <c>[n, srcSteps]</c>.
    /// <paramref name="source"/> may have batch n or 1 (shared by n beams).
    /// </summary>
    (Tensor Feature, Tensor Hidden, Tensor? Weights) Step(Tensor word, Tensor hidden, EncodedSource source)
    {
        using var scope = NewDisposeScope();
        Tensor context, weights = null!;
        if (attention is null)
            context = source.Summary.expand(word.shape[0], -1);
        else
            (context, weights) = attention.Attend(hidden, source.Keys!, source.Outputs, source.Mask);
        var newHidden = decoderCell.call(cat([word, context], 1), hidden);
        var feature = dropout.call(combine.call(cat([newHidden, context, word], 1)).tanh());
        return attention is null
            ? (scope.MoveToOuter(feature), scope.MoveToOuter(newHidden), null)
            : scope.MoveToOuter(feature, newHidden, weights);
    }

    /// <summary>Log-probabilities of the next word <c>[n, vocab]</c> after <paramref name="lastTokens"/> <c>[n]</c>.</summary>
    public (Tensor LogProbs, Tensor Hidden, Tensor? Weights) DecodeStep(Tensor lastTokens, Tensor hidden, EncodedSource source)
    {
        using var scope = NewDisposeScope();
        var (feature, newHidden, weights) = Step(targetEmbedding.call(lastTokens), hidden, source);
        var logProbs = readout.call(feature).log_softmax(-1);
        return weights is null
            ? (scope.MoveToOuter(logProbs), scope.MoveToOuter(newHidden), null)
            : scope.MoveToOuter(logProbs, newHidden, weights);
    }

    /// <summary>
    /// Greedy decoding of a batch (no teacher forcing: each step reads the model's own previous word) until every
    /// sentence produced <c>&lt;eos&gt;</c> or <paramref name="maxLength"/> words. Returns the ids (without
    /// <c>&lt;eos&gt;</c>) and, with attention, each sentence's weights <c>[outSteps, srcSteps]</c>.
    /// Runs with oneDNN off (see <see cref="DecodingKernels"/>).
    /// </summary>
    public (IReadOnlyList<long[]> Ids, IReadOnlyList<double[,]>? Attention) Greedy(Tensor source, Tensor lengths, int maxLength)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        using var kernels = DecodingKernels();
        using var encoded = Encode(source, lengths);
        var n = (int)source.shape[0];
        var srcSteps = (int)source.shape[1];
        var outputs = Enumerable.Range(0, n).Select(_ => new List<long>()).ToArray();
        var attentionRows = Enumerable.Range(0, n).Select(_ => new List<float[]>()).ToArray();
        var done = new bool[n];
        var last = full(n, Vocabulary.BosScalar, ScalarType.Int64);
        var hidden = encoded.InitialHidden;
        for (var t = 0; t < maxLength && done.Contains(false); t++)
        {
            var (logProbs, newHidden, weights) = DecodeStep(last, hidden, encoded);
            last = logProbs.argmax(-1);
            var ids = last.data<long>().ToArray();
            var w = weights?.data<float>().ToArray();
            for (var i = 0; i < n; i++)
            {
                if (done[i]) continue;
                if (w is not null) attentionRows[i].Add(w[(i * srcSteps)..((i + 1) * srcSteps)]);
                if (ids[i] == Vocabulary.Eos) done[i] = true;
                else outputs[i].Add(ids[i]);
            }
            hidden = newHidden;
        }
        IReadOnlyList<double[,]>? maps = attention is null ? null : [.. attentionRows.Select(ToMatrix)];
        return ([.. outputs.Select(o => o.ToArray())], maps);
    }

    /// <summary>Beam search for one source sentence <c>[1, srcSteps]</c>; see <see cref="BeamSearch"/>. Runs with
    /// oneDNN off (see <see cref="DecodingKernels"/>).</summary>
    public IReadOnlyList<BeamHypothesis> Beam(Tensor source, Tensor lengths, int beamSize, int maxLength, double lengthAlpha = 0.6)
    {
        if (source.shape[0] != 1)
            throw new ArgumentException($"Beam search decodes one sentence at a time; got a batch of {source.shape[0]}.", nameof(source));
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        using var kernels = DecodingKernels();
        using var encoded = Encode(source, lengths);
        return BeamSearch.Search(
            encoded.InitialHidden,
            (hidden, last) =>
            {
                var (logProbs, newHidden, _) = DecodeStep(last, hidden, encoded);
                return (logProbs, newHidden);
            },
            (hidden, rows) => hidden.index_select(0, rows),
            new BeamSearchOptions(Vocabulary.Bos, Vocabulary.Eos, beamSize, maxLength, lengthAlpha),
            hidden => [hidden]);
    }

    /// <summary>
    /// Beam search for a batch of sources <c>[batch, srcSteps]</c> at once (<see cref="BeamSearch.SearchBatch"/>):
    /// every beam of every sentence is a row of one decoder step. Returns, per sentence, what <see cref="Beam"/>
    /// returns for it alone, up to float rounding. Runs with oneDNN off (see <see cref="DecodingKernels"/>).
    /// </summary>
    public IReadOnlyList<IReadOnlyList<BeamHypothesis>> BeamBatch(Tensor source, Tensor lengths, int beamSize, int maxLength,
        double lengthAlpha = 0.6)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        using var kernels = DecodingKernels();
        using var encoded = Encode(source, lengths);
        return BeamSearch.SearchBatch(
            new BeamRows(encoded.InitialHidden, encoded),
            (int)source.shape[0],
            (rows, last) =>
            {
                var (logProbs, newHidden, _) = DecodeStep(last, rows.Hidden, rows.Source);
                return (logProbs, rows with { Hidden = newHidden });
            },
            (rows, indices) => rows.Select(indices),
            new BeamSearchOptions(Vocabulary.Bos, Vocabulary.Eos, beamSize, maxLength, lengthAlpha),
            rows => rows.Tensors);
    }

    /// <summary>The decoder state of a batched beam search: each row's hidden state and its sentence's encoding.</summary>
    sealed record BeamRows(Tensor Hidden, EncodedSource Source)
    {
        public BeamRows Select(Tensor rows) => new(Hidden.index_select(0, rows), new EncodedSource(
            Source.Outputs.index_select(0, rows), Source.Keys?.index_select(0, rows), Source.Mask.index_select(0, rows),
            Source.Summary.index_select(0, rows), Source.InitialHidden.index_select(0, rows)));

        public IEnumerable<Tensor> Tensors =>
            new[] { Hidden, Source.Outputs, Source.Keys, Source.Mask, Source.Summary, Source.InitialHidden }.OfType<Tensor>();
    }

    /// <summary>
    /// The kernels decoding runs with: oneDNN off until disposed. Decoding encodes small batches (one sentence for
    /// beam search) and then steps a cell a word at a time; oneDNN's fused GRU re-lays out the encoder's weights on
    /// every call, which at these sizes costs more than it saves (as for text generation, see
    /// <see cref="TextGeneration"/>). Training keeps oneDNN.
    /// </summary>
    static IDisposable DecodingKernels() => TorchKernels.WithoutOneDnn();

    static double[,] ToMatrix(List<float[]> rows)
    {
        var m = new double[rows.Count, rows.Count == 0 ? 0 : rows[0].Length];
        for (var i = 0; i < rows.Count; i++)
            for (var j = 0; j < rows[i].Length; j++) m[i, j] = rows[i][j];
        return m;
    }

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            sourceEmbedding.Dispose();
            encoder.Dispose();
            bridge.Dispose();
            targetEmbedding.Dispose();
            decoderCell.Dispose();
            attention?.Dispose();
            combine.Dispose();
            readout.Dispose();
            dropout.Dispose();
        }
        base.Dispose(disposing);
    }
}
