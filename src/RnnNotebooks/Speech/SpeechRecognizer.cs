using System.Text.Json;
using RnnNotebooks.Audio;
using RnnNotebooks.Decoding;
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

/// <summary>Everything besides the weights that a saved recognizer needs: written as <c>asr.json</c> beside the checkpoint.</summary>
/// <param name="Model">Acoustic model sizes.</param>
/// <param name="Features">Feature settings.</param>
/// <param name="Letters">The character set's letters (labels 2…).</param>
/// <param name="Lexicon">Words allowed by <see cref="CtcDecoding.Lexicon"/>.</param>
/// <param name="TrainedOn">Speakers whose recordings trained the model.</param>
/// <param name="Notes">Free-form facts about the run (split, seed, validation CER…).</param>
/// <param name="SpeakerNormalization">Trained on features normalised with each speaker's statistics
/// (<see cref="FeatureStatistics"/>) rather than each utterance's; recognition should then be given the statistics of
/// the voice it hears (<see cref="SpeechRecognizer.SpeakerStatistics"/>).</param>
/// <remarks>Introduced in 05-speech-recognition.</remarks>
public sealed record RecognizerConfig(
    AcousticModelOptions Model,
    FeatureOptions Features,
    string Letters,
    IReadOnlyList<string> Lexicon,
    IReadOnlyList<string> TrainedOn,
    IReadOnlyDictionary<string, string>? Notes = null,
    bool SpeakerNormalization = false);

/// <summary>An acoustic model with its features, characters and decoder: audio in, text out.</summary>
/// <remarks>Introduced in 05-speech-recognition.</remarks>
public sealed class SpeechRecognizer : IDisposable
{
    /// <summary>File name of the configuration beside the checkpoint.</summary>
    public const string ConfigFile = "asr.json";

    readonly LogMelFeatures features;
    readonly LogMelFeatures rawFeatures;   // the same, not normalised
    readonly CtcLexicon lexicon;

    public SpeechRecognizer(AcousticModel model, RecognizerConfig config)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(config);
        Model = model;
        Config = config;
        Characters = new CharacterSet(config.Letters);
        if (model.Options.Classes != Characters.Count || model.Options.InputSize != config.Features.Dimension)
            throw new ArgumentException(
                $"The model ({model.Options.InputSize} inputs, {model.Options.Classes} classes) does not fit the features " +
                $"({config.Features.Dimension} per frame) and characters ({Characters.Count} classes).");
        features = new LogMelFeatures(config.Features);
        rawFeatures = new LogMelFeatures(config.Features with { Normalize = false });
        lexicon = Characters.Lexicon(config.Lexicon);
    }

    /// <summary>A new, untrained recognizer for the digit words with the given (or default) settings.</summary>
    public static SpeechRecognizer Create(FeatureOptions? featureOptions = null, AcousticModelOptions? modelOptions = null,
        IReadOnlyList<string>? trainedOn = null, bool speakerNormalization = false)
    {
        featureOptions ??= new FeatureOptions();
        var characters = CharacterSet.DigitWords;
        modelOptions = (modelOptions ?? new AcousticModelOptions()) with
        {
            InputSize = featureOptions.Dimension,
            Classes = characters.Count,
        };
        var config = new RecognizerConfig(modelOptions, featureOptions, characters.Letters, SpokenDigits.Words, trainedOn ?? [],
            SpeakerNormalization: speakerNormalization);
        return new SpeechRecognizer(new AcousticModel(modelOptions), config);
    }

    /// <summary>The acoustic model.</summary>
    public AcousticModel Model { get; }

    /// <summary>Settings saved beside the weights.</summary>
    public RecognizerConfig Config { get; private set; }

    /// <summary>The output characters.</summary>
    public CharacterSet Characters { get; }

    /// <summary>Beam width for <see cref="CtcDecoding.Beam"/> and <see cref="CtcDecoding.Lexicon"/>.</summary>
    public int BeamWidth { get; set; } = 8;

    /// <summary>Features of a clip (resampled to the feature rate if needed): <c>[frames, dims]</c>, normalised with
    /// <paramref name="speaker"/>'s statistics when given, else with the clip's own.</summary>
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

    /// <summary>The text spoken in <paramref name="clip"/>; <paramref name="speaker"/> as in <see cref="Features"/>.</summary>
    public string Transcribe(AudioClip clip, CtcDecoding decoding = CtcDecoding.Lexicon, FeatureStatistics? speaker = null)
    {
        using var logProbs = LogProbabilities(clip, speaker);
        return Decode(logProbs, decoding);
    }

    /// <summary>Saves weights, optimizer and training state (<see cref="Checkpoint.Save"/>) and <c>asr.json</c>, atomically.</summary>
    public void Save(string dir, optim.Optimizer? optimizer, TrainingState state, IReadOnlyDictionary<string, string>? notes = null)
    {
        if (notes is not null) Config = Config with { Notes = notes };
        Checkpoint.Save(dir, Model, optimizer, state);
        AtomicFile.WriteAllText(Path.Combine(dir, ConfigFile), JsonSerializer.Serialize(Config, Json.Options));
    }

    /// <summary>Loads a recognizer saved with <see cref="Save"/>.</summary>
    /// <exception cref="FileNotFoundException">No <c>asr.json</c> or checkpoint in <paramref name="dir"/>.</exception>
    /// <exception cref="InvalidDataException">A file is unreadable or does not fit.</exception>
    public static SpeechRecognizer Load(string dir)
    {
        var path = Path.Combine(dir, ConfigFile);
        if (!File.Exists(path))
            throw new FileNotFoundException(
                $"{path}: not found; {dir} does not hold a speech model. Train one with `rnn asr train --out {dir}`.", path);
        RecognizerConfig? config;
        try { config = JsonSerializer.Deserialize<RecognizerConfig>(File.ReadAllText(path), Json.Options); }
        catch (JsonException e) { throw new InvalidDataException($"{path}: not a readable recognizer configuration ({e.Message}).", e); }
        if (config?.Model is null || config.Features is null || config.Letters is null || config.Lexicon is null)
            throw new InvalidDataException($"{path}: the recognizer configuration lacks required fields; train the model again.");
        var recognizer = new SpeechRecognizer(new AcousticModel(config.Model), config);
        Checkpoint.Load(dir, recognizer.Model);
        recognizer.Model.eval();
        return recognizer;
    }

    public void Dispose()
    {
        features.Dispose();
        rawFeatures.Dispose();
        Model.Dispose();
    }
}
