using System.Text.Json;
using RnnNotebooks.Audio;
using RnnNotebooks.Decoding;
using RnnNotebooks.Text;
using RnnNotebooks.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace RnnNotebooks.Speech;

/// <summary>How log probabilities become text.</summary>
public enum CtcDecoding
{
    /// <summary>Best path (<see cref="CtcDecoder.Greedy(float[,], int)"/>).</summary>
    Greedy,
    /// <summary>Prefix beam search over any character sequence.</summary>
    Beam,
    /// <summary>Prefix beam search that only spells words of the lexicon (the ten digit words).</summary>
    Lexicon,
}

/// <summary>Everything besides the weights that a saved recognizer needs: saved as the checkpoint's file <c>asr.json</c>.</summary>
/// <param name="Model">Acoustic model sizes.</param>
/// <param name="Features">Feature settings.</param>
/// <param name="Letters">The character set's letters (labels 2…).</param>
/// <param name="Lexicon">Words allowed by <see cref="CtcDecoding.Lexicon"/>.</param>
/// <param name="TrainedOn">Speakers whose recordings trained the model.</param>
/// <param name="Notes">Free-form facts about the run (split, seed, validation CER…).</param>
/// <remarks>Introduced in 05-speech-recognition.</remarks>
public sealed record RecognizerConfig(
    AcousticModelOptions Model,
    FeatureOptions Features,
    string Letters,
    IReadOnlyList<string> Lexicon,
    IReadOnlyList<string> TrainedOn,
    IReadOnlyDictionary<string, string>? Notes = null);

/// <summary>An acoustic model with its features, characters and decoder: audio in, text out.</summary>
/// <remarks>Introduced in 05-speech-recognition.</remarks>
public sealed class SpeechRecognizer : IDisposable
{
    /// <summary>Plain name of the configuration, one of the checkpoint's files (see <see cref="Checkpoint.PathOf"/>).</summary>
    public const string ConfigFile = "asr.json";

    readonly LogMelFeatures features;
    readonly LogMelFeatures rawFeatures;   // the same, not normalised
    readonly CtcLexicon lexicon;
    AcousticModel[] members;

    public SpeechRecognizer(AcousticModel model, RecognizerConfig config)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(config);
        Model = model;
        Config = config;
        Characters = Vocabulary.ForCtc(config.Letters);
        if (model.Options.Classes != Characters.Size || model.Options.InputSize != config.Features.Dimension)
            throw new ArgumentException(
                $"The model ({model.Options.InputSize} inputs, {model.Options.Classes} classes) does not fit the features " +
                $"({config.Features.Dimension} per frame) and characters ({Characters.Size} classes).");
        members = [model];
        features = new LogMelFeatures(config.Features);
        rawFeatures = new LogMelFeatures(config.Features with { Normalize = false });
        lexicon = CtcLexicon.For(Characters, config.Lexicon);
    }

    /// <summary>A new, untrained recognizer for the digit words with the given (or default) settings.</summary>
    public static SpeechRecognizer Create(FeatureOptions? featureOptions = null, AcousticModelOptions? modelOptions = null,
        IReadOnlyList<string>? trainedOn = null)
    {
        featureOptions ??= new FeatureOptions();
        modelOptions = (modelOptions ?? new AcousticModelOptions()) with
        {
            InputSize = featureOptions.Dimension,
            Classes = Vocabulary.ForCtc(SpokenDigits.Letters).Size,
        };
        var config = new RecognizerConfig(modelOptions, featureOptions, SpokenDigits.Letters, SpokenDigits.Words, trainedOn ?? []);
        return new SpeechRecognizer(new AcousticModel(modelOptions), config);
    }

    /// <summary>The acoustic model (of an ensemble, the first).</summary>
    public AcousticModel Model { get; }

    /// <summary>The acoustic models that transcribe: <see cref="Model"/> alone, or every model of an ensemble
    /// (<see cref="LoadEnsemble"/>).</summary>
    public IReadOnlyList<AcousticModel> Members => members;

    /// <summary>Settings saved beside the weights.</summary>
    public RecognizerConfig Config { get; private set; }

    /// <summary>The output characters.</summary>
    public Vocabulary Characters { get; }

    /// <summary>Beam width for <see cref="CtcDecoding.Beam"/> and <see cref="CtcDecoding.Lexicon"/>.</summary>
    public int BeamWidth { get; set; } = 8;

    /// <summary>How an ensemble picks among its members' proposals (<see cref="EnsembleChoice"/>): false (the default)
    /// by the highest summed CTC log-likelihood alone; true by the number of members that proposed it first, the
    /// likelihood breaking ties.</summary>
    public bool EnsembleVotes { get; set; }

    /// <summary>Features of a clip (resampled to the feature rate if needed): <c>[frames, dims]</c>, normalised with
    /// <paramref name="speaker"/>'s statistics when given, else with the clip's own.</summary>
    /// <param name="clip">The audio.</param>
    /// <param name="speaker">The speaker's statistics, or null for the clip's own.</param>
    public Tensor Features(AudioClip clip, FeatureStatistics? speaker = null)
    {
        if (speaker is null) return features.Compute(clip);
        using var scope = NewDisposeScope();
        return speaker.Normalize(rawFeatures.Compute(clip)).MoveToOuterDisposeScope();
    }

    /// <summary>The statistics of the un-normalised features of <paramref name="clips"/>, all spoken by one voice:
    /// what <see cref="Features"/> needs for per-speaker normalisation. The more speech, the better; one clip gives
    /// the same features as per-utterance normalisation.</summary>
    public FeatureStatistics SpeakerStatistics(IEnumerable<AudioClip> clips)
    {
        ArgumentNullException.ThrowIfNull(clips);
        // The features are computed inside Of's dispose scope, as it enumerates, and freed with it.
        return FeatureStatistics.Of(clips.Select(c => rawFeatures.Compute(c)));
    }

    /// <summary>Per-frame log probabilities of a clip: <c>[outFrames, classes]</c>, computed in eval mode without gradients.</summary>
    public Tensor LogProbabilities(AudioClip clip, FeatureStatistics? speaker = null)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var wasTraining = Model.training;
        Model.eval();
        var x = Features(clip, speaker);
        var logProbs = Model.call(x.unsqueeze(0), tensor(new[] { x.shape[0] }))[0];
        if (wasTraining) Model.train();
        return logProbs.MoveToOuterDisposeScope();
    }

    /// <summary>Text of per-frame log probabilities <c>[outFrames, classes]</c>.</summary>
    public string Decode(Tensor logProbabilities, CtcDecoding decoding = CtcDecoding.Greedy)
    {
        var m = CtcDecoder.ToMatrix(logProbabilities);
        var labels = decoding switch
        {
            CtcDecoding.Greedy => CtcDecoder.Greedy(m).Labels,
            CtcDecoding.Beam => CtcDecoder.BeamSearch(m, BeamWidth, labelPruning: -10)[0].Labels,
            _ => CtcDecoder.BeamSearch(m, BeamWidth, constraint: lexicon, labelPruning: -10)[0].Labels,
        };
        return Characters.Decode(labels).Trim();
    }

    /// <summary>The text spoken in <paramref name="clip"/>; <paramref name="speaker"/> as in <see cref="Features"/>.
    /// An ensemble (<see cref="Members"/>) returns the transcript that <see cref="EnsembleChoice"/> picks.</summary>
    public string Transcribe(AudioClip clip, CtcDecoding decoding = CtcDecoding.Lexicon, FeatureStatistics? speaker = null)
    {
        if (members.Length > 1) return Choose(clip, decoding, speaker, parallel: true, scoreAgreement: false).Transcript;
        using var logProbs = LogProbabilities(clip, speaker);
        return Decode(logProbs, decoding);
    }

    /// <summary>Transcribes many clips, as <see cref="Transcribe"/> does one by one. An ensemble works on several clips
    /// at once, one core each (its members one after another), which keeps every core busy whatever the number of
    /// members; a single model goes clip by clip on the calling thread.</summary>
    /// <param name="clips">The audio.</param>
    /// <param name="decoding">How text is decoded.</param>
    /// <param name="speakerOf">Feature statistics for clip <c>i</c> (null: the clip's own), as in <see cref="Features"/>.</param>
    public IReadOnlyList<string> TranscribeAll(IReadOnlyList<AudioClip> clips, CtcDecoding decoding = CtcDecoding.Lexicon,
        Func<int, FeatureStatistics?>? speakerOf = null)
    {
        ArgumentNullException.ThrowIfNull(clips);
        var result = new string[clips.Count];
        if (members.Length == 1)
        {
            for (var i = 0; i < clips.Count; i++) result[i] = Transcribe(clips[i], decoding, speakerOf?.Invoke(i));
            return result;
        }
        // Eval mode for the whole batch, set once here: workers that each set and restored it could race.
        var training = members.Select(m => m.training).ToArray();
        foreach (var m in members) m.eval();
        try
        {
            Parallel.For(0, clips.Count, new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount }, i =>
                result[i] = Choose(clips[i], decoding, speakerOf?.Invoke(i), parallel: false, scoreAgreement: false).Transcript);
        }
        finally
        {
            for (var k = 0; k < members.Length; k++) members[k].train(training[k]);
        }
        return result;
    }

    /// <summary>
    /// How an ensemble transcribes: every member decodes the clip, then every member scores every distinct transcript
    /// proposed, by its CTC log-likelihood (the sum over all of that member's alignments), and the transcript with the
    /// highest total wins (a tie goes to the earlier member's proposal). Posteriors are not averaged frame by frame:
    /// models trained from different seeds put the spike of a letter on different frames, and the average of a spike
    /// and a blank is a blank (three seeds' average deleted a fifth of george's letters).
    /// </summary>
    /// <param name="clip">The audio.</param>
    /// <param name="decoding">How each member decodes its proposal.</param>
    /// <param name="speaker">Feature statistics of the voice, as in <see cref="Features"/>.</param>
    /// <returns>The winner, every proposal (one per member, in member order), and each distinct proposal's total
    /// log-likelihood.</returns>
    public (string Transcript, IReadOnlyList<string> Proposals, IReadOnlyDictionary<string, double> Scores) EnsembleChoice(
        AudioClip clip, CtcDecoding decoding = CtcDecoding.Lexicon, FeatureStatistics? speaker = null) =>
        Choose(clip, decoding, speaker, parallel: true, scoreAgreement: true);

    /// <summary><see cref="EnsembleChoice"/>, with the members side by side or one after another, and (when
    /// <paramref name="scoreAgreement"/> is false) no scoring at all when every member proposed the same text.</summary>
    (string Transcript, IReadOnlyList<string> Proposals, IReadOnlyDictionary<string, double> Scores) Choose(
        AudioClip clip, CtcDecoding decoding, FeatureStatistics? speaker, bool parallel, bool scoreAgreement)
    {
        ArgumentNullException.ThrowIfNull(clip);
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var x = Features(clip, speaker).unsqueeze(0);
        var lengths = tensor(new[] { x.shape[1] });
        var training = members.Select(m => m.training).ToArray();
        var logProbs = new Tensor[members.Length];                      // [1, T', C] each
        var proposals = new string[members.Length];
        try
        {
            // The members listen and decode side by side, one core each (gradient mode and dispose scopes are per
            // thread, so each worker sets its own; the results leave the worker's scope and join this one).
            foreach (var m in members) m.eval();
            Parallel.For(0, members.Length, new ParallelOptions { MaxDegreeOfParallelism = parallel ? Environment.ProcessorCount : 1 }, k =>
            {
                using var workerScope = NewDisposeScope();
                using var workerNoGrad = no_grad();
                var lp = members[k].call(x, lengths);
                proposals[k] = Decode(lp[0], decoding);
                logProbs[k] = lp.DetachFromDisposeScope();
            });
            scope.Attach(logProbs);
            var scores = new Dictionary<string, double>(StringComparer.Ordinal);
            if (!scoreAgreement && proposals.All(p => p == proposals[0])) return (proposals[0], proposals, scores);
            foreach (var proposal in proposals.Distinct(StringComparer.Ordinal))
            {
                var target = Characters.Encode(proposal).Select(l => (long)l).ToArray();
                var total = 0.0;
                for (var k = 0; k < members.Length; k++)
                {
                    var loss = nn.functional.ctc_loss(logProbs[k].transpose(0, 1), tensor(target).unsqueeze(0),
                        members[k].OutputLengths(lengths), tensor(new[] { (long)target.Length }), blank: Vocabulary.Blank,
                        reduction: nn.Reduction.Sum, zero_infinity: false);
                    total -= loss.item<float>();
                }
                scores[proposal] = total;
            }
            // Highest total (with EnsembleVotes, most proposers first); among equals, the proposal of the earliest member.
            var best = proposals.Select((p, k) => (p, k))
                .OrderByDescending(t => EnsembleVotes ? proposals.Count(q => q == t.p) : 0)
                .ThenByDescending(t => scores[t.p]).ThenBy(t => t.k).First().p;
            return (best, proposals, scores);
        }
        catch
        {
            foreach (var lp in logProbs) lp?.Dispose();   // a worker failed: what the others made is not in any scope yet
            throw;
        }
        finally
        {
            for (var k = 0; k < members.Length; k++) members[k].train(training[k]);
        }
    }

    /// <summary>Saves weights, optimizer and training state and <c>asr.json</c> as one <see cref="Checkpoint"/>, in one atomic
    /// step; <paramref name="extraFiles"/> are saved with them.</summary>
    /// <exception cref="InvalidOperationException">The recognizer is an ensemble (save each member where it was trained).</exception>
    public void Save(string dir, optim.Optimizer? optimizer, TrainingState state, IReadOnlyDictionary<string, string>? notes = null,
        IReadOnlyDictionary<string, Action<BinaryWriter>>? extraFiles = null)
    {
        if (members.Length > 1)
            throw new InvalidOperationException(
                $"This recognizer is an ensemble of {members.Length} models, loaded from their own directories; it has no single checkpoint to save.");
        var config = notes is null ? Config : Config with { Notes = notes };
        Checkpoint.Save(dir, Model, optimizer, state, Checkpoint.Files(extraFiles, (ConfigFile, JsonSerializer.Serialize(config, Json.Options))));
        Config = config;
    }

    /// <summary>Replaces the notes of the recognizer saved in <paramref name="dir"/> (its <c>asr.json</c>, atomically),
    /// leaving its weights and checkpoint as they are: for results measured after the model was saved.</summary>
    public void SaveNotes(string dir, IReadOnlyDictionary<string, string> notes)
    {
        var config = Config with { Notes = notes };
        Checkpoint.Replace(dir, new Dictionary<string, Action<BinaryWriter>> { [ConfigFile] = Checkpoint.Text(JsonSerializer.Serialize(config, Json.Options)) });
        Config = config;
    }

    /// <summary>The configuration (<c>asr.json</c>: sizes, features, characters, notes) of a saved recognizer, without
    /// loading its weights.</summary>
    /// <exception cref="FileNotFoundException">No <c>asr.json</c> in <paramref name="dir"/>.</exception>
    /// <exception cref="InvalidDataException">It is unreadable or lacks required fields.</exception>
    public static RecognizerConfig ReadConfig(string dir)
    {
        ArgumentNullException.ThrowIfNull(dir);
        var path = Checkpoint.Locate(dir, ConfigFile) ?? Path.Combine(dir, ConfigFile);
        if (!File.Exists(path))
            throw new FileNotFoundException(
                $"{path}: not found; {dir} does not hold a speech model. Train one with `rnn asr train --out {dir}`.", path);
        RecognizerConfig? config;
        try
        {
            var text = File.ReadAllText(path);
            RejectRemovedExperiments(path, text);
            config = JsonSerializer.Deserialize<RecognizerConfig>(text, Json.Options);
        }
        catch (JsonException e) { throw new InvalidDataException($"{path}: not a readable recognizer configuration ({e.Message}).", e); }
        if (config?.Model is null || config.Features is null || config.Letters is null || config.Lexicon is null)
            throw new InvalidDataException($"{path}: the recognizer configuration lacks required fields; train the model again.");
        return config;
    }

    /// <summary>Models trained with an experiment that the library no longer has (a 2-D front end along frequency,
    /// training on per-speaker statistics) cannot be rebuilt, so they are refused by name; the same keys at their
    /// off values, as every other older checkpoint wrote them, are ignored.</summary>
    static void RejectRemovedExperiments(string path, string text)
    {
        using var doc = JsonDocument.Parse(text);
        var root = doc.RootElement;
        if (root.ValueKind != JsonValueKind.Object) return;
        string? used = null;
        if (root.TryGetProperty("speaker_normalization", out var norm) && norm.ValueKind == JsonValueKind.True)
            used = "training on per-speaker statistics (speaker_normalization)";
        else if (root.TryGetProperty("model", out var model) && model.ValueKind == JsonValueKind.Object
            && model.TryGetProperty("frequency_bands", out var bands) && bands.ValueKind == JsonValueKind.Number
            && bands.TryGetInt32(out var n) && n != 0)
            used = $"the 2-D convolutional front end along frequency (model.frequency_bands {n})";
        if (used is not null)
            throw new InvalidDataException($"{path}: this model was trained with {used}, an experiment the library no longer " +
                "has. Train it again with `rnn asr train`, or load it with commit 0487d90 of RnnNotebooks, which still has the code.");
    }

    /// <summary>Loads a recognizer saved with <see cref="Save"/>.</summary>
    /// <exception cref="FileNotFoundException">No <c>asr.json</c> or checkpoint in <paramref name="dir"/>.</exception>
    /// <exception cref="InvalidDataException">A file is unreadable or does not fit.</exception>
    public static SpeechRecognizer Load(string dir)
    {
        var config = ReadConfig(dir);
        var recognizer = new SpeechRecognizer(new AcousticModel(config.Model), config);
        Checkpoint.Load(dir, recognizer.Model);
        recognizer.Model.eval();
        return recognizer;
    }

    /// <summary>
    /// Loads several recognizers saved with <see cref="Save"/> (e.g. the same recipe trained with different seeds) as
    /// one ensemble: each member proposes a transcript and all of them judge the proposals (<see cref="EnsembleChoice"/>).
    /// Members' mistakes differ more than their right answers do, so they rarely agree on the same wrong one. A
    /// directory that holds no <c>asr.json</c> but sub-directories that do (<c>rnn asr train --ensemble N</c>) stands
    /// for all of them. <see cref="LogProbabilities"/> and <see cref="Model"/> are the first member's.
    /// </summary>
    /// <param name="dirs">One or more checkpoint directories.</param>
    /// <returns>A recognizer whose <see cref="Members"/> are the loaded models (a single model when there is one).</returns>
    /// <exception cref="ArgumentException">No directories, or the members' features, characters or lexicon differ.</exception>
    /// <exception cref="FileNotFoundException">A directory holds no recognizer.</exception>
    public static SpeechRecognizer LoadEnsemble(IReadOnlyList<string> dirs)
    {
        ArgumentNullException.ThrowIfNull(dirs);
        var expanded = dirs.SelectMany(CheckpointDirectories).ToList();
        if (expanded.Count == 0) throw new ArgumentException("Give at least one checkpoint directory.", nameof(dirs));
        var loaded = new List<SpeechRecognizer>();
        try
        {
            foreach (var dir in expanded) loaded.Add(Load(dir));
            var first = loaded[0];
            for (var i = 1; i < loaded.Count; i++)
            {
                var other = loaded[i].Config;
                var differs = other.Features != first.Config.Features ? "features"
                    : other.Letters != first.Config.Letters ? "characters"
                    : !other.Lexicon.SequenceEqual(first.Config.Lexicon) ? "lexicon"
                    : null;
                if (differs is not null)
                    throw new ArgumentException($"{expanded[i]}: its {differs} differ from those of {expanded[0]}; " +
                        "an ensemble needs models trained with the same features, characters and lexicon (e.g. one recipe with different seeds).",
                        nameof(dirs));
            }
            if (loaded.Count == 1) return first;
            first.members = [.. loaded.Select(r => r.Model)];
            first.Config = first.Config with
            {
                TrainedOn = [.. loaded.SelectMany(r => r.Config.TrainedOn).Distinct().Order(StringComparer.Ordinal)],
                Notes = new Dictionary<string, string> { ["ensemble"] = string.Join(",", expanded.Select(Path.GetFullPath)) },
            };
            foreach (var r in loaded.Skip(1)) r.DisposeAllButModel();
            return first;
        }
        catch
        {
            foreach (var r in loaded) r.Dispose();
            throw;
        }
    }

    /// <summary>A checkpoint directory itself, or, when it has no <c>asr.json</c>, its sub-directories that do (sorted
    /// by name): how <see cref="LoadEnsemble"/> reads a directory.</summary>
    /// <param name="dir">A checkpoint directory, or a directory of them.</param>
    public static IEnumerable<string> CheckpointDirectories(string dir)
    {
        ArgumentNullException.ThrowIfNull(dir);
        if (Checkpoint.Has(dir, ConfigFile) || !Directory.Exists(dir)) return [dir];
        var inside = Directory.GetDirectories(dir).Where(d => Checkpoint.Has(d, ConfigFile))
            .Order(StringComparer.Ordinal).ToList();
        return inside.Count > 0 ? inside : [dir];   // none: Load names the missing asr.json
    }

    void DisposeAllButModel()
    {
        features.Dispose();
        rawFeatures.Dispose();
    }

    public void Dispose()
    {
        features.Dispose();
        rawFeatures.Dispose();
        foreach (var m in members) m.Dispose();
    }
}
