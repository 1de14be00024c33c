using System.Diagnostics;
using RnnNotebooks.Audio;
using RnnNotebooks.Metrics;
using RnnNotebooks.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace RnnNotebooks.Speech;

/// <summary>How <see cref="AsrTraining.Train"/> trains a digit-string recognizer.</summary>
/// <param name="StringsPerEpoch">Fresh connected digit strings built (and augmented) for every epoch.</param>
/// <param name="Epochs">Epochs (each a new set of strings).</param>
/// <param name="BatchSize">Strings per batch; batches group strings of similar length.</param>
/// <param name="LearningRate">Adam's learning rate.</param>
/// <param name="ClipGradNorm">Gradient clipping.</param>
/// <param name="TimeBudget">Stop training after this long (the model is still usable).</param>
/// <param name="Seed">Seeds torch, the string builder and the masks.</param>
/// <param name="ValidationStrings">Strings built once from the validation recordings (see <see cref="AsrTraining"/>);
/// greedy CER on them is recorded as <c>val_cer</c> after each epoch (0 = no validation).</param>
/// <param name="KeepBest">End with the weights of the epoch with the lowest <c>val_cer</c>, not the last epoch's.</param>
/// <param name="PlateauPatience">Halve the learning rate after this many epochs without a new best <c>val_cer</c>
/// (0 = constant learning rate); not while the CER is still 100 %.</param>
/// <param name="MinLearningRate">The learning rate is never halved below this.</param>
/// <param name="Strings">How training strings are built (default: <see cref="DigitStringOptions.Augmented"/>).</param>
/// <param name="SpecAugment">Masks for training features; null = none.</param>
/// <param name="Features">Feature settings.</param>
/// <param name="Model">Acoustic model sizes (input size and classes are filled in).</param>
/// <param name="SpeakerNormalization">Train on features normalised with each speaker's statistics (per-speaker CMVN,
/// a training speaker's from 200 clean strings of their training recordings) instead of each utterance's, and validate
/// the same way. Measured on unheard speakers it was worse (README); recognition by speaker statistics
/// (<see cref="AsrTraining.Evaluate"/>) helps either way.</param>
/// <param name="WeightAverageDecay">If above 0, validate, keep and return an exponential moving average of the
/// weights (<see cref="WeightAverage"/>, this decay per update) instead of the weights as trained.</param>
/// <param name="AverageBest">With <paramref name="KeepBest"/>: end with the uniform average of the weights of the
/// epochs with this many lowest <c>val_cer</c>s (<see cref="BestWeights.RestoreAverage"/>), not the single best; 1 = the best.</param>
/// <param name="DecayFraction">If above 0, the last this fraction of the planned updates (<paramref name="Epochs"/>
/// of them) lowers the learning rate along a cosine from wherever the plateau cuts left it to zero
/// (<see cref="LearningRates.Cosine"/>), with no plateau cuts in that phase; 0 = the plateau rule alone.</param>
/// <param name="SpeakerAdversary">λ of speaker-adversarial training (<see cref="Speech.SpeakerAdversary"/>): if above 0, a
/// classifier learns to name the training speaker from every frame of the recurrent output, and the acoustic model gets
/// its gradient reversed and scaled by λ times <see cref="Speech.SpeakerAdversary.Ramp"/> of the progress through the
/// planned updates; the classifier's frame accuracy on the epoch's batches is recorded as <c>speaker_acc</c>. 0 = off.
/// The classifier is disposed when training ends; the optimizer returned still lists its parameters, so it can be
/// saved (for the record) but not stepped again.</param>
/// <param name="Cycles">If above 0, the learning rate follows <see cref="LearningRates.Cyclic"/> with this many cycles
/// over the planned updates (<paramref name="Epochs"/> of them) instead of the plateau rule: the weights at the end of
/// each cycle are the members of a snapshot ensemble (saved, e.g., by <c>rnn asr train --save-epochs</c>). 0 = off.</param>
/// <remarks>Introduced in 05-speech-recognition.</remarks>
public sealed record AsrTrainingOptions(
    int StringsPerEpoch = 800,
    int Epochs = 30,
    int BatchSize = 16,
    double LearningRate = 2e-3,
    double ClipGradNorm = 5,
    TimeSpan? TimeBudget = null,
    int Seed = 0,
    int ValidationStrings = 100,
    bool KeepBest = true,
    int PlateauPatience = 3,
    double MinLearningRate = 1e-4,
    DigitStringOptions? Strings = null,
    SpecAugmentOptions? SpecAugment = null,
    FeatureOptions? Features = null,
    AcousticModelOptions? Model = null,
    double WeightAverageDecay = 0,
    bool SpeakerNormalization = false,
    int AverageBest = 1,
    double DecayFraction = 0,
    double SpeakerAdversary = 0,
    int Cycles = 0);

/// <summary>CER/WER of a recognizer on a set of strings.</summary>
/// <param name="Cer">Character error rate (total character errors / total reference characters).</param>
/// <param name="Wer">Word error rate.</param>
/// <param name="Utterances">Strings decoded.</param>
/// <param name="Characters">Character error counts.</param>
/// <param name="Words">Word error counts.</param>
/// <param name="AudioSeconds">Audio decoded.</param>
/// <param name="Seconds">Wall time of features + model + decoding.</param>
/// <param name="Examples">The first few (reference, hypothesis) pairs.</param>
/// <remarks>Introduced in 05-speech-recognition.</remarks>
public sealed record AsrEvaluation(double Cer, double Wer, int Utterances, ErrorCounts Characters, ErrorCounts Words,
    double AudioSeconds, double Seconds, IReadOnlyList<(string Reference, string Hypothesis)> Examples)
{
    /// <summary>Audio seconds transcribed per wall-clock second.</summary>
    public double RealTimeFactor => Seconds > 0 ? AudioSeconds / Seconds : double.PositiveInfinity;
}

/// <summary>The lesson's training and evaluation pipeline on connected FSDD digit strings.</summary>
/// <remarks>
/// Splits of the training speakers' recordings: indices 0–4 are FSDD's official test split (never trained on,
/// never used to choose anything: <see cref="OfficialTestStrings"/>), indices 5–9 are the validation slice (greedy
/// CER after each epoch chooses the kept weights and the learning-rate cuts), indices 10–49 train. A held-out speaker
/// is evaluated with <see cref="SpeakerTestStrings"/> (all 500 of their recordings), which measures
/// speaker-independent accuracy; nothing of theirs is seen before that.
/// Introduced in 05-speech-recognition.
/// </remarks>
public static class AsrTraining
{
    /// <summary>Seed of evaluation strings, fixed so every run is scored on the same strings.</summary>
    public const int EvaluationSeed = 20_05;

    /// <summary>Recordings with an index in 5–9 form the validation slice of each training speaker.</summary>
    public static bool IsValidation(DigitRecording recording) => recording.Index is >= 5 and < 10;

    /// <summary>Recordings that training strings are built from: index 10–49.</summary>
    public static bool IsTraining(DigitRecording recording) => recording.Index >= 10;

    /// <summary>Trains a new recognizer on <paramref name="trainSpeakers"/>' recordings among <paramref name="recordings"/>.</summary>
    /// <param name="recordings">All recordings; those of <paramref name="trainSpeakers"/> are used.</param>
    /// <param name="trainSpeakers">The voices to train on.</param>
    /// <param name="options">The recipe.</param>
    /// <param name="progress">Called every few steps and after each epoch.</param>
    /// <param name="cancellationToken">Stops training; the model is still usable.</param>
    /// <param name="newBest">Called when a validation sets a new best CER, while the model holds those weights (the
    /// ones kept at the end with <see cref="AsrTrainingOptions.KeepBest"/>), with the epoch (1-based) and the CER:
    /// e.g. to save them, so that a run that dies later still leaves its best model behind (<c>rnn asr train</c> does).</param>
    /// <param name="validated">Called after every validation, while the model holds the weights just scored, with the
    /// epoch (1-based) and the CER: e.g. to save every epoch's weights (<c>rnn asr train --save-epochs</c>).</param>
    public static (SpeechRecognizer Recognizer, TrainingState State, optim.Optimizer Optimizer) Train(
        IReadOnlyList<DigitRecording> recordings, IReadOnlyCollection<string> trainSpeakers, AsrTrainingOptions options,
        Action<TrainingProgress>? progress = null, CancellationToken cancellationToken = default,
        Action<SpeechRecognizer, int, double>? newBest = null, Action<SpeechRecognizer, int, double>? validated = null)
    {
        ArgumentNullException.ThrowIfNull(recordings);
        ArgumentNullException.ThrowIfNull(options);
        if (options.DecayFraction is < 0 or > 1 or double.NaN)
            throw new ArgumentException($"DecayFraction must be in [0, 1], got {options.DecayFraction}.", nameof(options));
        if (options.Cycles < 0 || options.Cycles > options.Epochs)
            throw new ArgumentException($"Cycles must be 0 (off) or 1 to Epochs ({options.Epochs}), got {options.Cycles}.", nameof(options));
        if (options.Cycles > 0 && options.DecayFraction > 0)
            throw new ArgumentException("Cycles and DecayFraction both set the learning rate: use one or the other.", nameof(options));
        if (options.AverageBest < 1)
            throw new ArgumentException($"AverageBest must be 1 (the best epoch) or more, got {options.AverageBest}.", nameof(options));
        if (options.SpeakerAdversary is < 0 or double.NaN or double.PositiveInfinity)
            throw new ArgumentException($"SpeakerAdversary (λ) must be 0 (off) or a positive number, got {options.SpeakerAdversary}.", nameof(options));
        if (options.SpeakerAdversary > 0 && (options.Strings?.MixSpeakers ?? 0) > 0)
            throw new ArgumentException("SpeakerAdversary labels every string with its speaker, and Strings.MixSpeakers builds " +
                "strings of several voices: use one or the other.", nameof(options));
        if (options.SpeakerNormalization && (options.Strings?.MixSpeakers ?? 0) > 0)
            throw new ArgumentException("SpeakerNormalization normalises each string with its speaker's statistics, and " +
                "Strings.MixSpeakers builds strings of several voices: use one or the other.", nameof(options));
        var mine = recordings.Where(r => trainSpeakers.Contains(r.Speaker)).ToList();
        if (mine.Count == 0)
            throw new ArgumentException($"No recordings of the training speakers ({string.Join(", ", trainSpeakers)}).");
        Seeds.Set(options.Seed);
        var recognizer = SpeechRecognizer.Create(options.Features, options.Model, [.. trainSpeakers.Order(StringComparer.Ordinal)],
            options.SpeakerNormalization);
        using var speakers = options.SpeakerNormalization ? new SpeakerStatisticsSet(TrainingSpeakerStatistics(recognizer, mine)) : null;
        var voices = mine.Select(r => r.Speaker).Distinct().Order(StringComparer.Ordinal).ToList();
        if (options.SpeakerAdversary > 0 && voices.Count < 2)
            throw new ArgumentException($"Speaker-adversarial training needs at least two training voices, got {voices.Count}.", nameof(trainSpeakers));
        using var adversary = options.SpeakerAdversary > 0
            ? new SpeakerAdversary(2 * recognizer.Model.Options.HiddenSize, voices.Count)
            : null;
        // With an adversary, the trainer switches modes and clips the gradients of both. Not disposed: disposing a
        // module disposes its submodules, and the acoustic model lives on in the recognizer.
        var trained = adversary is null ? null : new WithAdversary(recognizer.Model, adversary);
        var builder = new DigitStringBuilder(mine.Where(IsTraining), options.Strings ?? DigitStringOptions.Augmented);
        var validation = options.ValidationStrings > 0
            ? new DigitStringBuilder(mine.Where(IsValidation)).BuildMany(options.ValidationStrings, EvaluationSeed + 1)
            : [];

        var optimizer = new FastAdam(adversary is null ? recognizer.Model.parameters() : recognizer.Model.parameters().Concat(adversary.parameters()),
            options.LearningRate);
        using var best = new BestWeights(recognizer.Model, options.AverageBest);
        using var average = options.WeightAverageDecay > 0 ? new WeightAverage(recognizer.Model, options.WeightAverageDecay) : null;
        // The second core builds what the first will train on: the next epoch's strings (the slow part) on a
        // worker thread, the next batches' features on another (Prefetch). The same batches in the same order as
        // building them in place, so the same seed gives the same run (2026-11-26, 2 cores, one torch thread: an epoch of the
        // notebook's recipe took 28 s instead of 38 s; a second torch thread beside the builders was slower still).
        using var stopAhead = new CancellationTokenSource();
        Task<(IReadOnlyList<DigitString> Strings, Random Random)>? ahead = null;
        var aheadEpoch = -1;
        IEnumerable<SpeechBatch> EpochBatches(int epoch)
        {
            var current = ahead is not null && aheadEpoch == epoch
                ? ahead.GetAwaiter().GetResult()
                : EpochStrings(builder, options, epoch);
            ahead = null;
            if (epoch + 1 < options.Epochs)
            {
                var next = aheadEpoch = epoch + 1;
                ahead = Task.Run(() => EpochStrings(builder, options, next, stopAhead.Token));
            }
            return Prefetch.Ahead(Batches(recognizer, current.Strings, current.Random, options, speakers?.BySpeaker,
                adversary is null ? null : voices), b => b.Tensors);
        }

        // The closing cosine: from update plannedSteps·(1 − DecayFraction) on, the rate falls from where it stands to zero.
        var plannedSteps = (long)options.Epochs * ((options.StringsPerEpoch + options.BatchSize - 1) / options.BatchSize);
        double? decayFrom = null;
        void Decay(long step)
        {
            var start = plannedSteps * (1 - options.DecayFraction);
            if (options.DecayFraction <= 0 || step < start) return;
            decayFrom ??= optimizer.ParamGroups.First().LearningRate;
            LearningRates.Set(optimizer, LearningRates.Cosine(decayFrom.Value, (step - start) / (plannedSteps - start)));
        }

        // Speaker-adversarial training: λ rises along the ramp with the updates; the adversary's frame accuracy is
        // averaged over each epoch's batches.
        long adversarySteps = 0;
        double accuracySum = 0;
        var accuracyCount = 0;
        Tensor Loss(SpeechBatch batch)
        {
            if (adversary is null) return batch.Loss(recognizer.Model);
            adversary.Scale = options.SpeakerAdversary * SpeakerAdversary.Ramp((double)adversarySteps++ / plannedSteps);
            var (loss, ctc, speaker, accuracy) = batch.Loss(recognizer.Model, adversary);
            ctc.Dispose();
            speaker.Dispose();
            accuracySum += accuracy;
            accuracyCount++;
            return loss;
        }

        TrainingState state;
        try
        {
            state = Trainer.Fit(
                trained ?? (nn.Module)recognizer.Model, optimizer,
                EpochBatches,
                Loss,
                new TrainerOptions(options.Epochs, options.ClipGradNorm, options.TimeBudget, LogEvery: 10,
                    BeforeStep: options.DecayFraction > 0 ? Decay
                        : options.Cycles > 0 ? step => LearningRates.Set(optimizer, LearningRates.Cyclic(options.LearningRate, step, plannedSteps, options.Cycles))
                        : null,
                    AfterStep: average is null ? null : _ => average.Update()),
                tokens: batch => batch.Count,
                validate: validation.Count == 0 ? null : () =>
                {
                    double cer;
                    using (average?.Apply())   // with averaging, the average is what is scored and kept
                    {
                        cer = Evaluate(recognizer, validation, CtcDecoding.Greedy, perSpeaker: options.SpeakerNormalization).Cer;
                        if (best.Offer(cer)) newBest?.Invoke(recognizer, best.Offers, cer);
                        validated?.Invoke(recognizer, best.Offers, cer);
                    }
                    // While the model still emits only blanks the CER is pinned at 100 % and says nothing about progress,
                    // so the learning rate is only cut once something has been recognised.
                    var sinceBest = best.Offers - best.BestOffer;
                    if (decayFrom is null && options.Cycles == 0 && options.PlateauPatience > 0 && best.BestScore < 1 && sinceBest > 0 && sinceBest % options.PlateauPatience == 0)
                        foreach (var g in optimizer.ParamGroups) g.LearningRate = Math.Max(options.MinLearningRate, g.LearningRate / 2);
                    var metrics = new Dictionary<string, double> { ["val_cer"] = cer };
                    if (accuracyCount > 0) metrics["speaker_acc"] = accuracySum / accuracyCount;
                    (accuracySum, accuracyCount) = (0, 0);
                    return metrics;
                },
                progress: progress,
                cancellationToken: cancellationToken);
        }
        finally
        {
            // Training stopped early (time budget, cancellation, an error): the next epoch's strings are not needed.
            stopAhead.Cancel();
            try { ahead?.Wait(); }
            catch (AggregateException e) when (e.InnerExceptions.All(x => x is OperationCanceledException)) { }
        }
        if (options.KeepBest && best.Kept.Count > 0)
        {
            if (options.AverageBest > 1) best.RestoreAverage();
            else best.Restore();
        }
        else average?.CopyToModule();   // the average replaces the trained weights for good
        return (recognizer, state, optimizer);
    }

    /// <summary>One epoch of padded batches: fresh strings (seeded by seed and epoch), grouped by length, in random order.</summary>
    public static IEnumerable<SpeechBatch> Batches(SpeechRecognizer recognizer, DigitStringBuilder builder,
        AsrTrainingOptions options, int epoch, IReadOnlyDictionary<string, FeatureStatistics>? speakers = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var (strings, random) = EpochStrings(builder, options, epoch);
        return Batches(recognizer, strings, random, options, speakers);
    }

    /// <summary>The fresh strings of one training epoch, and the generator (seeded by seed and epoch, already past
    /// the strings) that then shuffles and masks them: the first half of
    /// <see cref="Batches(SpeechRecognizer, DigitStringBuilder, AsrTrainingOptions, int, IReadOnlyDictionary{string, FeatureStatistics}?)"/>,
    /// the slow one (speed perturbation resamples every recording), so it can run ahead on another thread.</summary>
    /// <param name="builder">Builds the strings; safe to share between threads.</param>
    /// <param name="options">How many strings.</param>
    /// <param name="epoch">The 0-based epoch; the same epoch gives the same strings.</param>
    /// <param name="cancellationToken">Stops building (throws <see cref="OperationCanceledException"/>).</param>
    public static (IReadOnlyList<DigitString> Strings, Random Random) EpochStrings(DigitStringBuilder builder,
        AsrTrainingOptions options, int epoch, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(options);
        var random = Seeds.CreateRandom(1000 + epoch);
        var strings = new List<DigitString>(options.StringsPerEpoch);
        for (var i = 0; i < options.StringsPerEpoch; i++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            strings.Add(builder.Build(random));
        }
        return (strings, random);
    }

    /// <summary>Padded batches of <paramref name="strings"/>, grouped by length, in an order drawn from
    /// <paramref name="random"/>, which also draws the SpecAugment masks: the second half of
    /// <see cref="Batches(SpeechRecognizer, DigitStringBuilder, AsrTrainingOptions, int, IReadOnlyDictionary{string, FeatureStatistics}?)"/>.</summary>
    /// <param name="recognizer">Computes the features.</param>
    /// <param name="strings">The epoch's strings.</param>
    /// <param name="random">Draws the order and the masks.</param>
    /// <param name="options">Batch size and masks.</param>
    /// <param name="speakers">Per-speaker feature statistics to normalise with, or null for each string's own.</param>
    /// <param name="labelSpeakers">If given, every batch carries each string's speaker as its index in this list
    /// (<see cref="SpeechBatch.Speakers"/>).</param>
    /// <exception cref="ArgumentException">A string's speaker is not in <paramref name="labelSpeakers"/>.</exception>
    public static IEnumerable<SpeechBatch> Batches(SpeechRecognizer recognizer, IReadOnlyList<DigitString> strings, Random random,
        AsrTrainingOptions options, IReadOnlyDictionary<string, FeatureStatistics>? speakers = null,
        IReadOnlyList<string>? labelSpeakers = null)
    {
        ArgumentNullException.ThrowIfNull(recognizer);
        ArgumentNullException.ThrowIfNull(strings);
        ArgumentNullException.ThrowIfNull(random);
        ArgumentNullException.ThrowIfNull(options);
        return Iterate();

        IEnumerable<SpeechBatch> Iterate()
        {
            var byLength = strings.OrderBy(s => s.Audio.Samples.Length).ToList();
            var batches = byLength.Chunk(options.BatchSize).ToList();
            var order = Enumerable.Range(0, batches.Count).OrderBy(_ => random.Next()).ToList();
            foreach (var i in order)
            {
                var features = batches[i].Select(s =>
                {
                    var speaker = speakers?[s.Speaker];
                    if (options.SpecAugment is not { } masks) return recognizer.Features(s.Audio, speaker);
                    if (masks.MelBands && recognizer.Config.Features.Mfcc > 0)
                    {
                        // Bands of mel filters masked before the DCT, frames after: the same draws, in the same order, as Apply.
                        var f = recognizer.Features(s.Audio, speaker,
                            logMel => SpecAugment.MaskFrequencies(logMel, random, masks, fillWithMean: true));
                        return SpecAugment.MaskTimes(f, random, masks);
                    }
                    return SpecAugment.Apply(recognizer.Features(s.Audio, speaker), random, masks);
                }).ToList();
                yield return SpeechBatch.Create(features, [.. batches[i].Select(s => s.Transcript)], recognizer.Characters,
                    labelSpeakers is null ? null : [.. batches[i].Select(s => SpeakerIndex(labelSpeakers, s.Speaker))]);
            }
        }
    }

    static long SpeakerIndex(IReadOnlyList<string> speakers, string speaker)
    {
        for (var i = 0; i < speakers.Count; i++)
            if (speakers[i] == speaker) return i;
        throw new ArgumentException($"A string of speaker '{speaker}', who is not among the labelled speakers ({string.Join(", ", speakers)}).");
    }

    /// <summary>The acoustic model and its speaker adversary as one module, for the trainer (train/eval modes, clipping).</summary>
    sealed class WithAdversary : nn.Module
    {
        private readonly AcousticModel model;
        private readonly SpeakerAdversary adversary;

        public WithAdversary(AcousticModel model, SpeakerAdversary adversary) : base(nameof(WithAdversary))
        {
            this.model = model;
            this.adversary = adversary;
            RegisterComponents();
        }
    }

    /// <summary>Each training speaker's feature statistics, from 200 clean connected-digit strings of their training
    /// recordings (built like the test strings, so silences between digits count alike).</summary>
    public static Dictionary<string, FeatureStatistics> TrainingSpeakerStatistics(SpeechRecognizer recognizer,
        IEnumerable<DigitRecording> recordings) =>
        recordings.Where(IsTraining).GroupBy(r => r.Speaker).ToDictionary(g => g.Key,
            g => recognizer.SpeakerStatistics(new DigitStringBuilder(g).BuildMany(200, EvaluationSeed + 2).Select(s => s.Audio)));

    sealed class SpeakerStatisticsSet(Dictionary<string, FeatureStatistics> bySpeaker) : IDisposable
    {
        public IReadOnlyDictionary<string, FeatureStatistics> BySpeaker => bySpeaker;

        public void Dispose()
        {
            foreach (var s in bySpeaker.Values) s.Dispose();
        }
    }

    /// <summary>Strings of one speaker in which each of their recordings is spoken exactly once
    /// (<see cref="DigitStringBuilder.BuildEachOnce"/>: about 125 strings from FSDD's 500 recordings a speaker), with the
    /// fixed evaluation seed and no augmentation; at most <paramref name="count"/> of them.</summary>
    /// <remarks>The strings once drew recordings with replacement (200 strings, each recording
    /// about 1.6 times). Adapting to the test audio then met the same recording in several strings, which flattered it;
    /// the earlier figures in docs/experiments/05-speech-recognition.md ("Adaptation and the speed vote") say which strings they used.</remarks>
    public static IReadOnlyList<DigitString> SpeakerTestStrings(IReadOnlyList<DigitRecording> recordings, string speaker, int count = 200)
    {
        var theirs = RecordingsOf(recordings, speaker);
        return new DigitStringBuilder(theirs).BuildEachOnce(EvaluationSeed, count);
    }

    static List<DigitRecording> RecordingsOf(IReadOnlyList<DigitRecording> recordings, string speaker)
    {
        var theirs = recordings.Where(r => r.Speaker == speaker).ToList();
        return theirs.Count > 0 ? theirs : throw new ArgumentException(
            $"No recordings of speaker '{speaker}'. Speakers: {string.Join(", ", recordings.Select(r => r.Speaker).Distinct())}.");
    }

    /// <summary>Strings of the official test split (indices 0–4) of the given speakers.</summary>
    public static IReadOnlyList<DigitString> OfficialTestStrings(IReadOnlyList<DigitRecording> recordings,
        IReadOnlyCollection<string> speakers, int count = 200) =>
        new DigitStringBuilder(recordings.Where(r => r.IsOfficialTest && speakers.Contains(r.Speaker))).BuildMany(count, EvaluationSeed);

    /// <summary>Decodes every string and scores it against its transcript.</summary>
    /// <param name="recognizer">The model with its features and decoder.</param>
    /// <param name="strings">Connected digit strings with their transcripts and speakers.</param>
    /// <param name="decoding">Greedy, prefix beam or lexicon-constrained beam search.</param>
    /// <param name="examples">How many (reference, hypothesis) pairs to keep, the first ones.</param>
    /// <param name="perSpeaker">Normalise each speaker's strings with statistics over all of them (the default), or
    /// each string with its own (false; a model trained with <see cref="AsrTrainingOptions.SpeakerNormalization"/>
    /// always uses speaker statistics). The time to compute the statistics counts in the real-time factor.</param>
    /// <param name="adaptation">When given, the recognizer is first adapted to each speaker's strings by self-training
    /// (<see cref="SpeakerAdaptation"/>, no transcripts used) and its weights are put back afterwards; the adaptation's
    /// time counts in the real-time factor.</param>
    /// <param name="speeds">When given, each string's transcript is a vote over these playback speeds
    /// (<see cref="SpeedVoting"/>), each speaker normalised with their statistics at that speed; with
    /// <paramref name="adaptation"/>, the adapted model votes (the adaptation's own pseudo-labels are not voted: on the
    /// development speakers that cost five times the time and gained no more). Null recognises the audio as recorded.</param>
    /// <exception cref="ArgumentException">Bad speeds.</exception>
    public static AsrEvaluation Evaluate(SpeechRecognizer recognizer, IReadOnlyList<DigitString> strings,
        CtcDecoding decoding = CtcDecoding.Lexicon, int examples = 5, bool perSpeaker = true,
        SpeakerAdaptationOptions? adaptation = null, IReadOnlyList<double>? speeds = null)
    {
        ArgumentNullException.ThrowIfNull(recognizer);
        ArgumentNullException.ThrowIfNull(strings);
        if (speeds is not null) SpeedVoting.ValidateFactors(speeds, nameof(speeds));
        var clock = Stopwatch.StartNew();
        // Each voice is normalised with its own statistics, taken from the strings themselves (no transcripts): unsupervised
        // adaptation to the speaker, as a dictation system adapts to what it has heard so far. A model trained on
        // per-utterance statistics gains from it too: they are a noisy, word-dependent estimate of the same thing.
        var oneVoice = perSpeaker || recognizer.Config.SpeakerNormalization;
        var voteOnly = speeds is not null && adaptation is null;   // voting takes statistics at each speed itself
        using var speakers = oneVoice && !voteOnly
            ? new SpeakerStatisticsSet(strings.GroupBy(s => s.Speaker).ToDictionary(g => g.Key, g => recognizer.SpeakerStatistics(g.Select(s => s.Audio))))
            : null;
        string[]? byVoice = null;
        if (adaptation is not null || speeds is not null)
        {
            // Each voice alone: adapt to it (then put the weights back), and/or vote over the speeds.
            using var original = adaptation is null ? null : new WeightSnapshot(recognizer.Model);
            byVoice = PerSpeaker(strings, (voice, clips) =>
            {
                try
                {
                    var adapted = adaptation is null ? null
                        : SpeakerAdaptation.Adapt(recognizer, clips, speakers?.BySpeaker[voice], adaptation, decoding).Transcripts;
                    return speeds is null ? adapted! : SpeedVoting.Transcribe(recognizer, clips, speeds, decoding, oneVoice).Transcripts;
                }
                finally { original?.Restore(); }
            });
        }
        // As recorded: an ensemble transcribes several strings at once (one per core), a single model one after another.
        byVoice ??= [.. recognizer.TranscribeAll([.. strings.Select(s => s.Audio)], decoding, i => speakers?.BySpeaker[strings[i].Speaker])];
        return Score(strings, i => byVoice[i], examples, clock);
    }

    /// <summary>Scores given hypotheses, one per string, against the strings' transcripts (no timing).</summary>
    /// <exception cref="ArgumentException">Not one hypothesis per string.</exception>
    public static AsrEvaluation Score(IReadOnlyList<DigitString> strings, IReadOnlyList<string> hypotheses, int examples = 5)
    {
        ArgumentNullException.ThrowIfNull(strings);
        ArgumentNullException.ThrowIfNull(hypotheses);
        if (hypotheses.Count != strings.Count)
            throw new ArgumentException($"{strings.Count} strings but {hypotheses.Count} hypotheses.", nameof(hypotheses));
        return Score(strings, i => hypotheses[i], examples, new Stopwatch());
    }

    /// <summary>Scores <c>transcribe(i)</c> against each string's transcript; the clock's time so far is the cost.</summary>
    static AsrEvaluation Score(IReadOnlyList<DigitString> strings, Func<int, string> transcribe, int examples, Stopwatch clock,
        double otherAudioSeconds = 0)
    {
        ErrorCounts chars = ErrorCounts.Zero, words = ErrorCounts.Zero;
        var shown = new List<(string, string)>();
        for (var i = 0; i < strings.Count; i++)
        {
            var s = strings[i];
            var hypothesis = transcribe(i);
            chars += EditDistance.Cer(s.Transcript, hypothesis);
            words += EditDistance.Wer(s.Transcript, hypothesis);
            if (shown.Count < examples) shown.Add((s.Transcript, hypothesis));
        }
        return new AsrEvaluation(chars.Rate, words.Rate, strings.Count, chars, words,
            strings.Sum(s => s.Audio.Seconds) + otherAudioSeconds, clock.Elapsed.TotalSeconds, shown);
    }

    /// <summary>One speaker's strings in two parts that share no recording: <c>AdaptOn</c> built from their recordings
    /// 0–24, <c>Score</c> from 25–49, each recording once (about 62 strings a side for FSDD), at most
    /// <paramref name="count"/> a side, with fixed seeds.</summary>
    /// <exception cref="ArgumentException">No recordings of <paramref name="speaker"/>, or none on one side.</exception>
    public static (IReadOnlyList<DigitString> AdaptOn, IReadOnlyList<DigitString> Score) SpeakerSplitStrings(
        IReadOnlyList<DigitRecording> recordings, string speaker, int count = 100)
    {
        var theirs = RecordingsOf(recordings, speaker);
        var first = theirs.Where(r => r.Index < 25).ToList();
        var second = theirs.Where(r => r.Index >= 25).ToList();
        if (first.Count == 0 || second.Count == 0)
            throw new ArgumentException($"Speaker '{speaker}' needs recordings with indices both below and from 25 to split them.");
        return (new DigitStringBuilder(first).BuildEachOnce(EvaluationSeed + 3, count),
                new DigitStringBuilder(second).BuildEachOnce(EvaluationSeed + 4, count));
    }

    /// <summary>Does adaptation carry over to recordings it never saw? Normalises with statistics of
    /// <paramref name="adaptOn"/> alone, scores <paramref name="score"/>, adapts on <paramref name="adaptOn"/>'s audio
    /// (no transcripts) and scores <paramref name="score"/> again; then puts the weights back.</summary>
    /// <param name="recognizer">The recognizer; its weights are restored before returning.</param>
    /// <param name="adaptOn">Strings of one voice to adapt on.</param>
    /// <param name="score">Other strings of the same voice, never adapted on.</param>
    /// <param name="adaptation">Rounds and settings of <see cref="SpeakerAdaptation.Adapt"/>.</param>
    /// <param name="decoding">How text is decoded, for the pseudo-labels and the scores.</param>
    /// <param name="examples">How many (reference, hypothesis) pairs each evaluation keeps.</param>
    /// <returns>The scores before and after; <c>After</c>'s time and audio include the adaptation's.</returns>
    /// <exception cref="ArgumentException">A set is empty, or <paramref name="adaptOn"/> holds more than one voice.</exception>
    public static (AsrEvaluation Before, AsrEvaluation After) EvaluateAdaptationOnNewRecordings(SpeechRecognizer recognizer,
        IReadOnlyList<DigitString> adaptOn, IReadOnlyList<DigitString> score, SpeakerAdaptationOptions adaptation,
        CtcDecoding decoding = CtcDecoding.Lexicon, int examples = 5)
    {
        ArgumentNullException.ThrowIfNull(recognizer);
        ArgumentNullException.ThrowIfNull(adaptOn);
        ArgumentNullException.ThrowIfNull(score);
        ArgumentNullException.ThrowIfNull(adaptation);
        if (adaptOn.Count == 0 || score.Count == 0)
            throw new ArgumentException("Both the strings to adapt on and the strings to score must be non-empty.");
        var voices = adaptOn.Select(s => s.Speaker).Distinct().ToList();
        if (voices.Count > 1)
            throw new ArgumentException($"Adapt on one voice at a time; the strings to adapt on hold {string.Join(", ", voices)}.", nameof(adaptOn));
        using var stats = recognizer.SpeakerStatistics(adaptOn.Select(s => s.Audio));
        var before = Score(score, i => recognizer.Transcribe(score[i].Audio, decoding, stats), examples, Stopwatch.StartNew());
        using var original = new WeightSnapshot(recognizer.Model);
        try
        {
            var clock = Stopwatch.StartNew();
            SpeakerAdaptation.Adapt(recognizer, [.. adaptOn.Select(s => s.Audio)], stats, adaptation, decoding);
            var after = Score(score, i => recognizer.Transcribe(score[i].Audio, decoding, stats), examples, clock,
                otherAudioSeconds: adaptOn.Sum(s => s.Audio.Seconds));
            return (before, after);
        }
        finally { original.Restore(); }
    }

    /// <summary>Transcripts in the strings' order, from <paramref name="transcribe"/> called once per speaker with that
    /// speaker's clips.</summary>
    static string[] PerSpeaker(IReadOnlyList<DigitString> strings, Func<string, List<AudioClip>, IReadOnlyList<string>> transcribe)
    {
        var result = new string[strings.Count];
        foreach (var group in Enumerable.Range(0, strings.Count).GroupBy(i => strings[i].Speaker))
        {
            var indices = group.ToList();
            var transcripts = transcribe(group.Key, [.. indices.Select(i => strings[i].Audio)]);
            for (var k = 0; k < indices.Count; k++) result[indices[k]] = transcripts[k];
        }
        return result;
    }
}
