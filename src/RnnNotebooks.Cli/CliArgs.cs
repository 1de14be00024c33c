namespace RnnNotebooks.Cli;

/// <summary>A command's arguments: <c>--name value</c> options, <c>--flag</c> switches and positionals.</summary>
/// <remarks>Every option a command reads is declared when it reads it; <see cref="EnsureAllUsed"/> then turns
/// anything left over (a typo such as <c>--epoch</c>) into a clear error instead of a silent default.</remarks>
sealed class CliArgs
{
    readonly Dictionary<string, List<string>> options = new(StringComparer.Ordinal);
    readonly HashSet<string> flags = new(StringComparer.Ordinal);
    readonly HashSet<string> used = new(StringComparer.Ordinal);

    public List<string> Positionals { get; } = [];

    /// <param name="args">The words after the command name.</param>
    /// <param name="flagNames">Switches the command knows (no value).</param>
    /// <param name="optionNames">Options the command knows (<c>--name value</c> or <c>--name=value</c>).</param>
    public CliArgs(IEnumerable<string> args, IReadOnlySet<string> flagNames, IReadOnlySet<string> optionNames)
    {
        using var e = args.GetEnumerator();
        while (e.MoveNext())
        {
            var a = e.Current;
            if (!a.StartsWith("--", StringComparison.Ordinal) || a == "--") { Positionals.Add(a); continue; }
            var eq = a.IndexOf('=');
            var name = eq > 0 ? a[2..eq] : a[2..];
            if (flagNames.Contains(name)) { flags.Add(name); continue; }
            if (!optionNames.Contains(name))
                throw new UsageException($"unknown option --{name}.");
            string value;
            if (eq > 0) value = a[(eq + 1)..];
            else if (e.MoveNext()) value = e.Current;
            else throw new UsageException($"--{name} needs a value.");
            if (!options.TryGetValue(name, out var list)) options[name] = list = [];
            list.Add(value);
        }
    }

    public bool Flag(string name) { used.Add(name); return flags.Contains(name); }

    public string? Option(string name)
    {
        used.Add(name);
        if (!options.TryGetValue(name, out var values)) return null;
        if (values.Count > 1) throw new UsageException($"--{name} was given {values.Count} times; give it once.");
        return values[0];
    }

    public IReadOnlyList<string> Options(string name)
    {
        used.Add(name);
        return options.GetValueOrDefault(name) ?? [];
    }

    public string Required(string name) =>
        Option(name) ?? throw new UsageException($"--{name} is required.");

    public int Int(string name, int fallback) => Parse(name, fallback, int.TryParse);

    /// <summary>The beam size (<c>--beam</c>, default 5) of the decoding commands; at least 1.</summary>
    public int Beam(int fallback = 5)
    {
        var beam = Int("beam", fallback);
        return beam >= 1 ? beam : throw new UsageException($"--beam {beam}: expected 1 or more.");
    }

    /// <summary>
    /// The learning-rate schedule options shared by the training commands: <c>--schedule</c> (one of
    /// <paramref name="allowed"/>, the first being the default) and <c>--decay-fraction</c> (default 0.3), which
    /// only goes with <c>hold-cosine</c>.
    /// </summary>
    public (string Schedule, double DecayFraction) Schedule(params string[] allowed)
    {
        var schedule = Option("schedule") ?? allowed[0];
        if (!allowed.Contains(schedule))
            throw new UsageException($"--schedule {schedule}: expected {string.Join(", ", allowed[..^1])} or {allowed[^1]}.");
        var fraction = Double("decay-fraction", 0.3);
        if (fraction is <= 0 or > 1) throw new UsageException($"--decay-fraction {fraction}: expected a fraction of the budget in (0, 1].");
        if (Option("decay-fraction") is not null && schedule != "hold-cosine")
            throw new UsageException("--decay-fraction goes with --schedule hold-cosine.");
        return (schedule, fraction);
    }

    /// <summary>A finite number written the invariant way (<c>0.5</c>; <c>0,5</c>, NaN and infinities are rejected).</summary>
    public double Double(string name, double fallback) =>
        Parse(name, fallback, (string s, out double v) =>
            double.TryParse(s, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out v)
            && double.IsFinite(v));

    /// <summary><c>--threads</c> under <see cref="Training.Threads.Requested"/>'s rule: null (automatic) when absent or 0.</summary>
    public int? Threads()
    {
        var count = Int("threads", 0);
        try
        {
            return Training.Threads.Requested(count);
        }
        catch (ArgumentOutOfRangeException e)
        {
            throw new UsageException($"--threads {count}: {e.Message.Split('\n')[0].Split(" (Parameter")[0]}");
        }
    }

    delegate bool TryParser<T>(string s, out T value);

    T Parse<T>(string name, T fallback, TryParser<T> tryParse)
    {
        var raw = Option(name);
        if (raw is null) return fallback;
        return tryParse(raw, out var value) ? value
            : throw new UsageException($"--{name} {raw}: expected {(typeof(T) == typeof(double) ? "a finite number such as 0.5" : "a whole number")}.");
    }

    /// <summary><c>--force</c> (start over, replacing) or <c>--resume</c> (continue with the checkpoint's options); neither:
    /// resume only a checkpoint of the same options. Declare both as flags.</summary>
    public Training.ExistingCheckpoint Existing()
    {
        var (force, resume) = (Flag("force"), Flag("resume"));
        if (force && resume) throw new UsageException("--force (start over) and --resume (continue) contradict each other.");
        return force ? Training.ExistingCheckpoint.Replace : resume ? Training.ExistingCheckpoint.Resume : Training.ExistingCheckpoint.ResumeIfSame;
    }

    /// <summary>Runs the library's check of an options record; a property out of range becomes a usage error naming
    /// its option (<paramref name="optionOf"/>: property name to option name without dashes).</summary>
    public static void Check(Action validate, IReadOnlyDictionary<string, string> optionOf)
    {
        try
        {
            validate();
        }
        catch (ArgumentException e) when (e.ParamName is { } p && optionOf.TryGetValue(p, out var option))
        {
            var value = e is ArgumentOutOfRangeException { ActualValue: { } v } ? $" {v}" : "";
            throw new UsageException($"--{option}{value}: {e.Message.Split('\n')[0].Split(" (Parameter")[0]}");
        }
    }

    public void EnsureAllUsed()
    {
        var unknown = options.Keys.Concat(flags).Where(k => !used.Contains(k)).ToList();
        if (unknown.Count > 0)
            throw new UsageException($"unknown option{(unknown.Count > 1 ? "s" : "")}: {string.Join(", ", unknown.Select(k => "--" + k))}");
    }
}
