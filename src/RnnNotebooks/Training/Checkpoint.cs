using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace RnnNotebooks.Training;

/// <summary>
/// Saves a run so it can be resumed exactly: model weights, optimizer state, training state and history,
/// and torch's random-number state.
/// </summary>
/// <remarks>
/// A checkpoint is a directory holding <c>model.bin</c> (TorchSharp's <c>module.save</c> format),
/// <c>optimizer.bin</c> (TorchSharp's <c>save_state_dict</c> format; only when an optimizer was given) and
/// <c>checkpoint.json</c>: the <see cref="TrainingState"/> (epoch, step, seed, options, history), the torch
/// CPU generator state, and the size and SHA-256 of each binary file.
/// <para>Every file is written to a temporary file in the same directory and renamed over the old one, and
/// <c>checkpoint.json</c> is renamed last, so a reader never sees a half-written file. If a save is
/// interrupted between two renames, <see cref="Load"/> finds that a file does not match its recorded hash
/// and says so, instead of loading a mixture of two checkpoints.</para>
/// <para><see cref="Load"/> checks everything before it changes anything: a missing, truncated or corrupt
/// file, or weights whose names or shapes do not fit the model, throw
/// <see cref="FileNotFoundException"/> or <see cref="InvalidDataException"/> naming the file and the fix, and
/// leave the model untouched. CUDA generator state is not saved.</para>
/// Introduced in 00-getting-started.
/// </remarks>
public static class Checkpoint
{
    /// <summary>File name of the manifest (training state, hashes, random state).</summary>
    public const string ManifestFile = "checkpoint.json";
    /// <summary>File name of the model weights.</summary>
    public const string ModelFile = "model.bin";
    /// <summary>File name of the optimizer state.</summary>
    public const string OptimizerFile = "optimizer.bin";

    const int FormatVersion = 2;   // 2: snake_case names (the library's one JSON style)

    /// <summary>Saves the model, the optimizer (if given), the training state and torch's random state to
    /// <paramref name="dir"/> (created if needed), replacing a checkpoint already there.</summary>
    /// <exception cref="NotSupportedException">The optimizer cannot save its state in TorchSharp (LBFGS).</exception>
    public static void Save(string dir, nn.Module model, optim.Optimizer? optimizer, TrainingState state)
    {
        ArgumentNullException.ThrowIfNull(dir);
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(state);
        var helper = optimizer is null ? null : AsSavable(optimizer);
        Directory.CreateDirectory(dir);

        var files = new List<CheckpointFile>
        {
            WriteAtomically(dir, ModelFile, w => model.save(w)),
        };
        if (helper is not null) files.Add(WriteAtomically(dir, OptimizerFile, helper.save_state_dict));

        byte[] rng;
        using (var rngState = torch.random.get_rng_state()) rng = rngState.data<byte>().ToArray();

        var manifest = new CheckpointManifest(FormatVersion, DateTimeOffset.UtcNow, files,
            optimizer?.GetType().Name, Convert.ToBase64String(rng), state);
        var json = JsonSerializer.SerializeToUtf8Bytes(manifest, Json.Options);
        WriteAtomically(dir, ManifestFile, w => w.Write(json));

        if (helper is null) File.Delete(Path.Combine(dir, OptimizerFile));
    }

    /// <summary>
    /// Loads a checkpoint into <paramref name="model"/> and, if given, <paramref name="optimizer"/>, restores
    /// torch's CPU random state and the run's seed (<see cref="Seeds.Current"/>, so <see cref="Seeds.CreateRandom"/>
    /// shuffles as before), and returns the training state to pass to
    /// <see cref="Trainer.Fit{TBatch}"/> as <c>resume</c>. Build the model and optimizer exactly as for the
    /// saved run first; loading happens only after every check passed.
    /// </summary>
    /// <exception cref="FileNotFoundException">The directory, the manifest or a listed file is missing.</exception>
    /// <exception cref="InvalidDataException">A file is truncated or corrupt, or the checkpoint does not fit
    /// the model or optimizer.</exception>
    public static TrainingState Load(string dir, nn.Module model, optim.Optimizer? optimizer = null)
    {
        ArgumentNullException.ThrowIfNull(dir);
        ArgumentNullException.ThrowIfNull(model);
        var manifest = ReadManifest(dir);
        foreach (var file in manifest.Files) Verify(dir, file);

        var modelPath = Path.Combine(dir, ModelFile);
        if (manifest.Files.All(f => f.Name != ModelFile))
            throw new InvalidDataException($"{Path.Combine(dir, ManifestFile)}: lists no {ModelFile}. Save the checkpoint again.");
        CheckFitsModel(modelPath, model);

        var optimizerPath = Path.Combine(dir, OptimizerFile);
        OptimizerHelper? helper = null;
        if (optimizer is not null)
        {
            helper = AsSavable(optimizer);
            if (manifest.Files.All(f => f.Name != OptimizerFile))
                throw new InvalidDataException(
                    $"{Path.Combine(dir, ManifestFile)}: this checkpoint holds no optimizer state (it was saved with " +
                    "optimizer: null). Load it with optimizer: null and start from a fresh optimizer.");
            if (!SameStateFormat(manifest.OptimizerType, optimizer.GetType()))
                throw new InvalidDataException(
                    $"{optimizerPath}: holds the state of a {manifest.OptimizerType} optimizer, but a " +
                    $"{optimizer.GetType().Name} was given. Create the same optimizer type as the saved run.");
        }

        try
        {
            model.load(modelPath);
        }
        catch (Exception e) when (e is ArgumentException or EndOfStreamException or IOException)
        {
            throw new InvalidDataException($"{modelPath}: could not be loaded into the model ({e.Message}).", e);
        }

        if (helper is not null)
        {
            try
            {
                using var stream = OptimizerStream(optimizerPath, helper.GetType());
                using var reader = new BinaryReader(stream, Encoding.UTF8);
                helper.load_state_dict(reader);
            }
            catch (Exception e) when (e is ArgumentException or EndOfStreamException or InvalidDataException)
            {
                throw new InvalidDataException(
                    $"{optimizerPath}: does not fit this optimizer ({e.Message}). Create the optimizer over the same " +
                    "model parameters and parameter groups as the saved run, then load again.", e);
            }
        }

        using (var scope = torch.NewDisposeScope())
            torch.random.set_rng_state(torch.tensor(Convert.FromBase64String(manifest.TorchRngState)));
        if (manifest.State.Seed is { } seed) Seeds.Restore(seed);

        return manifest.State;
    }

    /// <summary>The training state of a checkpoint, without loading any weights (e.g. to show how far a run got).</summary>
    public static TrainingState ReadState(string dir) => ReadManifest(dir).State;

    /// <summary>Whether state saved by an optimizer type named <paramref name="saved"/> loads into <paramref name="type"/>:
    /// the same type, or <see cref="FastAdam"/> and TorchSharp's Adam either way round (they share the format).</summary>
    static bool SameStateFormat(string? saved, Type type)
    {
        static string Format(string? name) => name == nameof(FastAdam) ? nameof(TorchSharp.Modules.Adam) : name ?? "";
        return Format(saved) == Format(type.Name);
    }

    /// <summary>The saved optimizer state, its leading type name (which TorchSharp checks exactly) set to
    /// <paramref name="type"/>'s when the two share a format.</summary>
    static Stream OptimizerStream(string path, Type type)
    {
        var stream = File.OpenRead(path);
        string saved;
        using (var peek = new BinaryReader(stream, Encoding.UTF8, leaveOpen: true)) saved = peek.ReadString();
        if (saved == type.Name || !SameStateFormat(saved, type))
        {
            stream.Position = 0;
            return stream;
        }
        var renamed = new MemoryStream();
        using (stream)
        using (var writer = new BinaryWriter(renamed, Encoding.UTF8, leaveOpen: true))
        {
            writer.Write(type.Name);
            stream.CopyTo(renamed);
        }
        renamed.Position = 0;
        return renamed;
    }

    static OptimizerHelper AsSavable(optim.Optimizer optimizer) =>
        optimizer as OptimizerHelper ?? throw new NotSupportedException(
            $"{optimizer.GetType().Name} cannot save or load its state in TorchSharp; pass optimizer: null to " +
            "checkpoint only the weights, or use an optimizer such as Adam or SGD.");

    static CheckpointFile WriteAtomically(string dir, string name, Action<BinaryWriter> write)
    {
        var final = Path.Combine(dir, name);
        AtomicFile.Write(final, temp =>
        {
            using var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write);
            using var writer = new BinaryWriter(stream, Encoding.UTF8, leaveOpen: true);
            write(writer);
            writer.Flush();
            stream.Flush(flushToDisk: true);
        });
        var (bytes, sha) = Fingerprint(final);
        return new CheckpointFile(name, bytes, sha);
    }

    static (long Bytes, string Sha256) Fingerprint(string path)
    {
        using var stream = File.OpenRead(path);
        return (stream.Length, Convert.ToHexStringLower(SHA256.HashData(stream)));
    }

    static CheckpointManifest ReadManifest(string dir)
    {
        var path = Path.Combine(dir, ManifestFile);
        if (!File.Exists(path))
            throw new FileNotFoundException(
                $"{path}: no checkpoint here ({ManifestFile} is missing). Save one with Checkpoint.Save first, or " +
                "point to the directory that holds it.", path);

        CheckpointManifest? manifest;
        try
        {
            manifest = JsonSerializer.Deserialize<CheckpointManifest>(File.ReadAllBytes(path), Json.Options);
        }
        catch (JsonException e)
        {
            throw new InvalidDataException(
                $"{path}: not a readable checkpoint manifest ({e.Message}). The file is truncated or was edited; " +
                "save the checkpoint again or use another one.", e);
        }
        if (manifest is not null && manifest.FormatVersion != FormatVersion)
            throw new InvalidDataException(
                $"{path}: checkpoint format {manifest.FormatVersion}, this library reads format {FormatVersion}. " +
                "Load it with the library version that saved it.");
        if (manifest?.State?.History is null || manifest.Files is null || manifest.TorchRngState is null)
            throw new InvalidDataException($"{path}: the checkpoint manifest lacks required fields. Save the checkpoint again.");
        return manifest;
    }

    static void Verify(string dir, CheckpointFile file)
    {
        var path = Path.Combine(dir, file.Name);
        if (!File.Exists(path))
            throw new FileNotFoundException(
                $"{path}: missing, but {ManifestFile} lists it. Copy the whole checkpoint directory, or save again.", path);
        var (bytes, sha) = Fingerprint(path);
        if (bytes < file.Bytes)
            throw new InvalidDataException(
                $"{path}: truncated: {bytes} bytes, {ManifestFile} expects {file.Bytes}. The save was interrupted or the " +
                "file was copied partially; save again or use another checkpoint.");
        if (bytes != file.Bytes || sha != file.Sha256)
            throw new InvalidDataException(
                $"{path}: corrupt: its SHA-256 does not match {ManifestFile} ({bytes} bytes, expected {file.Bytes}). " +
                "The file changed after saving, or a save was interrupted; save again or use another checkpoint.");
    }

    /// <summary>Reads the names, types and shapes in a <c>module.save</c> file and compares them with the model.</summary>
    static void CheckFitsModel(string path, nn.Module model)
    {
        var expected = model.state_dict();
        var problems = new List<string>();
        var seen = new HashSet<string>();
        try
        {
            using var stream = File.OpenRead(path);
            using var reader = new BinaryReader(stream, Encoding.UTF8);
            var count = DecodeLeb128(reader);
            for (long i = 0; i < count; i++)
            {
                var key = reader.ReadString();
                var dtype = (ScalarType)DecodeLeb128(reader);
                var shape = new long[DecodeLeb128(reader)];
                for (var d = 0; d < shape.Length; d++) shape[d] = DecodeLeb128(reader);
                stream.Seek(shape.Aggregate(1L, (a, b) => a * b) * ElementSize(dtype, path), SeekOrigin.Current);
                seen.Add(key);

                if (!expected.TryGetValue(key, out var tensor))
                    problems.Add($"'{key}' is in the file but not in the model");
                else if (tensor.dtype != dtype)
                    problems.Add($"'{key}' is {dtype} in the file but {tensor.dtype} in the model");
                else if (!tensor.shape.SequenceEqual(shape))
                    problems.Add($"'{key}' is [{string.Join(", ", shape)}] in the file but [{string.Join(", ", tensor.shape)}] in the model");
            }
            if (stream.Position != stream.Length)
                throw new InvalidDataException($"{path}: {stream.Length - stream.Position} unexpected bytes after the last tensor.");
        }
        catch (EndOfStreamException e)
        {
            throw new InvalidDataException($"{path}: ends in the middle of a tensor; save the checkpoint again.", e);
        }
        problems.AddRange(expected.Keys.Where(k => !seen.Contains(k)).Select(k => $"'{k}' is in the model but not in the file"));

        if (problems.Count > 0)
            throw new InvalidDataException(
                $"{path}: the checkpoint does not fit this model: {string.Join("; ", problems.Take(6))}" +
                (problems.Count > 6 ? $"; and {problems.Count - 6} more" : "") +
                ". Build the model with the same class and sizes as the run that saved it, or train from scratch in " +
                "another directory.");
    }

    static long DecodeLeb128(BinaryReader reader)
    {
        long result = 0;
        for (var shift = 0; shift < 64; shift += 7)
        {
            var b = reader.ReadByte();
            result |= (long)(b & 0x7f) << shift;
            if ((b & 0x80) == 0) return result;
        }
        throw new InvalidDataException("A length in the file is longer than 64 bits.");
    }

    static long ElementSize(ScalarType dtype, string path) => dtype switch
    {
        ScalarType.Byte or ScalarType.Int8 or ScalarType.Bool => 1,
        ScalarType.Int16 or ScalarType.Float16 or ScalarType.BFloat16 => 2,
        ScalarType.Int32 or ScalarType.Float32 => 4,
        ScalarType.Int64 or ScalarType.Float64 or ScalarType.ComplexFloat32 => 8,
        ScalarType.ComplexFloat64 => 16,
        _ => throw new InvalidDataException($"{path}: unknown tensor type code {(int)dtype}; the file is corrupt or from a newer TorchSharp."),
    };
}

/// <summary>One binary file of a checkpoint, as recorded in its manifest.</summary>
sealed record CheckpointFile(string Name, long Bytes, string Sha256);

/// <summary>The contents of <c>checkpoint.json</c>.</summary>
sealed record CheckpointManifest(
    int FormatVersion,
    DateTimeOffset SavedUtc,
    IReadOnlyList<CheckpointFile> Files,
    string? OptimizerType,
    string TorchRngState,
    TrainingState State);
