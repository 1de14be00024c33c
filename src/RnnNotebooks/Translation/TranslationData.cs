using RnnNotebooks.Data;

namespace RnnNotebooks.Translation;

/// <summary>A tokenised sentence and its translation.</summary>
/// <remarks>Introduced in 04-machine-translation.</remarks>
public sealed record SentencePair(IReadOnlyList<string> Source, IReadOnlyList<string> Target)
{
    /// <summary>The source as one string, the key that keeps a sentence in one split.</summary>
    public string SourceKey => string.Join(' ', Source);
}

/// <summary>Train, validation and test pairs.</summary>
/// <remarks>Introduced in 04-machine-translation.</remarks>
public sealed record TranslationSplits(IReadOnlyList<SentencePair> Train, IReadOnlyList<SentencePair> Validation,
    IReadOnlyList<SentencePair> Test)
{
    /// <summary>The split called <paramref name="name"/>: train, validation (or val, valid), test.</summary>
    public IReadOnlyList<SentencePair> Get(string name) => name switch
    {
        "train" => Train,
        "validation" or "val" or "valid" => Validation,
        "test" => Test,
        _ => throw new ArgumentException($"Unknown split '{name}'; expected train, validation or test.", nameof(name)),
    };
}

/// <summary>How the Tatoeba English–French pairs are read and split.</summary>
/// <param name="Source">Source language, "fra" or "eng"; the other is the target.</param>
/// <param name="MaxLength">Longest sentence kept, in tokens, on either side.</param>
/// <param name="ValidationFraction">Share of distinct source sentences held out for validation.</param>
/// <param name="TestFraction">Share of distinct source sentences held out for testing.</param>
/// <param name="SplitSeed">Seed of the split; fixed by default so the test set does not move with the training seed.</param>
/// <param name="MaxPairs">Keep only this many pairs after filtering (a random, seeded subset), for quick runs.</param>
/// <remarks>Introduced in 04-machine-translation.</remarks>
public sealed record FraEngOptions(
    string Source = "fra",
    int MaxLength = 12,
    double ValidationFraction = 0.05,
    double TestFraction = 0.05,
    int SplitSeed = 2002,
    int? MaxPairs = null);

/// <summary>The course's translation data: Tatoeba French–English for the lesson, Multi30k as the benchmark.</summary>
/// <remarks>Introduced in 04-machine-translation.</remarks>
public static class TranslationData
{
    /// <summary>The languages of each dataset, source first by default.</summary>
    public static IReadOnlyDictionary<string, string[]> Languages { get; } = new Dictionary<string, string[]>
    {
        ["fra-eng"] = ["fra", "eng"],
        ["multi30k"] = ["de", "en", "fr", "cs"],
    };

    /// <summary>
    /// Tatoeba pairs (<c>fra-eng.zip/fra.txt</c>): tokenised with <see cref="SentenceTokenizer"/>, filtered to
    /// <see cref="FraEngOptions.MaxLength"/> tokens, and split by source sentence so that no source sentence is in
    /// two splits (its several translations stay together and serve as multiple references).
    /// </summary>
    /// <remarks>The filtered pairs of the last call are kept in memory (keyed by file, its write time, direction and
    /// length limit), so evaluating right after training, or rerunning a notebook cell, does not tokenise the
    /// 140,000 lines again.</remarks>
    public static TranslationSplits FraEng(FraEngOptions? options = null, DatasetOptions? dataset = null)
    {
        options ??= new FraEngOptions();
        var path = Datasets.GetFile("fra-eng", "fra-eng.zip", dataset);
        var key = (path, File.GetLastWriteTimeUtc(path), options.Source, options.MaxLength);
        IReadOnlyList<SentencePair>? pairs = null;
        lock (CacheGate)
        {
            if (lastFraEng is { } cached && cached.Key == key) pairs = cached.Pairs;
        }
        if (pairs is null)
        {
            pairs = ReadFraEngPairs(Datasets.ReadZipText("fra-eng", "fra-eng.zip", "fra.txt", dataset), options);
            lock (CacheGate) lastFraEng = (key, pairs);
        }
        return SubsampleAndSplit(pairs, options);
    }

    static readonly object CacheGate = new();
    static ((string, DateTime, string, int) Key, IReadOnlyList<SentencePair> Pairs)? lastFraEng;

    /// <summary>Parses <c>English&lt;TAB&gt;French</c> lines and splits them as <see cref="FraEng"/> does.</summary>
    /// <exception cref="InvalidDataException">A line does not have two tab-separated columns.</exception>
    public static TranslationSplits ParseFraEng(string text, FraEngOptions options) =>
        SubsampleAndSplit(ReadFraEngPairs(text, options), options);

    static List<SentencePair> ReadFraEngPairs(string text, FraEngOptions options)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentNullException.ThrowIfNull(options);
        var frenchSource = options.Source switch
        {
            "fra" or "fr" => true,
            "eng" or "en" => false,
            _ => throw new ArgumentException($"fra-eng has languages fra and eng; got source '{options.Source}'.", nameof(options)),
        };
        ArgumentOutOfRangeException.ThrowIfLessThan(options.MaxLength, 1, nameof(options.MaxLength));
        var pairs = new List<SentencePair>();
        var lineNumber = 0;
        foreach (var line in text.Split('\n'))
        {
            lineNumber++;
            if (line.Length == 0 || line == "\r") continue;
            var columns = line.TrimEnd('\r').Split('\t');
            if (columns.Length < 2)
                throw new InvalidDataException(
                    $"fra.txt line {lineNumber}: expected 'English<TAB>French', found {columns.Length} column(s): '{Shorten(line)}'.");
            var english = SentenceTokenizer.Tokenize(columns[0]);
            var french = SentenceTokenizer.Tokenize(columns[1]);
            if (english.Count == 0 || french.Count == 0 || english.Count > options.MaxLength || french.Count > options.MaxLength)
                continue;
            pairs.Add(frenchSource ? new SentencePair(french, english) : new SentencePair(english, french));
        }
        return pairs;
    }

    static TranslationSplits SubsampleAndSplit(IReadOnlyList<SentencePair> pairs, FraEngOptions options)
    {
        if (options.MaxPairs is { } max && max < pairs.Count)
        {
            var random = new Random(options.SplitSeed + 1);
            pairs = [.. pairs.OrderBy(_ => random.Next()).Take(max)];
        }
        return SplitBySource(pairs, options.ValidationFraction, options.TestFraction, options.SplitSeed);
    }

    /// <summary>
    /// Multi30k task 1 (the lowercased, Moses-tokenised <c>tok/</c> files): train, val and test_2016_flickr
    /// (or <paramref name="testSet"/>). Training pairs longer than <paramref name="maxTrainLength"/> tokens are
    /// dropped; validation and test are kept whole.
    /// </summary>
    public static TranslationSplits Multi30k(string source = "de", string target = "en", int maxTrainLength = 50,
        string testSet = "test_2016_flickr", DatasetOptions? dataset = null)
    {
        var languages = Languages["multi30k"];
        if (!languages.Contains(source) || !languages.Contains(target) || source == target)
            throw new ArgumentException(
                $"multi30k has languages {string.Join(", ", languages)}; got --src {source} --tgt {target}.");
        IReadOnlyList<SentencePair> Read(string split, int? maxLength)
        {
            var src = Lines(Datasets.ReadText("multi30k", $"task1/tok/{split}.lc.norm.tok.{source}", dataset));
            var tgt = Lines(Datasets.ReadText("multi30k", $"task1/tok/{split}.lc.norm.tok.{target}", dataset));
            if (src.Count != tgt.Count)
                throw new InvalidDataException(
                    $"multi30k {split}: {src.Count} {source} lines but {tgt.Count} {target} lines; the files must be parallel.");
            return [.. src.Zip(tgt, (s, t) => new SentencePair(SentenceTokenizer.SplitPretokenized(s), SentenceTokenizer.SplitPretokenized(t)))
                .Where(p => p.Source.Count > 0 && p.Target.Count > 0
                    && (maxLength is null || (p.Source.Count <= maxLength && p.Target.Count <= maxLength)))];
        }
        return new TranslationSplits(Read("train", maxTrainLength), Read("val", null), Read(testSet, null));
    }

    /// <summary>
    /// Splits pairs so that every distinct source sentence lands in exactly one split: the distinct sources are
    /// shuffled with <paramref name="seed"/> and cut by the fractions.
    /// </summary>
    public static TranslationSplits SplitBySource(IReadOnlyList<SentencePair> pairs, double validationFraction,
        double testFraction, int seed)
    {
        ArgumentNullException.ThrowIfNull(pairs);
        if (validationFraction < 0 || testFraction < 0 || validationFraction + testFraction >= 1)
            throw new ArgumentOutOfRangeException(nameof(validationFraction),
                $"Validation ({validationFraction}) and test ({testFraction}) fractions must be ≥ 0 and sum to less than 1.");
        var groups = pairs.GroupBy(p => p.SourceKey, StringComparer.Ordinal)
            .OrderBy(g => g.Key, StringComparer.Ordinal)
            .ToList();
        var random = new Random(seed);
        for (var i = groups.Count - 1; i > 0; i--)
        {
            var j = random.Next(i + 1);
            (groups[i], groups[j]) = (groups[j], groups[i]);
        }
        var testCount = (int)Math.Round(groups.Count * testFraction);
        var validationCount = (int)Math.Round(groups.Count * validationFraction);
        List<SentencePair> Take(int skip, int count) => [.. groups.Skip(skip).Take(count).SelectMany(g => g)];
        return new TranslationSplits(
            Take(testCount + validationCount, groups.Count),
            Take(testCount, validationCount),
            Take(0, testCount));
    }

    /// <summary>Groups pairs by source sentence: each source once, with all its targets as references.</summary>
    public static IReadOnlyList<(IReadOnlyList<string> Source, IReadOnlyList<IReadOnlyList<string>> References)> GroupReferences(
        IEnumerable<SentencePair> pairs) =>
        [.. pairs.GroupBy(p => p.SourceKey, StringComparer.Ordinal)
            .Select(g => (g.First().Source, (IReadOnlyList<IReadOnlyList<string>>)g.Select(p => p.Target).ToList()))];

    static List<string> Lines(string text)
    {
        var lines = text.Split('\n').Select(l => l.TrimEnd('\r')).ToList();
        if (lines.Count > 0 && lines[^1].Length == 0) lines.RemoveAt(lines.Count - 1);
        return lines;
    }

    static string Shorten(string s) => s.Length <= 60 ? s : s[..60] + "…";
}
