using System.Text.Json;

namespace RnnNotebooks.Training;

/// <summary>What a recipe does when its output folder already holds a checkpoint.</summary>
/// <remarks>Introduced in 03-language-modeling.</remarks>
public enum ExistingCheckpoint
{
    /// <summary>Resume when the checkpoint was trained with the same options (the budget aside); otherwise refuse.</summary>
    ResumeIfSame,
    /// <summary>Resume whatever the options: the checkpoint's own options win (the command line's <c>--resume</c>).</summary>
    Resume,
    /// <summary>Start over and replace the checkpoint (<c>--force</c>).</summary>
    Replace,
}

/// <summary>
/// The one rule every training recipe follows for its output folder, so that running a command twice never destroys a
/// finished or better model: a folder without a checkpoint starts a new run; a checkpoint trained with the same options
/// resumes; any other checkpoint is left alone with an error that names the choices.
/// </summary>
/// <remarks>A recipe's options record is saved as one of its checkpoint's files, <see cref="OptionsFile"/> (snake_case JSON), and
/// two runs match when their records are equal once the budget (epochs, time, threads) is taken out.
/// Introduced in 03-language-modeling.</remarks>
public static class RunFolder
{
    /// <summary>File name of the saved options record.</summary>
    public const string OptionsFile = "training-options.json";

    /// <summary>Whether <paramref name="dir"/> holds a checkpoint.</summary>
    public static bool HasCheckpoint(string dir) => File.Exists(Path.Combine(dir, Checkpoint.ManifestFile));

    /// <summary>
    /// Decides between a new run (false) and resuming the checkpoint in <paramref name="dir"/> (true).
    /// </summary>
    /// <param name="dir">The output folder.</param>
    /// <param name="options">The options asked for.</param>
    /// <param name="withoutBudget">The options with everything that may change between sessions reset (epochs, time
    /// budget, threads, output folder), so what is left must match.</param>
    /// <param name="choice">What to do with a checkpoint already there.</param>
    /// <param name="what">The kind of model, for the message ("translator").</param>
    /// <exception cref="InvalidOperationException">The folder holds a checkpoint of other options and the choice is
    /// <see cref="ExistingCheckpoint.ResumeIfSame"/>; or <see cref="ExistingCheckpoint.Resume"/> was asked for a folder
    /// without one.</exception>
    public static bool ShouldResume<TOptions>(string dir, TOptions options, Func<TOptions, TOptions> withoutBudget,
        ExistingCheckpoint choice, string what) where TOptions : class
    {
        ArgumentNullException.ThrowIfNull(dir);
        ArgumentNullException.ThrowIfNull(options);
        if (!HasCheckpoint(dir))
            return choice == ExistingCheckpoint.Resume
                ? throw new InvalidOperationException($"--resume: {dir} (--out) holds no checkpoint to resume. Leave out --resume to start a new run.")
                : false;
        if (choice == ExistingCheckpoint.Replace) return false;
        if (choice == ExistingCheckpoint.Resume) return true;

        var saved = ReadOptions<TOptions>(dir);
        var same = saved is not null &&
            JsonSerializer.Serialize(withoutBudget(saved), Json.Options) == JsonSerializer.Serialize(withoutBudget(options), Json.Options);
        if (same) return true;
        var state = Checkpoint.ReadState(dir);
        var how = state.IsComplete ? "a finished" : $"an unfinished (epoch {state.Epoch}, step {state.Step})";
        var differs = saved is null ? $"its options are unknown (no {OptionsFile})" : $"it was trained with other options ({Differences(saved, options, withoutBudget)})";
        throw new InvalidOperationException(
            $"{dir} (--out) already holds {how} {what}, and {differs}. Nothing was changed. Give --resume to continue training it (its model " +
            $"keeps the saved shape), --force to start over and replace it, or another --out.");
    }

    /// <summary>
    /// <see cref="ShouldResume"/>, and the options the run goes on with: with <see cref="ExistingCheckpoint.Resume"/>, the
    /// saved ones given this session's budget (<paramref name="withBudgetOf"/>: saved, asked → options); else those asked for.
    /// </summary>
    public static (bool Resume, TOptions Options) Open<TOptions>(string dir, TOptions options, Func<TOptions, TOptions> withoutBudget,
        Func<TOptions, TOptions, TOptions> withBudgetOf, ExistingCheckpoint choice, string what) where TOptions : class
    {
        ArgumentNullException.ThrowIfNull(withBudgetOf);
        var resume = ShouldResume(dir, options, withoutBudget, choice, what);
        return resume && choice == ExistingCheckpoint.Resume && ReadOptions<TOptions>(dir) is { } saved
            ? (true, withBudgetOf(saved, options))
            : (resume, options);
    }

    /// <summary>
    /// The start of a recipe whose options record is an <see cref="IRecipeOptions{TOptions}"/>: checks the options, fills in
    /// their defaults, and <see cref="Open"/>s <paramref name="output"/> (a resumed run with <see cref="ExistingCheckpoint.Resume"/>
    /// goes on with the saved options and this session's budget).
    /// </summary>
    internal static (bool Resume, TOptions Options) Start<TOptions>(string output, TOptions options, ExistingCheckpoint existing, string what)
        where TOptions : class, IRecipeOptions<TOptions>
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(output);
        options.Validate();
        return Open(output, options.Resolved(), o => o.WithoutBudget(), (saved, asked) => saved.Resolved().WithBudgetOf(asked), existing, what);
    }

    /// <summary>The options record saved in <paramref name="dir"/>, or null when there is none.</summary>
    /// <exception cref="InvalidDataException">The file is not a valid record.</exception>
    public static TOptions? ReadOptions<TOptions>(string dir) where TOptions : class =>
        Checkpoint.Locate(dir, OptionsFile) is { } path ? Json.ReadFile<TOptions>(path, "training options file", _ => { }) : null;

    /// <summary>The options record as a file of the checkpoint (pass it as a model's <c>extraFiles</c> when saving), so the
    /// options and the weights they trained are replaced together or not at all.</summary>
    public static IReadOnlyDictionary<string, Action<BinaryWriter>> OptionsFiles<TOptions>(TOptions options) =>
        new Dictionary<string, Action<BinaryWriter>> { [OptionsFile] = Checkpoint.Text(JsonSerializer.Serialize(options, Json.Options)) };

    static string Differences<TOptions>(TOptions saved, TOptions asked, Func<TOptions, TOptions> withoutBudget)
    {
        var a = JsonSerializer.SerializeToElement(withoutBudget(saved), Json.Options);
        var b = JsonSerializer.SerializeToElement(withoutBudget(asked), Json.Options);
        var keys = a.EnumerateObject().Select(p => p.Name)
            .Where(k => !b.TryGetProperty(k, out var v) || v.GetRawText() != a.GetProperty(k).GetRawText())
            .Select(k => $"{k} {a.GetProperty(k).GetRawText()} there, {(b.TryGetProperty(k, out var v) ? v.GetRawText() : "none")} now");
        return string.Join("; ", keys);
    }
}

/// <summary>What <see cref="RunFolder.Start"/> needs of a recipe's options record.</summary>
internal interface IRecipeOptions<TOptions> where TOptions : class
{
    /// <summary>Throws <see cref="ArgumentException"/> naming the first property out of range.</summary>
    void Validate();
    /// <summary>The same options with every default that depends on others filled in.</summary>
    TOptions Resolved();
    /// <summary>The options with the budget (time, epochs, threads) reset: what must match for a run to resume.</summary>
    TOptions WithoutBudget();
    /// <summary>These (saved) options with the budget of <paramref name="asked"/>.</summary>
    TOptions WithBudgetOf(TOptions asked);
}
