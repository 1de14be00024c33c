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
/// A checkpoint is a directory holding the model weights (TorchSharp's <c>module.save</c> format), the optimizer
/// state (TorchSharp's <c>save_state_dict</c> format; only when an optimizer was given), any extra files the
/// caller hands to <see cref="Save"/>,
/// and <c>checkpoint.json</c>: the <see cref="TrainingState"/> (epoch, step, seed, options, history), the torch
/// CPU generator state, and the stored name, size and SHA-256 of each binary file.
/// <para>A save is one atomic step for the whole checkpoint, including what a model kind adds (its configuration
/// and vocabularies as JSON, e.g. <c>lm.json</c>). Each file is stored under a name that
/// carries its hash (<c>model.1f2e3d4c5b6a7980.bin</c>), so a new save never writes over a file the current
/// <c>checkpoint.json</c> lists; the new <c>checkpoint.json</c> is renamed into place last, and only then are
/// the files it no longer lists deleted. If any write fails (a full disk, a crash), the previous
/// <c>checkpoint.json</c> and every file it names are untouched; the temporary files a killed save leaves behind are
/// removed by the next save into the folder (<see cref="TempFiles.RemoveStale"/>: never one a live save is writing).
/// <see cref="PathOf"/> finds a file by its plain name (<see cref="ModelFile"/>); <see cref="Locate"/> also finds the files that checkpoints of earlier
/// versions wrote beside themselves under their plain names.</para>
/// <para><see cref="Load"/> checks everything it needs before it changes anything: a missing, truncated or
/// corrupt file, or weights whose names or shapes do not fit the model, throw
/// <see cref="FileNotFoundException"/> or <see cref="InvalidDataException"/> naming the file and the fix, and
/// leave the model untouched. Loading without an optimizer (inference) reads and checks only the weights.
/// CUDA generator state is not saved.</para>
/// Introduced in 00-getting-started.
/// </remarks>
public static class Checkpoint
{
    /// <summary>File name of the manifest (training state, hashes, random state).</summary>
    public const string ManifestFile = "checkpoint.json";
    /// <summary>Plain name of the model weights (stored as <c>model.HASH.bin</c>; see <see cref="PathOf"/>).</summary>
    public const string ModelFile = "model.bin";
    /// <summary>Plain name of the optimizer state (stored as <c>optimizer.HASH.bin</c>; see <see cref="PathOf"/>).</summary>
    public const string OptimizerFile = "optimizer.bin";

    // 2: snake_case names (the library's one JSON style); 3: files stored under hashed names (2 still loads)
    const int FormatVersion = 3;
    const int OldestReadable = 2;

    /// <summary>Called with each file's plain name before it is written; tests make it throw to simulate a full disk.
    /// Per thread, so a test's failing disk never reaches a save that another test runs at the same time.</summary>
    [ThreadStatic] internal static Action<string>? BeforeWrite;

    /// <summary>Saves the model, the optimizer (if given), the training state, torch's random state and any
    /// <paramref name="extraFiles"/> (plain name, e.g. <c>carried-state.bin</c> → writer; read them back through
    /// <see cref="PathOf"/>) to <paramref name="dir"/> (created if needed), replacing a checkpoint already there in
    /// one atomic step.</summary>
    /// <exception cref="NotSupportedException">The optimizer cannot save its state in TorchSharp (LBFGS).</exception>
    public static void Save(string dir, nn.Module model, optim.Optimizer? optimizer, TrainingState state,
        IReadOnlyDictionary<string, Action<BinaryWriter>>? extraFiles = null)
    {
        ArgumentNullException.ThrowIfNull(dir);
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(state);
        var helper = optimizer is null ? null : AsSavable(optimizer);
        Directory.CreateDirectory(dir);
        TempFiles.RemoveStale(dir);
        var earlier = EarlierNames(dir);

        var writers = new List<(string Name, Action<BinaryWriter> Write)> { (ModelFile, w => model.save(w)) };
        if (helper is not null) writers.Add((OptimizerFile, helper.save_state_dict));
        foreach (var (name, write) in extraFiles ?? new Dictionary<string, Action<BinaryWriter>>())
        {
            CheckExtraName(name, nameof(extraFiles));
            writers.Add((name, write));
        }
        var files = writers.Select(w => WriteHashed(dir, w.Name, w.Write)).ToList();

        byte[] rng;
        using (var rngState = torch.random.get_rng_state()) rng = rngState.data<byte>().ToArray();

        Commit(dir, new CheckpointManifest(FormatVersion, DateTimeOffset.UtcNow, files,
            optimizer?.GetType().Name, Convert.ToBase64String(rng), state), earlier);
    }

    /// <summary>Replaces some extra files of the checkpoint in <paramref name="dir"/> (plain name → writer; a name it
    /// does not list yet is added), keeping its weights, optimizer and training state, in one atomic step as
    /// <see cref="Save"/>: e.g. notes measured after the model was saved.</summary>
    /// <exception cref="FileNotFoundException">No checkpoint in <paramref name="dir"/>.</exception>
    public static void Replace(string dir, IReadOnlyDictionary<string, Action<BinaryWriter>> files)
    {
        ArgumentNullException.ThrowIfNull(dir);
        ArgumentNullException.ThrowIfNull(files);
        var manifest = ReadManifest(dir);
        foreach (var name in files.Keys) CheckExtraName(name, nameof(files));
        TempFiles.RemoveStale(dir);
        var written = files.Select(f => WriteHashed(dir, f.Key, f.Value)).ToList();
        var kept = manifest.Files.Where(f => !files.ContainsKey(f.Name));
        Commit(dir, manifest with { FormatVersion = FormatVersion, SavedUtc = DateTimeOffset.UtcNow, Files = [.. kept, .. written] },
            [.. manifest.Files.Select(f => f.Name)]);
    }

    /// <summary>A writer for a text file of a checkpoint (UTF-8), for <see cref="Save"/>'s extra files.</summary>
    public static Action<BinaryWriter> Text(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var bytes = Encoding.UTF8.GetBytes(text);
        return w => w.Write(bytes);
    }

    /// <summary>The path of a checkpoint's file by its plain name, checked as <see cref="PathOf"/> checks it; for a
    /// checkpoint saved before that file became one of its own (it was written beside it), the plain file in
    /// <paramref name="dir"/>. Null when there is neither.</summary>
    /// <exception cref="InvalidDataException">The file is truncated or corrupt, or the manifest is unreadable.</exception>
    public static string? Locate(string dir, string name)
    {
        ArgumentNullException.ThrowIfNull(dir);
        ArgumentNullException.ThrowIfNull(name);
        if (File.Exists(Path.Combine(dir, ManifestFile)) && PathOf(dir, name) is { } listed) return listed;
        var plain = Path.Combine(dir, name);
        return File.Exists(plain) ? plain : null;
    }

    /// <summary>Whether <paramref name="dir"/> holds a checkpoint that has a file of this plain name (listed by its manifest,
    /// or beside it in the older layout), without checking the file.</summary>
    public static bool Has(string dir, string name)
    {
        ArgumentNullException.ThrowIfNull(dir);
        if (File.Exists(Path.Combine(dir, name))) return true;
        try { return File.Exists(Path.Combine(dir, ManifestFile)) && ReadManifest(dir).Files.Any(f => f.Name == name); }
        catch (InvalidDataException) { return false; }
    }

    /// <summary>A model kind's own extra files (each JSON text) and the caller's <paramref name="more"/>, as one set for <see cref="Save"/>.</summary>
    internal static Dictionary<string, Action<BinaryWriter>> Files(IReadOnlyDictionary<string, Action<BinaryWriter>>? more,
        params (string Name, string Json)[] own)
    {
        var files = own.ToDictionary(f => f.Name, f => Text(f.Json));
        foreach (var (name, write) in more ?? new Dictionary<string, Action<BinaryWriter>>())
            if (!files.TryAdd(name, write))
                throw new ArgumentException($"'{name}' is a file the model saves itself; give the extra file another name.", nameof(more));
        return files;
    }

    static void CheckExtraName(string name, string parameter)
    {
        if (name is ManifestFile or ModelFile or OptimizerFile || Path.GetFileName(name) != name || !name.Contains('.'))
            throw new ArgumentException($"'{name}' cannot be an extra checkpoint file: give a plain file name with an extension, other than the checkpoint's own.", parameter);
    }

    /// <summary>The step that makes a save happen: the manifest renamed into place; then the files of earlier saves
    /// that it no longer lists are removed.</summary>
    static void Commit(string dir, CheckpointManifest manifest, IEnumerable<string> earlier)
    {
        var json = JsonSerializer.SerializeToUtf8Bytes(manifest, Json.Options);
        BeforeWrite?.Invoke(ManifestFile);
        AtomicFile.Write(Path.Combine(dir, ManifestFile), temp => WriteSynced(temp, w => w.Write(json)));
        RemoveUnlisted(dir, manifest.Files, earlier);
    }

    /// <summary>The path of a checkpoint's file given its plain name (<see cref="ModelFile"/>, or an extra file's
    /// name), after checking its size and SHA-256; null when the checkpoint does not list it.</summary>
    /// <exception cref="FileNotFoundException">No checkpoint in <paramref name="dir"/>, or the listed file is missing.</exception>
    /// <exception cref="InvalidDataException">The file is truncated or corrupt.</exception>
    public static string? PathOf(string dir, string name)
    {
        ArgumentNullException.ThrowIfNull(dir);
        var file = ReadManifest(dir).Files.FirstOrDefault(f => f.Name == name);
        if (file is null) return null;
        Verify(dir, file);
        return Path.Combine(dir, file.StoredName);
    }

    /// <summary>
    /// Loads a checkpoint into <paramref name="model"/> and, if given, <paramref name="optimizer"/>, restores
    /// torch's CPU random state and the run's seed (<see cref="Seeds.Current"/>, so <see cref="Seeds.CreateRandom"/>
    /// shuffles as before), and returns the training state to pass to
    /// <see cref="Trainer.Fit{TBatch}"/> as <c>resume</c>. Build the model and optimizer exactly as for the
    /// saved run first; loading happens only after every check passed. With an optimizer (to resume) every file
    /// of the checkpoint is checked; without one (inference) only the weights are needed and checked.
    /// </summary>
    /// <exception cref="FileNotFoundException">The directory, the manifest or a listed file is missing.</exception>
    /// <exception cref="InvalidDataException">A file is truncated or corrupt, or the checkpoint does not fit
    /// the model or optimizer.</exception>
    public static TrainingState Load(string dir, nn.Module model, optim.Optimizer? optimizer = null)
    {
        ArgumentNullException.ThrowIfNull(dir);
        ArgumentNullException.ThrowIfNull(model);
        var manifest = ReadManifest(dir);
        var modelEntry = manifest.Files.FirstOrDefault(f => f.Name == ModelFile)
            ?? throw new InvalidDataException($"{Path.Combine(dir, ManifestFile)}: lists no {ModelFile}. Save the checkpoint again.");
        foreach (var file in optimizer is null ? [modelEntry] : manifest.Files) Verify(dir, file);

        var modelPath = Path.Combine(dir, modelEntry.StoredName);
        CheckFitsModel(modelPath, model);

        var optimizerPath = Path.Combine(dir, manifest.Files.FirstOrDefault(f => f.Name == OptimizerFile)?.StoredName ?? OptimizerFile);
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

    /// <summary>Writes a file to a temp name, flushes it to disk, and renames it to its hashed name: a file of
    /// that name already holds the same bytes, so the rename never changes a file another manifest relies on.</summary>
    static CheckpointFile WriteHashed(string dir, string name, Action<BinaryWriter> write)
    {
        BeforeWrite?.Invoke(name);
        var temp = TempFiles.Claim(Path.Combine(dir, name));
        try
        {
            WriteSynced(temp, write);
            var (bytes, sha) = Fingerprint(temp);
            var stored = HashedName(name, sha);
            File.Move(temp, Path.Combine(dir, stored), overwrite: true);
            return new CheckpointFile(name, bytes, sha, stored);
        }
        finally
        {
            TempFiles.Release(temp);
        }
    }

    static void WriteSynced(string path, Action<BinaryWriter> write)
    {
        using var stream = new FileStream(path, FileMode.CreateNew, FileAccess.Write);
        using var writer = new BinaryWriter(stream, Encoding.UTF8, leaveOpen: true);
        write(writer);
        writer.Flush();
        stream.Flush(flushToDisk: true);
    }

    static string HashedName(string name, string sha) =>
        $"{Path.GetFileNameWithoutExtension(name)}.{sha[..16]}{Path.GetExtension(name)}";

    /// <summary>After a save: deletes the files of earlier saves (hashed names, and the plain names of format 2)
    /// that the new manifest does not list. A failure here leaves only litter, never a broken checkpoint.</summary>
    static void RemoveUnlisted(string dir, IReadOnlyList<CheckpointFile> listed, IEnumerable<string> earlier)
    {
        var keep = listed.Select(f => f.StoredName).ToHashSet();
        var names = listed.Select(f => f.Name).Concat(earlier).Concat([ModelFile, OptimizerFile]).Distinct();
        foreach (var name in names)
        {
            var pattern = $"{Path.GetFileNameWithoutExtension(name)}.*{Path.GetExtension(name)}";
            foreach (var path in Directory.EnumerateFiles(dir, pattern).Append(Path.Combine(dir, name)))
            {
                var file = Path.GetFileName(path);
                var hashed = file.Length == HashedName(name, new string('0', 16)).Length && file != name;
                if ((hashed || file == name) && !keep.Contains(file))
                {
                    try { File.Delete(path); }
                    catch (IOException) { }
                    catch (UnauthorizedAccessException) { }
                }
            }
        }
    }

    /// <summary>The plain names the checkpoint already in <paramref name="dir"/> lists (none if there is none
    /// or it is unreadable), so a save can remove the files it no longer needs.</summary>
    static IReadOnlyList<string> EarlierNames(string dir)
    {
        try { return [.. ReadManifest(dir).Files.Select(f => f.Name).Where(n => Path.GetFileName(n) == n)]; }
        catch (Exception e) when (e is IOException or InvalidDataException or UnauthorizedAccessException) { return []; }
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
        if (manifest is not null && (manifest.FormatVersion < OldestReadable || manifest.FormatVersion > FormatVersion))
            throw new InvalidDataException(
                $"{path}: checkpoint format {manifest.FormatVersion}, this library reads formats {OldestReadable} to {FormatVersion}. " +
                "Load it with the library version that saved it.");
        if (manifest?.State?.History is null || manifest.Files is null || manifest.TorchRngState is null)
            throw new InvalidDataException($"{path}: the checkpoint manifest lacks required fields. Save the checkpoint again.");
        return manifest;
    }

    static void Verify(string dir, CheckpointFile file)
    {
        var path = Path.Combine(dir, file.StoredName);
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

/// <summary>One binary file of a checkpoint, as recorded in its manifest: its plain name, and the name it is
/// stored under (absent in format 2, which stored files under their plain names).</summary>
sealed record CheckpointFile(string Name, long Bytes, string Sha256, string? Stored = null)
{
    [System.Text.Json.Serialization.JsonIgnore]
    public string StoredName => Stored ?? Name;
}

/// <summary>The contents of <c>checkpoint.json</c>.</summary>
sealed record CheckpointManifest(
    int FormatVersion,
    DateTimeOffset SavedUtc,
    IReadOnlyList<CheckpointFile> Files,
    string? OptimizerType,
    string TorchRngState,
    TrainingState State);
