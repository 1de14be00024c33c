using System.Diagnostics;
using RnnNotebooks.Audio;
using RnnNotebooks.Metrics;
using RnnNotebooks.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace RnnNotebooks.Speech;

/// <summary>How <see cref="AsrTraining.Train(IReadOnlyList{DigitRecording}, IReadOnlyCollection{string}, AsrTrainingOptions, Action{TrainingProgress}?, CancellationToken, Action{SpeechRecognizer, int, double}?)"/>
/// trains a digit-string recognizer; saved with its checkpoint when it trains into a folder.</summary>
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
/// <param name="Speakers">The voices trained on: filled in by the overload that trains into a folder, so that a run on
/// other voices is not taken for the same run.</param>
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
    IReadOnlyList<string>? Speakers = null)
{
    /// <summary>The options with what may change between sessions of one run reset (epochs, time budget).</summary>
    public AsrTrainingOptions WithoutBudget() => this with { Epochs = 0, TimeBudget = null };
}

/// <summary>The result of training into a folder.</summary>
/// <param name="Recognizer">The trained recognizer, holding the best weights of the run (also those of an earlier
/// session when this one found none better); dispose it when done.</param>
/// <param name="Optimizer">Its optimizer, in the state of the end of training.</param>
/// <param name="State">Where training stopped.</param>
/// <param name="BestState">The state when the weights the recognizer holds were taken (null: none of this session's).</param>
/// <param name="BestValCer">The best validation CER of the run, this session or an earlier one (null: none).</param>
/// <param name="Resumed">Whether a checkpoint in the folder was continued.</param>
/// <remarks>Introduced in 05-speech-recognition.</remarks>
public sealed record AsrTrainingResult(SpeechRecognizer Recognizer, optim.Optimizer Optimizer, TrainingState State,
    TrainingState? BestState, double? BestValCer, bool Resumed);

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

    /// <summary>The score that chooses the kept weights and the learning-rate cuts: greedy CER on the validation strings.</summary>
    public static readonly Score ValidationCer = new("val_cer", HigherIsBetter: false);

    /// <summary>Trains a new recognizer on <paramref name="trainSpeakers"/>' recordings among <paramref name="recordings"/>.</summary>
    /// <param name="recordings">All recordings; those of <paramref name="trainSpeakers"/> are used.</param>
    /// <param name="trainSpeakers">The voices to train on.</param>
    /// <param name="options">The recipe.</param>
    /// <param name="progress">Called every few steps and after each epoch.</param>
    /// <param name="cancellationToken">Stops training; the model is still usable.</param>
    /// <param name="newBest">Called when a validation sets a new best CER, while the model holds those weights (the
    /// ones kept at the end with <see cref="AsrTrainingOptions.KeepBest"/>), with the epoch (1-based) and the CER.</param>
    public static (SpeechRecognizer Recognizer, TrainingState State, optim.Optimizer Optimizer) Train(
        IReadOnlyList<DigitRecording> recordings, IReadOnlyCollection<string> trainSpeakers, AsrTrainingOptions options,
        Action<TrainingProgress>? progress = null, CancellationToken cancellationToken = default,
        Action<SpeechRecognizer, int, double>? newBest = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        var mine = Mine(recordings, trainSpeakers);
        Seeds.Set(options.Seed);
        var recognizer = SpeechRecognizer.Create(options.Features, options.Model, [.. trainSpeakers.Order(StringComparer.Ordinal)]);
        var optimizer = new FastAdam(recognizer.Model.parameters(), options.LearningRate);
        var (state, _) = Fit(recognizer, optimizer, mine, options, null, progress, cancellationToken, best =>
            newBest is null ? [] : [new EpochAction(end =>
            {
                if (best.LastWasBest) newBest(recognizer, end.Summary.Epoch, best.BestScore!.Value);
            })]);
        return (recognizer, state, optimizer);
    }

    /// <summary>Saves a trained recognizer with its training state (and so its history) into <paramref name="dir"/>, as one
    /// atomic checkpoint without optimizer state: the <c>save</c> of a lesson's <see cref="Notebook.Pretrained.OrTrain{T}"/>;
    /// <see cref="LoadPrepared"/> reads it back.</summary>
    public static void SavePrepared(SpeechRecognizer recognizer, TrainingState state, string dir)
    {
        ArgumentNullException.ThrowIfNull(recognizer);
        recognizer.Save(dir, null, state);
    }

    /// <summary>Reads what <see cref="SavePrepared"/> wrote: the recognizer and the training state it was saved with.</summary>
    /// <exception cref="FileNotFoundException">A file is missing.</exception>
    /// <exception cref="InvalidDataException">A file is malformed or does not fit the others.</exception>
    public static (SpeechRecognizer Recognizer, TrainingState State) LoadPrepared(string dir) =>
        (SpeechRecognizer.Load(dir), Checkpoint.ReadState(dir));

    /// <summary>
    /// Trains into <paramref name="output"/> (<see cref="RunFolder"/>'s rule: a folder without a checkpoint starts a new
    /// run, a checkpoint of the same options resumes, any other is refused), saving the checkpoint with its options
    /// whenever the validation CER reaches a new best, so the folder always holds the best model of the run.
    /// </summary>
    /// <param name="recordings">All recordings; those of <paramref name="trainSpeakers"/> are used.</param>
    /// <param name="trainSpeakers">The voices to train on (part of the options that must match to resume).</param>
    /// <param name="options">The recipe; <see cref="AsrTrainingOptions.Epochs"/> counts the epochs of a resumed run.</param>
    /// <param name="output">The run folder.</param>
    /// <param name="existing">What to do with a checkpoint already there.</param>
    /// <param name="notes">Notes saved with each best checkpoint (e.g. the seed), given its state.</param>
    /// <param name="log">Told when the run resumes and when it saves.</param>
    /// <param name="progress">Called every few steps and after each epoch.</param>
    /// <param name="cancellationToken">Stops training after the current step; the best model is saved.</param>
    /// <exception cref="InvalidOperationException">The folder holds a checkpoint of other options (see <see cref="RunFolder.ShouldResume"/>).</exception>
    public static AsrTrainingResult Train(IReadOnlyList<DigitRecording> recordings, IReadOnlyCollection<string> trainSpeakers,
        AsrTrainingOptions options, string output, ExistingCheckpoint existing = ExistingCheckpoint.ResumeIfSame,
        Func<TrainingState, IReadOnlyDictionary<string, string>>? notes = null, Action<string>? log = null,
        Action<TrainingProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(output);
        var mine = Mine(recordings, trainSpeakers);
        options = options with { Speakers = [.. trainSpeakers.Order(StringComparer.Ordinal)] };
        (var resume, options) = Open(output, options, existing);
        if (resume && !options.Speakers!.SequenceEqual(trainSpeakers.Order(StringComparer.Ordinal)))
            mine = Mine(recordings, options.Speakers!);

        Seeds.Set(options.Seed);
        var recognizer = resume ? SpeechRecognizer.Load(output) : SpeechRecognizer.Create(options.Features, options.Model, options.Speakers);
        var optimizer = new FastAdam(recognizer.Model.parameters(), options.LearningRate);
        TrainingState? state = null;
        if (resume)
        {
            state = Checkpoint.Load(output, recognizer.Model, optimizer);
            log?.Invoke($"resuming {output}: epoch {state.Epoch}, step {state.Step}.");
        }
        void Save(TrainingState s)
        {
            recognizer.Save(output, optimizer, s, notes?.Invoke(s), RunFolder.OptionsFiles(options));
            log?.Invoke($"saved the best model so far (epoch {s.Epoch}{(s.BatchInEpoch > 0 ? $" +{s.BatchInEpoch} batches" : "")}) to {output}");
        }
        var (end, best) = Fit(recognizer, optimizer, mine, options, state, progress, cancellationToken,
            best => [new SaveNewBest(best, Save)], scoreAtStop: true);
        if (best.BestState is null)
        {
            if (!resume) Save(end);   // no validation, or stopped before the first epoch ended
            else
            {
                // This session found nothing better than the saved model: the folder keeps it, and so does the result.
                recognizer.Dispose();
                optimizer.Dispose();
                recognizer = SpeechRecognizer.Load(output);
                optimizer = new FastAdam(recognizer.Model.parameters(), options.LearningRate);
                Checkpoint.Load(output, recognizer.Model, optimizer);
            }
        }
        return new AsrTrainingResult(recognizer, optimizer, end, best.BestState, best.BestScore, resume);
    }

    /// <summary>Saves whenever <paramref name="best"/> just took new best weights: at an epoch end, or at a stop inside an
    /// epoch whose weights score better. Unlike <see cref="SaveCheckpoint"/> it does not save at a stop that found nothing
    /// better, since a resumed session must leave the better model in the folder.</summary>
    sealed class SaveNewBest(KeepBest best, Action<TrainingState> save) : IEpochHook
    {
        public void OnEpochEnd(EpochEnd end)
        {
            if (best.LastWasBest) save(end.State);
        }

        public void OnTrainingEnd(TrainingState state)
        {
            if (best.LastWasBest) save(state);
        }
    }

    /// <summary><see cref="RunFolder.Open"/> for a recognizer's run folder: resume, refuse or start over.</summary>
    /// <exception cref="InvalidOperationException">The folder holds a checkpoint of other options.</exception>
    public static (bool Resume, AsrTrainingOptions Options) Open(string output, AsrTrainingOptions options, ExistingCheckpoint existing) =>
        RunFolder.Open(output, options, o => o.WithoutBudget(),
            (saved, asked) => saved with { Epochs = asked.Epochs, TimeBudget = asked.TimeBudget }, existing, "speech recognizer");

    static List<DigitRecording> Mine(IReadOnlyList<DigitRecording> recordings, IReadOnlyCollection<string> trainSpeakers)
    {
        ArgumentNullException.ThrowIfNull(recordings);
        ArgumentNullException.ThrowIfNull(trainSpeakers);
        var mine = recordings.Where(r => trainSpeakers.Contains(r.Speaker)).ToList();
        return mine.Count > 0 ? mine
            : throw new ArgumentException($"No recordings of the training speakers ({string.Join(", ", trainSpeakers)}).");
    }

    /// <summary>The recipe's one <see cref="Trainer.Fit{TBatch}"/>: keeping the best validation CER's weights, halving the
    /// learning rate on a plateau, then <paramref name="more"/> hooks (given the one that keeps the best).</summary>
    static (TrainingState State, KeepBest Best) Fit(SpeechRecognizer recognizer, FastAdam optimizer, List<DigitRecording> mine,
        AsrTrainingOptions options, TrainingState? resume, Action<TrainingProgress>? progress, CancellationToken cancellationToken,
        Func<KeepBest, IEnumerable<IEpochHook>> more, bool scoreAtStop = false)
    {
        using var kernels = AcousticModel.TrainingKernels();
        var builder = new DigitStringBuilder(mine.Where(IsTraining), options.Strings ?? DigitStringOptions.Augmented);
        var validation = options.ValidationStrings > 0
            ? new DigitStringBuilder(mine.Where(IsValidation)).BuildMany(options.ValidationStrings, EvaluationSeed + 1)
            : [];

        double ValidationCerNow() => Evaluate(recognizer, validation, CtcDecoding.Greedy, perSpeaker: false).Cer;
        var best = new KeepBest(recognizer.Model, ValidationCer, scoreAtStop && validation.Count > 0 ? ValidationCerNow : null, options.KeepBest);
        List<IEpochHook> hooks = [best];
        // While the model still emits only blanks the CER is pinned at 100 % and says nothing about progress,
        // so the learning rate is only cut once something has been recognised.
        if (options.PlateauPatience > 0)
            hooks.Add(new ReduceOnPlateau(optimizer, ValidationCer, 0.5, patience: options.PlateauPatience,
                minLearningRate: options.MinLearningRate, uninformative: 1));
        hooks.AddRange(more(best));
        // The second core builds what the first will train on: the next epoch's strings (the slow part) on a
        // worker thread, the next batches' features on another (Prefetch). The same batches in the same order as
        // building them in place, so the same seed gives the same run (2 cores, one torch thread: an epoch of the
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
            return Prefetch.Ahead(Batches(recognizer, current.Strings, current.Random, options), b => b.Tensors);
        }

        try
        {
            var state = Trainer.Fit(
                recognizer.Model, optimizer,
                EpochBatches,
                batch => batch.Loss(recognizer.Model),
                new TrainerOptions(options.Epochs, options.ClipGradNorm, options.TimeBudget, LogEvery: 10),
                tokens: batch => batch.Count,
                validate: validation.Count == 0 ? null : () =>
                    new Dictionary<string, double> { [ValidationCer.Metric] = ValidationCerNow() },
                progress: progress,
                resume: resume,
                cancellationToken: cancellationToken,
                hooks: hooks);
            return (state, best);
        }
        finally
        {
            best.Dispose();
            // Training stopped early (time budget, cancellation, an error): the next epoch's strings are not needed.
            stopAhead.Cancel();
            try { ahead?.Wait(); }
            catch (AggregateException e) when (e.InnerExceptions.All(x => x is OperationCanceledException)) { }
        }
    }

    /// <summary>One epoch of padded batches: fresh strings (seeded by seed and epoch), grouped by length, in random order.</summary>
    public static IEnumerable<SpeechBatch> Batches(SpeechRecognizer recognizer, DigitStringBuilder builder,
        AsrTrainingOptions options, int epoch)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var (strings, random) = EpochStrings(builder, options, epoch);
        return Batches(recognizer, strings, random, options);
    }

    /// <summary>The fresh strings of one training epoch, and the generator (seeded by seed and epoch, already past
    /// the strings) that then shuffles and masks them: the first half of
    /// <see cref="Batches(SpeechRecognizer, DigitStringBuilder, AsrTrainingOptions, int)"/>,
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
    /// <see cref="Batches(SpeechRecognizer, DigitStringBuilder, AsrTrainingOptions, int)"/>.</summary>
    /// <param name="recognizer">Computes the features.</param>
    /// <param name="strings">The epoch's strings.</param>
    /// <param name="random">Draws the order and the masks.</param>
    /// <param name="options">Batch size and masks.</param>
    public static IEnumerable<SpeechBatch> Batches(SpeechRecognizer recognizer, IReadOnlyList<DigitString> strings, Random random,
        AsrTrainingOptions options)
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
                var features = batches[i].Select(s => options.SpecAugment is { } masks
                    ? SpecAugment.Apply(recognizer.Features(s.Audio), random, masks)
                    : recognizer.Features(s.Audio)).ToList();
                yield return SpeechBatch.Create(features, [.. batches[i].Select(s => s.Transcript)], recognizer.Characters);
            }
        }
    }

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
    /// each string with its own (false). The time to compute the statistics counts in the real-time factor.</param>
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
        var oneVoice = perSpeaker;
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
    static AsrEvaluation Score(IReadOnlyList<DigitString> strings, Func<int, string> transcribe, int examples, Stopwatch clock)
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
            strings.Sum(s => s.Audio.Seconds), clock.Elapsed.TotalSeconds, shown);
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
