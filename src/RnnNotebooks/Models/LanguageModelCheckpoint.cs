using System.Text.Json;
using System.Text.Json.Nodes;
using RnnNotebooks.Text;
using RnnNotebooks.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace RnnNotebooks.Models;

/// <summary>A language model read back from a checkpoint, with what it needs to turn text into ids.</summary>
/// <param name="Model">The model with the saved weights (in train mode).</param>
/// <param name="Vocabulary">The vocabulary it was trained with.</param>
/// <param name="State">Where training stood (pass it as <c>resume</c> to continue).</param>
/// <param name="Optimizer">The optimizer with its saved state, when one was asked for.</param>
/// <remarks>Introduced in 03-language-modeling.</remarks>
public sealed record LoadedLanguageModel(LanguageModel Model, Vocabulary Vocabulary, TrainingState State, optim.Optimizer? Optimizer)
{
    /// <summary>
    /// The hidden state carried between batches when training stopped in the middle of an epoch (hand it to
    /// <see cref="CarriedStateLoss.Restore"/> so the resumed run continues each stream where it was), or null
    /// when the checkpoint was saved at an epoch boundary or without it. The caller owns it.
    /// </summary>
    public RecurrentState? CarriedState { get; init; }
}

/// <summary>
/// Saves and loads a <see cref="LanguageModel"/> as a <see cref="Checkpoint"/> whose files include <c>lm.json</c>:
/// the model's options and the vocabulary, which a reader needs to rebuild the model before loading weights into it.
/// </summary>
/// <remarks>Introduced in 03-language-modeling.</remarks>
public static class LanguageModelCheckpoint
{
    /// <summary>File name of the model options and vocabulary.</summary>
    public const string ConfigFile = "lm.json";

    /// <summary>File name of the carried hidden state of a run stopped in the middle of an epoch.</summary>
    public const string CarriedStateFile = "carried-state.bin";

    const int FormatVersion = 1;

    /// <summary>
    /// Saves the checkpoint (weights, optimizer, training state) with <c>lm.json</c> to <paramref name="dir"/>, in one
    /// atomic step. When training stopped inside an epoch, pass the state the loss carries between
    /// batches (<see cref="CarriedStateLoss.State"/>) as <paramref name="carried"/>: without it a resumed run
    /// would start the rest of the epoch's streams from zeros instead of where they were. <paramref name="extraFiles"/>
    /// are saved with them (e.g. <see cref="RunFolder.OptionsFiles"/>).
    /// </summary>
    public static void Save(string dir, LanguageModel model, Vocabulary vocabulary, optim.Optimizer? optimizer, TrainingState state,
        RecurrentState? carried = null, IReadOnlyDictionary<string, Action<BinaryWriter>>? extraFiles = null)
    {
        ArgumentNullException.ThrowIfNull(dir);
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(vocabulary);
        if (vocabulary.Size != model.Options.VocabSize)
            throw new ArgumentException(
                $"The vocabulary has {vocabulary.Size} ids but the model is built for {model.Options.VocabSize}; save the vocabulary the model was built for.",
                nameof(vocabulary));
        var config = new JsonObject
        {
            ["format"] = FormatVersion,
            ["options"] = JsonSerializer.SerializeToNode(model.Options, Json.Options),
            ["vocabulary"] = JsonNode.Parse(vocabulary.ToJson()),
        };
        var files = Checkpoint.Files(extraFiles, (ConfigFile, config.ToJsonString(Json.Options)));
        // A save without the carried state removes an earlier one, so a stale state cannot leak into the next epoch's resume.
        if (carried is not null && state.BatchInEpoch > 0) files[CarriedStateFile] = w => WriteState(w, carried);
        Checkpoint.Save(dir, model, optimizer, state, files);
    }

    /// <summary>The model options and vocabulary of a checkpoint, without building the model.</summary>
    /// <exception cref="FileNotFoundException">No <c>lm.json</c> in <paramref name="dir"/>.</exception>
    /// <exception cref="InvalidDataException"><c>lm.json</c> is unreadable.</exception>
    public static (LanguageModelOptions Options, Vocabulary Vocabulary) ReadConfig(string dir)
    {
        ArgumentNullException.ThrowIfNull(dir);
        if (!Directory.Exists(dir))
            throw new DirectoryNotFoundException($"{dir}: no such checkpoint directory. Train one first (rnn lm train --out {dir}).");
        var path = Checkpoint.Locate(dir, ConfigFile) ?? Path.Combine(dir, ConfigFile);
        if (!File.Exists(path))
            throw new FileNotFoundException(
                $"{path}: missing, so this is not a language-model checkpoint. Point to a directory written by " +
                "LanguageModelCheckpoint.Save or rnn lm train.", path);
        try
        {
            var root = JsonNode.Parse(File.ReadAllText(path))
                ?? throw new InvalidDataException("the file holds JSON null");
            var format = root["format"]?.GetValue<int>();
            if (format != FormatVersion)
                throw new InvalidDataException($"format {format?.ToString() ?? "missing"}, this library reads format {FormatVersion}");
            var options = root["options"].Deserialize<LanguageModelOptions>(Json.Options)
                ?? throw new InvalidDataException("\"options\" is missing");
            options.Validate();
            // Earlier builds wrote the vocabulary as "tokenizer".
            var vocabulary = Vocabulary.FromJson((root["vocabulary"] ?? root["tokenizer"])?.ToJsonString()
                ?? throw new InvalidDataException("\"vocabulary\" is missing"));
            if (vocabulary.Size != options.VocabSize)
                throw new InvalidDataException($"the vocabulary has {vocabulary.Size} ids but the model is built for {options.VocabSize}");
            return (options, vocabulary);
        }
        catch (Exception e) when (e is JsonException or InvalidDataException or InvalidOperationException or ArgumentException or FormatException)
        {
            throw new InvalidDataException($"{path}: not a readable language-model configuration ({e.Message}). Save the checkpoint again.", e);
        }
    }

    /// <summary>
    /// Rebuilds the model from <c>lm.json</c> and loads the checkpoint's weights into it; with
    /// <paramref name="makeOptimizer"/>, also an optimizer over its parameters with the saved state and the carried
    /// state, to resume. Without it (inference) only <c>lm.json</c> and the weights are read.
    /// </summary>
    /// <exception cref="FileNotFoundException">The directory or a file of the checkpoint is missing.</exception>
    /// <exception cref="InvalidDataException">A file is corrupt or does not fit.</exception>
    public static LoadedLanguageModel Load(string dir, Func<LanguageModel, optim.Optimizer>? makeOptimizer = null)
    {
        var (options, vocabulary) = ReadConfig(dir);
        var model = new LanguageModel(options);
        optim.Optimizer? optimizer = null;
        try
        {
            optimizer = makeOptimizer?.Invoke(model);
            var state = Checkpoint.Load(dir, model, optimizer);
            var carried = optimizer is null ? null : ReadCarried(dir, state, options);
            return new LoadedLanguageModel(model, vocabulary, state, optimizer) { CarriedState = carried };
        }
        catch
        {
            optimizer?.Dispose();
            model.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Loads a checkpoint into a model built with the same options (and, to resume, into its optimizer and the loss
    /// that carries the hidden state between batches), e.g. so a notebook's later cells keep using the objects they
    /// already hold. Returns where training stood.
    /// </summary>
    /// <exception cref="FileNotFoundException">The directory or a file of the checkpoint is missing.</exception>
    /// <exception cref="InvalidDataException">A file is corrupt, or the checkpoint holds a model with other options.</exception>
    public static TrainingState LoadInto(string dir, LanguageModel model, optim.Optimizer? optimizer = null, CarriedStateLoss? carriedLoss = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        var (options, _) = ReadConfig(dir);
        if (options != model.Options)
            throw new InvalidDataException(
                $"{Path.Combine(dir, ConfigFile)}: holds a model built with {options}, not {model.Options}. Build the model with the saved options, or use Load.");
        var state = Checkpoint.Load(dir, model, optimizer);
        if (carriedLoss is not null && ReadCarried(dir, state, options) is { } carried) carriedLoss.Restore(carried);
        return state;
    }

    static RecurrentState? ReadCarried(string dir, TrainingState state, LanguageModelOptions options) =>
        state.BatchInEpoch > 0 && Checkpoint.PathOf(dir, CarriedStateFile) is { } path ? ReadState(path, options) : null;

    const string StateMagic = "RNNSTATE1";

    // Layout: magic, has-cell flag, then H and C, each as rank, dims and float32 values.
    static void WriteState(BinaryWriter writer, RecurrentState state)
    {
        writer.Write(StateMagic);
        writer.Write(state.C is not null);
        foreach (var t in state.C is null ? [state.H] : new[] { state.H, state.C })
        {
            writer.Write(t.dim());
            foreach (var d in t.shape) writer.Write(d);
            foreach (var v in t.detach().cpu().to_type(ScalarType.Float32).data<float>()) writer.Write(v);
        }
    }

    static RecurrentState ReadState(string path, LanguageModelOptions options)
    {
        var tensors = new List<Tensor>();
        try
        {
            using var reader = new BinaryReader(File.OpenRead(path));
            if (reader.ReadString() != StateMagic)
                throw new InvalidDataException("it does not start with the carried-state header");
            var count = reader.ReadBoolean() ? 2 : 1;
            for (var i = 0; i < count; i++)
            {
                var rank = reader.ReadInt64();
                if (rank != 3) throw new InvalidDataException($"a state of rank {rank}, expected [layers, batch, hidden]");
                var shape = new[] { reader.ReadInt64(), reader.ReadInt64(), reader.ReadInt64() };
                if (shape[0] != options.NumLayers || shape[2] != options.HiddenSize)
                    throw new InvalidDataException(
                        $"a state of shape [{string.Join(", ", shape)}] for a {options.NumLayers}×{options.HiddenSize} model");
                var values = new float[shape[0] * shape[1] * shape[2]];
                for (var j = 0; j < values.Length; j++) values[j] = reader.ReadSingle();
                tensors.Add(tensor(values, shape));
            }
            if (reader.BaseStream.Position != reader.BaseStream.Length)
                throw new InvalidDataException("it has bytes after the state");
            return new RecurrentState(tensors[0], tensors.Count > 1 ? tensors[1] : null);
        }
        catch (Exception e) when (e is EndOfStreamException or InvalidDataException or IOException)
        {
            foreach (var t in tensors) t.Dispose();
            throw new InvalidDataException(
                $"{path}: not a readable carried state ({e.Message}). Delete it to resume this epoch from zero states.", e);
        }
    }
}
