using RnnNotebooks.Audio;
using RnnNotebooks.Text;
using RnnNotebooks.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace RnnNotebooks.Speech;

/// <summary>How <see cref="SpeakerAdaptation.Adapt"/> fine-tunes a recognizer on one voice's unlabelled audio.</summary>
/// <param name="Rounds">Rounds of transcribe → pick the confident strings → fine-tune on them; 0 adapts nothing.</param>
/// <param name="Epochs">Passes over the kept strings in each round.</param>
/// <param name="LearningRate">Adam's step size while adapting (a quarter of training's).</param>
/// <param name="Keep">Fraction of the strings kept as pseudo-labelled training data each round, the most confident
/// first (lowest CTC loss of their own transcript per character).</param>
/// <param name="BatchSize">Strings per update.</param>
/// <param name="ClipGradNorm">Gradient-norm clip, as in training.</param>
/// <param name="Seed">Seeds everything (<see cref="Seeds.Set"/>: dropout, and the batch order and masks); the same seed
/// gives the same adapted model.</param>
/// <param name="SpecAugment">Masks applied to the features while adapting; null scales the training defaults
/// (up to 6 of 40 features per band) to the model's feature count.</param>
/// <param name="Layers">Which parameters adapt, by the start of their name (<c>conv1</c>, <c>conv2</c>, <c>rnn</c>,
/// <c>output</c>); null means <see cref="SpeakerAdaptationOptions.FrontEnd"/>. The others stay as trained. Adapting
/// only the convolutional front end, which maps this voice's features to what the recurrent layers expect, is the
/// gentler choice: when the settings were chosen on five development models, adapting every weight made two of them
/// slightly worse and the front end none (docs/experiments/05-speech-recognition.md).</param>
/// <param name="WordCap">When given, the surest strings are picked class-balanced (<see
/// cref="SpeakerAdaptation.PickBalanced"/>): no word may make up more than this many times its even share of the
/// kept words, so a word the first pass over-hears cannot fill the pseudo-labels. Null picks by confidence alone.</param>
/// <remarks>Introduced in 05-speech-recognition.</remarks>
public sealed record SpeakerAdaptationOptions(
    int Rounds = 5,
    int Epochs = 2,
    double LearningRate = 5e-4,
    double Keep = 0.6,
    int BatchSize = 16,
    double ClipGradNorm = 5,
    int Seed = 0,
    SpecAugmentOptions? SpecAugment = null,
    IReadOnlyList<string>? Layers = null,
    double? WordCap = null)
{
    /// <summary>The convolutional front end: the layers adapted when <see cref="Layers"/> is null.</summary>
    public static IReadOnlyList<string> FrontEnd { get; } = ["conv1", "conv2"];

    /// <summary>Every layer of the acoustic model.</summary>
    public static IReadOnlyList<string> AllLayers { get; } = ["conv1", "conv2", "rnn", "output"];

    /// <summary>Throws if a setting is out of range, naming it.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A setting is out of range.</exception>
    public void Validate()
    {
        if (Rounds < 0) throw new ArgumentOutOfRangeException(nameof(Rounds), Rounds, "Rounds must be 0 or more.");
        if (Epochs < 1) throw new ArgumentOutOfRangeException(nameof(Epochs), Epochs, "Epochs must be at least 1.");
        if (!(LearningRate > 0)) throw new ArgumentOutOfRangeException(nameof(LearningRate), LearningRate, "LearningRate must be positive.");
        if (!(Keep is > 0 and <= 1)) throw new ArgumentOutOfRangeException(nameof(Keep), Keep, "Keep must be a fraction in (0, 1].");
        if (BatchSize < 1) throw new ArgumentOutOfRangeException(nameof(BatchSize), BatchSize, "BatchSize must be at least 1.");
        if (!(ClipGradNorm > 0)) throw new ArgumentOutOfRangeException(nameof(ClipGradNorm), ClipGradNorm, "ClipGradNorm must be positive.");
        if (WordCap is { } cap && !(cap >= 1) || WordCap is double.PositiveInfinity)
            throw new ArgumentOutOfRangeException(nameof(WordCap), WordCap, "WordCap must be a finite number of at least 1 (1 = each word its even share).");
    }
}

/// <summary>One round of adaptation, as reported to the caller.</summary>
/// <param name="Round">1-based.</param>
/// <param name="Kept">Strings used as pseudo-labelled data this round.</param>
/// <param name="KeptLoss">Their mean CTC loss per character before the round's fine-tuning.</param>
/// <param name="Changed">Strings whose transcript changed from the round before (after this round's fine-tuning).</param>
/// <param name="Transcripts">Every string's transcript after the round.</param>
/// <remarks>Introduced in 05-speech-recognition.</remarks>
public sealed record AdaptationRound(int Round, int Kept, double KeptLoss, int Changed, IReadOnlyList<string> Transcripts);

/// <summary>Transcripts of the adapted model and what each round did.</summary>
/// <param name="Transcripts">One per clip, in order: the first pass's when no round ran.</param>
/// <param name="FirstPass">The transcripts before adaptation.</param>
/// <param name="Rounds">One entry per round.</param>
/// <remarks>Introduced in 05-speech-recognition.</remarks>
public sealed record AdaptationResult(IReadOnlyList<string> Transcripts, IReadOnlyList<string> FirstPass, IReadOnlyList<AdaptationRound> Rounds);

/// <summary>Unsupervised speaker adaptation by self-training: transcribe a voice's audio, keep the strings the model is
/// surest of, fine-tune on them with their own transcripts as labels (with dropout and masking on), and repeat.
/// No transcript of the voice is used. When most of a word's occurrences are already recognised, learning them from
/// this voice pulls in the ones that were not; but a confusion can also feed on itself and spread (docs/experiments/05-speech-recognition.md:
/// it helped 7 of 9 leave-one-out models and made 2 worse), so measure it per voice.</summary>
/// <remarks>Introduced in 05-speech-recognition.</remarks>
public static class SpeakerAdaptation
{
    /// <summary>Adapts <paramref name="recognizer"/>'s weights to the voice of <paramref name="clips"/> (changed in
    /// place: keep a copy, or reload, to undo) and returns the adapted model's transcripts.</summary>
    /// <param name="recognizer">The recognizer to adapt.</param>
    /// <param name="clips">Unlabelled audio of one voice.</param>
    /// <param name="speaker">The voice's feature statistics (<see cref="SpeechRecognizer.SpeakerStatistics"/>), or null
    /// to normalise each clip alone.</param>
    /// <param name="options">Rounds, epochs, learning rate, kept fraction; null for the defaults.</param>
    /// <param name="decoding">How transcripts (and so pseudo-labels) are decoded.</param>
    /// <param name="progress">Called after each round.</param>
    /// <remarks>Stops before a round in which no string has a transcript (nothing to learn from), so a model that only
    /// outputs blanks comes back unchanged with fewer rounds reported.</remarks>
    /// <exception cref="ArgumentException">No clips, or the recognizer is an ensemble.</exception>
    public static AdaptationResult Adapt(SpeechRecognizer recognizer, IReadOnlyList<AudioClip> clips,
        FeatureStatistics? speaker = null, SpeakerAdaptationOptions? options = null,
        CtcDecoding decoding = CtcDecoding.Lexicon, Action<AdaptationRound>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(recognizer);
        ArgumentNullException.ThrowIfNull(clips);
        if (clips.Count == 0) throw new ArgumentException("Speaker adaptation needs at least one clip of the voice.", nameof(clips));
        if (recognizer.Members.Count > 1)
            throw new ArgumentException(
                $"Speaker adaptation fine-tunes one model, and this recognizer is an ensemble of {recognizer.Members.Count}; " +
                "adapt a single checkpoint (one --checkpoint) instead.", nameof(recognizer));
        options ??= new SpeakerAdaptationOptions();
        options.Validate();
        var model = recognizer.Model;
        var (adaptedParameters, otherParameters) = SelectParameters(model, options.Layers ?? SpeakerAdaptationOptions.FrontEnd);
        var masks = options.SpecAugment ?? new SpecAugmentOptions() with
        {
            MaxFrequencyWidth = Math.Max(1, (int)Math.Round(6.0 * recognizer.Config.Features.Dimension / 40)),
        };
        var features = new List<Tensor>(clips.Count);
        var wasTraining = model.training;
        try
        {
            foreach (var clip in clips) features.Add(recognizer.Features(clip, speaker).DetachFromDisposeScope());
            var (transcripts, losses) = Transcribe(recognizer, features, decoding);
            var firstPass = transcripts;
            var rounds = new List<AdaptationRound>();
            Seeds.Set(options.Seed);
            var random = Seeds.CreateRandom(0);
            for (var round = 1; round <= options.Rounds; round++)
            {
                var kept = options.WordCap is { } cap
                    ? PickBalanced(transcripts, losses, options.Keep, cap)
                    : PickConfident(transcripts, losses, options.Keep);
                if (kept.Count == 0) break;   // nothing was recognised (a model that still outputs only blanks): nothing to learn from
                // The parameters not adapted are frozen for the round, so no gradient is computed for them.
                var frozen = otherParameters.Where(p => p.requires_grad).ToList();
                foreach (var p in frozen) p.requires_grad = false;
                try { FineTune(recognizer, features, transcripts, kept, options, masks, random, adaptedParameters); }
                finally { foreach (var p in frozen) p.requires_grad = true; }
                var (next, nextLosses) = Transcribe(recognizer, features, decoding);
                var report = new AdaptationRound(round, kept.Count, kept.Average(i => losses[i]),
                    next.Zip(transcripts).Count(p => p.First != p.Second), next);
                (transcripts, losses) = (next, nextLosses);
                rounds.Add(report);
                progress?.Invoke(report);
            }
            return new AdaptationResult(transcripts, firstPass, rounds);
        }
        finally
        {
            foreach (var f in features) f.Dispose();
            if (wasTraining) model.train(); else model.eval();
        }
    }

    /// <summary>Indices of the strings to learn from: non-empty transcripts, lowest loss first, the given fraction of
    /// all strings (at least one, unless all are empty; fewer if too many are empty), returned in ascending index order.</summary>
    /// <param name="transcripts">Each string's current transcript.</param>
    /// <param name="losses">Each string's CTC loss per character of its own transcript.</param>
    /// <param name="keep">Fraction in (0, 1].</param>
    public static IReadOnlyList<int> PickConfident(IReadOnlyList<string> transcripts, IReadOnlyList<double> losses, double keep)
    {
        var (candidates, count) = SurestFirst(transcripts, losses, keep);
        return [.. candidates.Take(count).Order()];
    }

    /// <summary>The strings worth learning from (a non-empty transcript, a finite loss), lowest loss first, ties by
    /// index; and how many of all the strings <paramref name="keep"/> asks for (at least one).</summary>
    static (IEnumerable<int> Candidates, int Count) SurestFirst(IReadOnlyList<string> transcripts, IReadOnlyList<double> losses, double keep)
    {
        ArgumentNullException.ThrowIfNull(transcripts);
        ArgumentNullException.ThrowIfNull(losses);
        if (transcripts.Count != losses.Count)
            throw new ArgumentException($"{transcripts.Count} transcripts but {losses.Count} losses.", nameof(losses));
        var candidates = Enumerable.Range(0, transcripts.Count)
            .Where(i => !string.IsNullOrWhiteSpace(transcripts[i]) && double.IsFinite(losses[i]))
            .OrderBy(i => losses[i]).ThenBy(i => i);
        return (candidates, Math.Max(1, (int)Math.Ceiling(keep * transcripts.Count - 1e-9)));
    }

    /// <summary>Like <see cref="PickConfident"/>, but class-balanced: strings are taken surest first, and one is passed
    /// over if it would bring any of its words above <paramref name="cap"/> times that word's even share of the kept
    /// words (<c>keep × all words / distinct words</c>, all counted over every transcript). The digits are equally
    /// likely in the training strings, so a word heard far more often than the others is more likely misheard, and
    /// its least sure strings are the ones left out.</summary>
    /// <param name="transcripts">Each string's current transcript (words separated by spaces).</param>
    /// <param name="losses">Each string's CTC loss per character of its own transcript.</param>
    /// <param name="keep">Fraction in (0, 1] of the strings to keep, at most.</param>
    /// <param name="cap">At least 1.</param>
    public static IReadOnlyList<int> PickBalanced(IReadOnlyList<string> transcripts, IReadOnlyList<double> losses, double keep, double cap)
    {
        var (candidates, count) = SurestFirst(transcripts, losses, keep);
        if (!(cap >= 1)) throw new ArgumentOutOfRangeException(nameof(cap), cap, "The cap must be at least 1.");
        var words = transcripts.Select(t => t.Split(' ', StringSplitOptions.RemoveEmptyEntries)).ToList();
        var distinct = words.SelectMany(w => w).Distinct().Count();
        if (distinct == 0) return [];
        var limit = cap * keep * words.Sum(w => w.Length) / distinct;
        var kept = new List<int>();
        var used = new Dictionary<string, int>();
        foreach (var i in candidates)
        {
            if (kept.Count == count) break;
            var mine = words[i].GroupBy(w => w).ToList();
            if (mine.Any(g => used.GetValueOrDefault(g.Key) + g.Count() > limit)) continue;
            foreach (var g in mine) used[g.Key] = used.GetValueOrDefault(g.Key) + g.Count();
            kept.Add(i);
        }
        return [.. kept.Order()];
    }

    /// <summary>Decodes every string with the model in eval mode, and scores each transcript: its CTC loss per character.</summary>
    static (IReadOnlyList<string> Transcripts, IReadOnlyList<double> Losses) Transcribe(SpeechRecognizer recognizer,
        IReadOnlyList<Tensor> features, CtcDecoding decoding)
    {
        var model = recognizer.Model;
        model.eval();
        using var noGrad = no_grad();
        var transcripts = new string[features.Count];
        var losses = new double[features.Count];
        for (var i = 0; i < features.Count; i++)
        {
            using var scope = NewDisposeScope();
            var lengths = tensor(new[] { features[i].shape[0] });
            var logProbs = model.call(features[i].unsqueeze(0), lengths);
            transcripts[i] = recognizer.Decode(logProbs[0], decoding);
            if (transcripts[i].Length == 0) { losses[i] = double.PositiveInfinity; continue; }
            var target = recognizer.Characters.Encode(transcripts[i]);
            var loss = nn.functional.ctc_loss(logProbs.transpose(0, 1), tensor(target.Select(x => (long)x).ToArray()),
                model.OutputLengths(lengths), tensor(new[] { (long)target.Length }), blank: Vocabulary.Blank,
                reduction: nn.Reduction.Sum, zero_infinity: false);
            losses[i] = loss.item<float>() / target.Length;
        }
        return (transcripts, losses);
    }

    /// <summary>The parameters named by <paramref name="layers"/>, and the others.</summary>
    static (List<TorchSharp.Modules.Parameter> Adapted, List<TorchSharp.Modules.Parameter> Others) SelectParameters(
        AcousticModel model, IReadOnlyList<string> layers)
    {
        var all = model.named_parameters().ToList();
        var adapted = all.Where(p => layers.Any(layer => p.name == layer || p.name.StartsWith(layer + ".", StringComparison.Ordinal))).ToList();
        if (adapted.Count == 0)
            throw new ArgumentException($"Layers {string.Join(", ", layers)}: no parameter of the model is named so. " +
                $"Parameters: {string.Join(", ", all.Select(p => p.name))}.", nameof(layers));
        return ([.. adapted.Select(p => p.parameter)], [.. all.Except(adapted).Select(p => p.parameter)]);
    }

    static void FineTune(SpeechRecognizer recognizer, IReadOnlyList<Tensor> features, IReadOnlyList<string> transcripts,
        IReadOnlyList<int> kept, SpeakerAdaptationOptions options, SpecAugmentOptions masks, Random random,
        IReadOnlyList<TorchSharp.Modules.Parameter> parameters)
    {
        var model = recognizer.Model;
        using var kernels = AcousticModel.TrainingKernels();
        // A fresh optimizer each round: the moments of the last round belong to other labels.
        using var optimizer = new FastAdam(parameters, options.LearningRate);
        model.train();   // dropout on, as in training: the noise is what keeps self-training from merely copying itself
        for (var epoch = 0; epoch < options.Epochs; epoch++)
        {
            var order = kept.OrderBy(_ => random.Next()).ToList();
            foreach (var chunk in order.Chunk(options.BatchSize))
            {
                using var scope = NewDisposeScope();
                var batch = SpeechBatch.Create([.. chunk.Select(i => SpecAugment.Apply(features[i], random, masks))],
                    [.. chunk.Select(i => transcripts[i])], recognizer.Characters);
                optimizer.zero_grad();
                var loss = batch.Loss(model);
                loss.backward();
                nn.utils.clip_grad_norm_(parameters, options.ClipGradNorm);
                optimizer.step();
            }
        }
        model.eval();
    }
}
