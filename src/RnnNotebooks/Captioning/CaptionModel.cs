using RnnNotebooks.Platform;
using RnnNotebooks.Decoding;
using RnnNotebooks.Text;
using RnnNotebooks.Translation;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace RnnNotebooks.Captioning;

/// <summary>Sizes and switches of a <see cref="CaptionModel"/>.</summary>
/// <param name="Vocab">Caption vocabulary size.</param>
/// <param name="Attention">True: Show, Attend and Tell (soft attention over the regions at every word). False:
/// Show and Tell (the pooled vector only initialises the LSTM).</param>
/// <param name="Embedding">Word embedding size.</param>
/// <param name="Hidden">LSTM state size.</param>
/// <param name="AttentionSize">Size of the additive attention's hidden layer.</param>
/// <param name="FeatureSize">Length of an encoder feature vector (512 for ResNet-18).</param>
/// <param name="Dropout">Dropout before the output layer.</param>
/// <param name="DoublyStochastic">λ of the regulariser λ · mean_i (1 − Σ_t α_ti)², which pushes the decoder to look at
/// every region about once over the caption. It is averaged over the 49 regions (the paper sums) because the
/// cross-entropy here is averaged over words (the paper sums it too); summing one and averaging the other would
/// let the regulariser outweigh the words about 40 to 1.</param>
/// <remarks>Introduced in 06-image-captioning.</remarks>
public sealed record CaptionModelOptions(int Vocab, bool Attention = true, int Embedding = 256, int Hidden = 512,
    int AttentionSize = 256, int FeatureSize = 512, double Dropout = 0.5, double DoublyStochastic = 1.0)
{
    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> naming the first property out of range.</summary>
    public void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(Vocab, 4, nameof(Vocab));
        ArgumentOutOfRangeException.ThrowIfLessThan(Embedding, 1, nameof(Embedding));
        ArgumentOutOfRangeException.ThrowIfLessThan(Hidden, 1, nameof(Hidden));
        ArgumentOutOfRangeException.ThrowIfLessThan(AttentionSize, 1, nameof(AttentionSize));
        ArgumentOutOfRangeException.ThrowIfLessThan(FeatureSize, 1, nameof(FeatureSize));
        if (Dropout is < 0 or >= 1 or double.NaN)
            throw new ArgumentOutOfRangeException(nameof(Dropout), Dropout, "Dropout is a probability in [0, 1).");
        if (!(DoublyStochastic >= 0 && double.IsFinite(DoublyStochastic)))
            throw new ArgumentOutOfRangeException(nameof(DoublyStochastic), DoublyStochastic, "DoublyStochastic (λ) must be 0 or more.");
    }
}

/// <summary>The output of teacher-forced decoding.</summary>
/// <param name="Logits">Next-word scores <c>[batch, steps, vocab]</c>.</param>
/// <param name="Alphas">Attention weights <c>[batch, steps, regions]</c> (null without attention).</param>
/// <remarks>Introduced in 06-image-captioning.</remarks>
public sealed record CaptionOutput(Tensor Logits, Tensor? Alphas);

/// <summary>The LSTM state of a caption decoder: hidden and cell <c>[batch, hidden]</c>.</summary>
/// <remarks>Introduced in 06-image-captioning.</remarks>
public sealed record CaptionState(Tensor H, Tensor C);

/// <summary>
/// An LSTM caption decoder over encoder features <c>[batch, 49, 512]</c>: Show and Tell (Vinyals et al., 2015)
/// or, with <see cref="CaptionModelOptions.Attention"/>, Show, Attend and Tell (Xu et al., 2015).
/// </summary>
/// <remarks>
/// Both start from <c>h0, c0 = tanh(W · mean of the regions)</c>. With attention, each step computes additive
/// attention weights α over the regions from the previous hidden state, a context <c>z = β · Σ α_i a_i</c> with a
/// learned gate <c>β = σ(W_β h)</c> (the paper found it makes the attention sharper), and feeds
/// <c>[embedding; z]</c> to the LSTM. The next word is predicted from the new hidden state.
/// state_dict keys: <c>embedding</c>, <c>initH</c>, <c>initC</c>, <c>cell</c>, <c>attention</c>, <c>gate</c>, <c>output</c>.
/// Introduced in 06-image-captioning.
/// </remarks>
public sealed class CaptionModel : nn.Module<CaptionBatch, Tensor>
{
    private readonly Embedding embedding;
    private readonly Linear initH;
    private readonly Linear initC;
    private readonly LSTMCell cell;
    private readonly AdditiveAttention? attention;
    private readonly Linear? gate;
    private readonly Linear output;
    private readonly Dropout dropout;

    /// <summary>Creates the model with fresh weights.</summary>
    public CaptionModel(CaptionModelOptions options) : base(nameof(CaptionModel))
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        Options = options;
        embedding = nn.Embedding(options.Vocab, options.Embedding, padding_idx: Vocabulary.Pad);
        initH = nn.Linear(options.FeatureSize, options.Hidden);
        initC = nn.Linear(options.FeatureSize, options.Hidden);
        cell = nn.LSTMCell(options.Embedding + (options.Attention ? options.FeatureSize : 0), options.Hidden);
        if (options.Attention)
        {
            attention = new AdditiveAttention(options.Hidden, options.FeatureSize, options.AttentionSize);
            gate = nn.Linear(options.Hidden, options.FeatureSize);
        }
        output = nn.Linear(options.Hidden, options.Vocab);
        dropout = nn.Dropout(options.Dropout);
        RegisterComponents();
    }

    /// <summary>The sizes it was built with.</summary>
    public CaptionModelOptions Options { get; }

    /// <summary>Teacher-forced logits <c>[batch, steps, vocab]</c> of a batch.</summary>
    public override Tensor forward(CaptionBatch batch) => Forward(batch.Features, batch.Input).Logits;

    /// <summary>The decoder's state before the first word, from the mean of the regions.</summary>
    public CaptionState Start(Tensor features)
    {
        using var scope = NewDisposeScope();
        var mean = features.mean([1]);                                  // [batch, feature]
        return new CaptionState(scope.MoveToOuter(initH.call(mean).tanh()), scope.MoveToOuter(initC.call(mean).tanh()));
    }

    /// <summary>Attention keys <c>[batch, 49, attentionSize]</c>, computed once per image (null without attention).</summary>
    public Tensor? PrepareKeys(Tensor features) => attention?.PrepareKeys(features);

    /// <summary>
    /// One decoder step: the previous words <c>[batch]</c> and state → next-word logits <c>[batch, vocab]</c>,
    /// the new state and the attention weights <c>[batch, 49]</c> (null without attention). Features and keys of
    /// batch 1 broadcast over many beams.
    /// </summary>
    public (Tensor Logits, CaptionState State, Tensor? Alpha) Step(Tensor features, Tensor? keys, CaptionState state, Tensor words)
    {
        using var scope = NewDisposeScope();
        var embedded = embedding.call(words);                           // [batch, embedding]
        var input = embedded;
        Tensor? alpha = null;
        if (attention is not null)
        {
            var mask = ones(features.shape[0], features.shape[1], dtype: ScalarType.Bool);
            var (context, weights) = attention.Attend(state.H, keys!, features, mask);   // [batch, feature], [batch, 49]
            context = context.mul(gate!.call(state.H).sigmoid());
            input = cat([input, context], 1);
            alpha = weights;
        }
        var (h, c) = cell.call(input, (state.H, state.C));
        var logits = output.call(dropout.call(h));
        return (scope.MoveToOuter(logits), new CaptionState(scope.MoveToOuter(h), scope.MoveToOuter(c)),
            alpha is null ? null : scope.MoveToOuter(alpha));
    }

    /// <summary>Teacher-forced decoding of <paramref name="input"/> <c>[batch, steps]</c> over <paramref name="features"/>.</summary>
    public CaptionOutput Forward(Tensor features, Tensor input)
    {
        using var scope = NewDisposeScope();
        var keys = PrepareKeys(features);
        var state = Start(features);
        var logits = new List<Tensor>();
        var alphas = new List<Tensor>();
        foreach (var words in input.unbind(1))
        {
            var (l, s, a) = Step(features, keys, state, words);
            logits.Add(l);
            if (a is not null) alphas.Add(a);
            state = s;
        }
        var all = stack(logits, 1);                                     // [batch, steps, vocab]
        var att = alphas.Count > 0 ? stack(alphas, 1) : null;           // [batch, steps, 49]
        return new CaptionOutput(scope.MoveToOuter(all), att is null ? null : scope.MoveToOuter(att));
    }

    /// <summary>
    /// The training loss of a batch: mean cross-entropy per real token, plus (with attention) the doubly
    /// stochastic regulariser λ · mean over batch and regions of (1 − Σ_t α_ti)².
    /// </summary>
    public Tensor Loss(CaptionBatch batch)
    {
        using var scope = NewDisposeScope();
        var (logits, alphas) = Forward(batch.Features, batch.Input);
        var loss = nn.functional.cross_entropy(logits.flatten(0, 1), batch.Target.flatten(), ignore_index: Vocabulary.Pad);
        if (alphas is not null && Options.DoublyStochastic > 0)
        {
            var attended = alphas.mul(batch.Mask.unsqueeze(-1)).sum(1);            // [batch, 49]
            // (1 − Σ_t α)², with every Scalar explicit (Platform.Scalars)
            using var weight = Options.DoublyStochastic.ToScalar();
            var gap = attended.neg().add_(Scalars.One, Scalars.One);
            loss = loss.add(gap.mul(gap).mean().mul(weight), Scalars.One);
        }
        return scope.MoveToOuter(loss);
    }

    /// <summary>
    /// Greedy decoding of a batch of images: the most probable word at every step until <c>&lt;eos&gt;</c>, never
    /// <c>&lt;unk&gt;</c> (see <see cref="Speakable"/>).
    /// Returns each image's word ids (without <c>&lt;eos&gt;</c>) and its attention weights per word <c>[words, 49]</c>
    /// (empty without attention).
    /// </summary>
    public IReadOnlyList<(long[] Tokens, float[][] Alphas)> Greedy(Tensor features, int maxLength = 20)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var wasTraining = training;
        eval();
        try
        {
            var b = (int)features.shape[0];
            var keys = PrepareKeys(features);
            var state = Start(features);
            var words = full(b, Vocabulary.BosScalar, dtype: ScalarType.Int64);
            var tokens = Enumerable.Range(0, b).Select(_ => new List<long>()).ToArray();
            var alphas = Enumerable.Range(0, b).Select(_ => new List<float[]>()).ToArray();
            var done = new bool[b];
            for (var t = 0; t < maxLength && done.Contains(false); t++)
            {
                var (logits, next, alpha) = Step(features, keys, state, words);
                words = Speakable(logits).argmax(1);
                var ids = words.data<long>().ToArray();
                var a = alpha?.data<float>().ToArray();
                var regions = alpha is null ? 0 : (int)alpha.shape[1];
                for (var i = 0; i < b; i++)
                {
                    if (done[i]) continue;
                    if (ids[i] == Vocabulary.Eos) { done[i] = true; continue; }
                    tokens[i].Add(ids[i]);
                    if (a is not null) alphas[i].Add(a.AsSpan(i * regions, regions).ToArray());
                }
                state = next;
            }
            return [.. tokens.Select((t, i) => (t.ToArray(), alphas[i].ToArray()))];
        }
        finally
        {
            train(wasTraining);
        }
    }

    /// <summary>
    /// The scores a decoder may choose from: <c>&lt;pad&gt;</c>, <c>&lt;bos&gt;</c> and <c>&lt;unk&gt;</c> set to −∞, so a
    /// generated caption holds only real words (a caption with <c>&lt;unk&gt;</c> in it tells the reader nothing and
    /// can never match a reference word). Training still scores <c>&lt;unk&gt;</c> like any other target.
    /// </summary>
    static Tensor Speakable(Tensor logits) =>
        logits.index_fill(1, tensor(new[] { Vocabulary.Pad, Vocabulary.Bos, Vocabulary.Unk }), Scalars.NegativeInfinity);

    /// <summary>Beam search for one image (<paramref name="features"/> <c>[1, 49, 512]</c>) through the library's
    /// <see cref="BeamSearch"/>; hypotheses best first.</summary>
    public IReadOnlyList<BeamHypothesis> Beam(Tensor features, int beamSize, int maxLength = 20, double lengthAlpha = 0.0) =>
        BeamEnsemble([this], features, beamSize, maxLength, lengthAlpha);

    /// <summary>
    /// Beam search for one image over an ensemble: at every step each model scores the next word from its own state,
    /// and the search ranks words by the log of the models' mean probability, <c>log(Σ_m p_m / M)</c>. Models trained
    /// separately make partly independent mistakes, so the average is usually a better caption model than any one
    /// of them. The models must share a vocabulary; they may differ in size or output layer. One model is plain
    /// beam search.
    /// </summary>
    public static IReadOnlyList<BeamHypothesis> BeamEnsemble(IReadOnlyList<CaptionModel> models, Tensor features, int beamSize,
        int maxLength = 20, double lengthAlpha = 0.0)
    {
        ArgumentNullException.ThrowIfNull(models);
        if (models.Count == 0) throw new ArgumentException("An ensemble needs at least one model.", nameof(models));
        if (models.Select(m => m.Options.Vocab).Distinct().Count() > 1)
            throw new ArgumentException($"The models' vocabularies differ in size ({string.Join(", ", models.Select(m => m.Options.Vocab))}).", nameof(models));
        using var scope = NewDisposeScope();
        var wasTraining = models.Select(m => m.training).ToArray();
        foreach (var m in models) m.eval();
        try
        {
            using var noGrad = no_grad();
            var keys = models.Select(m => m.PrepareKeys(features)).ToArray();
            using var logM = Math.Log(models.Count).ToScalar();
            return BeamSearch.Search(
                models.Select(m => m.Start(features)).ToArray(),
                (states, last) =>
                {
                    var scores = new Tensor[models.Count];
                    var next = new CaptionState[models.Count];
                    for (var i = 0; i < models.Count; i++)
                    {
                        var (logits, state, _) = models[i].Step(features, keys[i], states[i], last);
                        scores[i] = Speakable(logits).log_softmax(1);
                        next[i] = state;
                    }
                    return (models.Count == 1 ? scores[0] : stack(scores).logsumexp(0).sub(logM), next);
                },
                (states, rows) => [.. states.Select(s => new CaptionState(s.H.index_select(0, rows), s.C.index_select(0, rows)))],
                new BeamSearchOptions(Vocabulary.Bos, Vocabulary.Eos, beamSize, maxLength, lengthAlpha),
                states => states.SelectMany(s => new[] { s.H, s.C }));
        }
        finally
        {
            for (var i = 0; i < models.Count; i++) models[i].train(wasTraining[i]);
        }
    }

    /// <summary>The attention weights <c>[words, 49]</c> the model gives each word of a caption it is fed
    /// (e.g. the beam-search result), one row per word; empty without attention.</summary>
    public float[][] AttentionFor(Tensor features, IReadOnlyList<long> tokens)
    {
        if (attention is null) return [];
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var wasTraining = training;
        eval();
        try
        {
            var input = tensor(new[] { Vocabulary.Bos }.Concat(tokens).ToArray()).unsqueeze(0);
            var alphas = Forward(features, input).Alphas!.squeeze(0);     // [words + 1, 49]
            var regions = (int)alphas.shape[1];
            var flat = alphas.data<float>().ToArray();
            return [.. Enumerable.Range(0, tokens.Count).Select(t => flat.AsSpan(t * regions, regions).ToArray())];
        }
        finally
        {
            train(wasTraining);
        }
    }
}
