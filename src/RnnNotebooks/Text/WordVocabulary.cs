using System.Text.Json;
using System.Text.Json.Serialization;

namespace RnnNotebooks.Text;

/// <summary>
/// Maps words to ids and back. Id 0 is <c>&lt;unk&gt;</c> (any word not kept), id 1 is <c>&lt;eos&gt;</c>
/// (the end of a line); the other words follow by descending frequency, ties in ordinal order, so the same
/// text always gives the same ids.
/// </summary>
/// <remarks>Introduced in 03-language-modeling.</remarks>
public sealed class WordVocabulary
{
    /// <summary>The token that stands for every word outside the vocabulary.</summary>
    public const string Unknown = "<unk>";
    /// <summary>The token that ends every line.</summary>
    public const string EndOfSentence = "<eos>";

    readonly string[] words;
    readonly Dictionary<string, int> ids;

    WordVocabulary(string[] words)
    {
        this.words = words;
        ids = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < words.Length; i++) ids[words[i]] = i;
    }

    /// <summary>
    /// Splits <paramref name="text"/> into words at whitespace and ends every non-empty line with
    /// <c>&lt;eos&gt;</c> (the Penn Treebank convention: one sentence per line).
    /// </summary>
    public static List<string> Tokenize(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var tokens = new List<string>();
        foreach (var line in text.Split('\n'))
        {
            var words = line.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
            if (words.Length == 0) continue;
            tokens.AddRange(words);
            tokens.Add(EndOfSentence);
        }
        return tokens;
    }

    /// <summary>Builds the vocabulary of a tokenized training text.</summary>
    /// <param name="tokens">Words, e.g. from <see cref="Tokenize"/>; must not be empty.</param>
    /// <param name="maxSize">Keep at most this many ids (the two special tokens included); rarer words become
    /// <c>&lt;unk&gt;</c>. Null keeps every word.</param>
    /// <param name="minCount">Words seen fewer times become <c>&lt;unk&gt;</c>.</param>
    public static WordVocabulary FromTokens(IEnumerable<string> tokens, int? maxSize = null, int minCount = 1)
    {
        ArgumentNullException.ThrowIfNull(tokens);
        if (maxSize is < 2) throw new ArgumentOutOfRangeException(nameof(maxSize), maxSize, "maxSize must leave room for <unk> and <eos> (at least 2).");
        var counts = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var t in tokens) counts[t] = counts.GetValueOrDefault(t) + 1;
        if (counts.Count == 0)
            throw new ArgumentException(
                "Cannot build a word vocabulary from no words. Pass the training text's tokens (check that the file was read and is not empty).",
                nameof(tokens));
        var kept = counts
            .Where(p => p.Key is not (Unknown or EndOfSentence) && p.Value >= minCount)
            .OrderByDescending(p => p.Value).ThenBy(p => p.Key, StringComparer.Ordinal)
            .Select(p => p.Key);
        if (maxSize is { } max) kept = kept.Take(max - 2);
        return new WordVocabulary([Unknown, EndOfSentence, .. kept]);
    }

    /// <summary>Builds the vocabulary of a text, tokenized with <see cref="Tokenize"/>.</summary>
    public static WordVocabulary FromText(string text, int? maxSize = null, int minCount = 1) =>
        FromTokens(Tokenize(text), maxSize, minCount);

    /// <summary>Number of ids.</summary>
    public int Size => words.Length;

    /// <summary>The words in id order.</summary>
    public IReadOnlyList<string> Words => words;

    /// <summary>Id of <c>&lt;unk&gt;</c>.</summary>
    public int UnknownId => 0;

    /// <summary>Id of <c>&lt;eos&gt;</c>.</summary>
    public int EndOfSentenceId => 1;

    /// <summary>The word with id <paramref name="id"/>.</summary>
    public string this[int id] => id >= 0 && id < words.Length
        ? words[id]
        : throw new ArgumentOutOfRangeException(nameof(id), id, $"Word ids run from 0 to {words.Length - 1}.");

    /// <summary>Whether <paramref name="word"/> has an id of its own.</summary>
    public bool Contains(string word) => ids.ContainsKey(word);

    /// <summary>The id of <paramref name="word"/>, or <see cref="UnknownId"/>.</summary>
    public int IdOf(string word) => ids.TryGetValue(word, out var id) ? id : UnknownId;

    /// <summary>The ids of a text, tokenized with <see cref="Tokenize"/>; unknown words map to <c>&lt;unk&gt;</c>.</summary>
    public int[] Encode(string text) => Tokenize(text).Select(IdOf).ToArray();

    /// <summary>The words of <paramref name="ids"/>, separated by spaces, with a line break for every <c>&lt;eos&gt;</c>.</summary>
    public string Decode(IEnumerable<int> ids)
    {
        ArgumentNullException.ThrowIfNull(ids);
        var parts = new List<string>();
        var line = new List<string>();
        foreach (var id in ids)
        {
            if (id == EndOfSentenceId) { parts.Add(string.Join(' ', line) + "\n"); line.Clear(); }
            else line.Add(this[id]);
        }
        if (line.Count > 0) parts.Add(string.Join(' ', line));
        return string.Concat(parts);
    }

    sealed record Stored([property: JsonPropertyName("words")] string[] Words);

    /// <summary>The vocabulary as JSON: the words in id order.</summary>
    public string ToJson() => JsonSerializer.Serialize(new Stored(words), new JsonSerializerOptions { WriteIndented = false });

    /// <summary>Reads a vocabulary written by <see cref="ToJson"/>.</summary>
    /// <exception cref="InvalidDataException">The JSON is not a word vocabulary.</exception>
    public static WordVocabulary FromJson(string json)
    {
        Stored? stored;
        try { stored = JsonSerializer.Deserialize<Stored>(json); }
        catch (JsonException e) { throw new InvalidDataException($"Not a word vocabulary: {e.Message}", e); }
        if (stored?.Words is not { Length: >= 2 } w || w[0] != Unknown || w[1] != EndOfSentence)
            throw new InvalidDataException(
                "Expected a word vocabulary as written by WordVocabulary.ToJson: a \"words\" array starting with <unk>, <eos>. " +
                "Re-create it with WordVocabulary.FromText.");
        if (w.Distinct(StringComparer.Ordinal).Count() != w.Length)
            throw new InvalidDataException("\"words\" repeats a word, so ids would be ambiguous. Re-create it with WordVocabulary.FromText.");
        return new WordVocabulary(w);
    }
}
