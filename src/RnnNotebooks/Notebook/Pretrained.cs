using System.Diagnostics;
using System.Security.Cryptography;
using System.Text.Json;
using TorchSharp;

namespace RnnNotebooks.Notebook;

/// <summary>
/// Lets a lesson's long training cell load a model prepared the night before instead of training it in class.
/// </summary>
/// <remarks>
/// <para>With <c>RNN_PRETRAINED=DIR</c> (full mode), <see cref="OrTrain{T}"/> loads <c>DIR/NAME/</c> when it holds a
/// complete prepared model, and says so; when there is no such folder it trains as usual, saying the prepared model
/// was not found. A folder that is there but incomplete or unreadable is an error, never a silent retrain.</para>
/// <para>With <c>RNN_PREPARE=DIR</c> (what <c>rnn course --prepare DIR</c> sets) it trains, then saves into
/// <c>DIR/NAME/</c> atomically: everything is written to a temporary folder beside it, which is renamed into place
/// last, so a reader never sees half a model. It never replaces a prepared model unless <c>RNN_PREPARE_REPLACE=1</c>
/// (<c>--force</c>).</para>
/// <para>Quick mode ignores both: it always trains its tiny model.</para>
/// <para>A prepared folder holds the files the lesson's <c>save</c> wrote, torch's random state after training (so
/// the cells after it draw the same numbers as in the preparing run), and <c>prepared.json</c>, which lists every
/// file with its size and SHA-256 and is written last.</para>
/// Introduced in 03-language-modeling.
/// </remarks>
public static class Pretrained
{
    /// <summary>The environment variable naming the folder of prepared models to load.</summary>
    public const string Variable = "RNN_PRETRAINED";

    /// <summary>The environment variable naming the folder a preparing run saves its models into.</summary>
    public const string PrepareVariable = "RNN_PREPARE";

    /// <summary>The environment variable that lets a preparing run replace a prepared model (<c>1</c>).</summary>
    public const string ReplaceVariable = "RNN_PREPARE_REPLACE";

    /// <summary>The manifest written last into each prepared model's folder.</summary>
    public const string ManifestFile = "prepared.json";

    const string RandomStateFile = "torch-rng.bin";
    const int FormatVersion = 1;

    /// <summary>
    /// Trains with <paramref name="train"/>, or loads the prepared result with <paramref name="load"/> when
    /// <c>RNN_PRETRAINED</c> holds one named <paramref name="name"/> (see the remarks of <see cref="Pretrained"/>).
    /// </summary>
    /// <param name="name">The prepared model's folder name, starting with the lesson number: <c>"03-char-lstm"</c>.</param>
    /// <param name="train">The cell's full training; returns what later cells use.</param>
    /// <param name="save">Writes that result into the given (empty) folder: the model and whatever later cells
    /// show from the training, such as the loss history.</param>
    /// <param name="load">Reads the result back from the given folder.</param>
    public static T OrTrain<T>(string name, Func<T> train, Action<T, string> save, Func<string, T> load) =>
        Run(PretrainedSettings.FromEnvironment(), name, train, save, load);

    internal static T Run<T>(PretrainedSettings settings, string name, Func<T> train, Action<T, string> save, Func<string, T> load)
    {
        CheckName(name);
        ArgumentNullException.ThrowIfNull(train);
        ArgumentNullException.ThrowIfNull(save);
        ArgumentNullException.ThrowIfNull(load);
        var say = settings.Output;

        if (settings.Quick)
        {
            var ignored = new[] { (Variable, settings.PretrainedDirectory), (PrepareVariable, settings.PrepareDirectory) }
                .Where(v => v.Item2 is not null).Select(v => v.Item1).ToList();
            if (ignored.Count > 0)
                say.WriteLine($"Quick mode: {string.Join(" and ", ignored)} ignored; training the quick-mode model.");
            return train();
        }

        if (settings.PrepareDirectory is { } prepareRoot)
        {
            var target = Path.Combine(Path.GetFullPath(prepareRoot), name);
            if (Directory.Exists(target) && !settings.Replace)
                throw new IOException(
                    $"{target} already holds a prepared model. Delete that folder, or run `rnn course --prepare {prepareRoot} --force` " +
                    $"(which sets {ReplaceVariable}=1) to replace it.");
            var clock = Stopwatch.StartNew();
            var trained = train();
            clock.Stop();
            SaveAtomically(target, name, clock.Elapsed, trained, save);
            say.WriteLine($"Saved the prepared model \"{name}\" to {target} (training took {Duration(clock.Elapsed)}).");
            return trained;
        }

        if (settings.PretrainedDirectory is { } pretrainedRoot)
        {
            var folder = Path.Combine(Path.GetFullPath(pretrainedRoot), name);
            if (!Directory.Exists(folder))
            {
                var where = Path.GetFullPath(pretrainedRoot) + (Directory.Exists(pretrainedRoot) ? "" : ", a folder that does not exist");
                say.WriteLine($"No prepared model \"{name}\" in {where} ({Variable}); training it now. " +
                    $"Prepare it with `rnn course --prepare {pretrainedRoot}{LessonOf(name)}`.");
                return train();
            }
            var manifest = Verify(folder, name);
            T loaded;
            try
            {
                loaded = load(folder);
                RestoreRandomState(folder);
            }
            catch (Exception e) when (e is IOException or InvalidDataException or ArgumentException or UnauthorizedAccessException or JsonException)
            {
                throw Incomplete(folder, name, $"loading it failed: {e.Message}", e);
            }
            say.WriteLine($"Loaded the prepared model \"{name}\" from {folder} (trained in {manifest.Mode} mode in " +
                $"{Duration(TimeSpan.FromSeconds(manifest.TrainingSeconds))} on {manifest.PreparedAt:yyyy-MM-dd}); this cell did not train. " +
                $"Unset {Variable} to train it here.");
            return loaded;
        }

        return train();
    }

    static void SaveAtomically<T>(string target, string name, TimeSpan trainingTime, T trained, Action<T, string> save)
    {
        var parent = Path.GetDirectoryName(target)!;
        Directory.CreateDirectory(parent);
        TempFiles.RemoveStale(parent);
        var temp = TempFiles.Claim(Path.Combine(parent, "." + name));
        var old = temp[..^".tmp".Length] + ".old";
        Directory.CreateDirectory(temp);
        try
        {
            save(trained, temp);
            using (var state = torch.random.get_rng_state())
                File.WriteAllBytes(Path.Combine(temp, RandomStateFile), state.data<byte>().ToArray());
            var files = Directory.GetFiles(temp, "*", SearchOption.AllDirectories)
                .Select(f => Describe(temp, f)).OrderBy(f => f.Path, StringComparer.Ordinal).ToList();
            var manifest = new PreparedManifest(FormatVersion, name, DateTimeOffset.UtcNow, "full", trainingTime.TotalSeconds, files);
            File.WriteAllText(Path.Combine(temp, ManifestFile), JsonSerializer.Serialize(manifest, Json.Options));

            if (Directory.Exists(target)) Directory.Move(target, old);
            Directory.Move(temp, target);
            if (Directory.Exists(old)) Directory.Delete(old, recursive: true);
        }
        finally
        {
            TempFiles.Release(temp);
        }
    }

    /// <summary>Checks that <paramref name="folder"/> is a complete prepared model: its manifest, and every file it
    /// lists with the listed size and SHA-256.</summary>
    static PreparedManifest Verify(string folder, string name)
    {
        var manifestPath = Path.Combine(folder, ManifestFile);
        if (!File.Exists(manifestPath))
            throw Incomplete(folder, name, $"it has no {ManifestFile}, which a preparing run writes last");
        PreparedManifest? manifest;
        try
        {
            manifest = JsonSerializer.Deserialize<PreparedManifest>(File.ReadAllText(manifestPath), Json.Options);
        }
        catch (JsonException e)
        {
            throw Incomplete(folder, name, $"{ManifestFile} is not valid ({e.Message})", e);
        }
        if (manifest?.Files is null || manifest.Format != FormatVersion)
            throw Incomplete(folder, name, $"{ManifestFile} is not a format-{FormatVersion} manifest");
        if (manifest.Name != name)
            throw Incomplete(folder, name, $"{ManifestFile} says it holds \"{manifest.Name}\"");
        foreach (var file in manifest.Files)
        {
            var path = Path.Combine(folder, file.Path);
            if (!File.Exists(path)) throw Incomplete(folder, name, $"{file.Path} is missing");
            var found = Describe(folder, path);
            if (found.Bytes != file.Bytes || found.Sha256 != file.Sha256)
                throw Incomplete(folder, name, $"{file.Path} is not the file that was saved ({found.Bytes:N0} bytes, " +
                    $"expected {file.Bytes:N0}, or a different SHA-256): it was truncated or changed");
        }
        return manifest;
    }

    static InvalidDataException Incomplete(string folder, string name, string reason, Exception? inner = null) =>
        new($"{folder}: not a complete prepared model \"{name}\": {reason}. Delete that folder and prepare it again " +
            $"(`rnn course --prepare {Path.GetDirectoryName(folder)}{LessonOf(name)} --force`), or unset {Variable} to train here.", inner);

    static void RestoreRandomState(string folder)
    {
        var path = Path.Combine(folder, RandomStateFile);
        using var scope = torch.NewDisposeScope();
        torch.random.set_rng_state(torch.tensor(File.ReadAllBytes(path)));
    }

    static PreparedFile Describe(string root, string path)
    {
        using var stream = File.OpenRead(path);
        var hash = Convert.ToHexStringLower(SHA256.HashData(stream));
        return new PreparedFile(Path.GetRelativePath(root, path).Replace('\\', '/'), stream.Length, hash);
    }

    static void CheckName(string name)
    {
        if (string.IsNullOrWhiteSpace(name) || name.StartsWith('.') ||
            !name.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.'))
            throw new ArgumentException(
                $"\"{name}\" cannot name a prepared model: use letters, digits, '-', '_' and '.', starting with the lesson number (\"03-char-lstm\").",
                nameof(name));
    }

    /// <summary>" 03" for "03-char-lstm", so a hint names the lesson to prepare; empty otherwise.</summary>
    static string LessonOf(string name) =>
        name.Length > 2 && char.IsAsciiDigit(name[0]) && char.IsAsciiDigit(name[1]) && name[2] == '-' ? " " + name[..2] : "";

    static string Duration(TimeSpan t) =>
        t.TotalMinutes >= 1 ? $"{(int)t.TotalMinutes} min {t.Seconds} s" : $"{t.TotalSeconds:F1} s";
}

/// <summary>Where <see cref="Pretrained.OrTrain{T}"/> looks and what it says; read from the environment outside tests.</summary>
internal sealed record PretrainedSettings(bool Quick, string? PretrainedDirectory, string? PrepareDirectory, bool Replace, TextWriter Output)
{
    public static PretrainedSettings FromEnvironment() => new(
        CourseMode.IsQuick,
        Value(Pretrained.Variable),
        Value(Pretrained.PrepareVariable),
        Environment.GetEnvironmentVariable(Pretrained.ReplaceVariable)?.Trim() == "1",
        Console.Out);

    static string? Value(string variable) =>
        Environment.GetEnvironmentVariable(variable) is { Length: > 0 } v && !string.IsNullOrWhiteSpace(v) ? v.Trim() : null;
}

/// <summary>The manifest of one prepared model, written last by a preparing run.</summary>
internal sealed record PreparedManifest(int Format, string Name, DateTimeOffset PreparedAt, string Mode, double TrainingSeconds,
    IReadOnlyList<PreparedFile> Files);

/// <summary>One file of a prepared model: path relative to its folder, size and SHA-256 (lower-case hex).</summary>
internal sealed record PreparedFile(string Path, long Bytes, string Sha256);
