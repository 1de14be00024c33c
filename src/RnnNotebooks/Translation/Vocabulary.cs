using TorchSharp;
using System.Text.Json;

namespace RnnNotebooks.Translation;

/// <summary>
/// Maps word tokens to ids and back. Ids 0–3 are the special tokens <c>&lt;pad&gt;</c>, <c>&lt;bos&gt;</c>,
/// <c>&lt;eos&gt;</c>, <c>&lt;unk&gt;</c>; the others are the words seen at least <c>minFrequency</c> times, most
/// frequent first (ties in ordinal order, so the same corpus always gives the same ids).
/// </summary>
/// <remarks>Introduced in 04-machine-translation.</remarks>
public sealed class Vocabulary
{
    /// <summary>Padding token: fills batches to one length; masked out of attention and loss.</summary>
    public const string PadToken = "<pad>";
    /// <summary>Start-of-sentence token: the decoder's first input.</summary>
    public const string BosToken = "<bos>";
    /// <summary>End-of-sentence token: the decoder's last output.</summary>
    public const string EosToken = "<eos>";
    /// <summary>Stands for every word not in the vocabulary.</summary>
    public const string UnkToken = "<unk>";
    /// <summary>Id of <see cref="PadToken"/>.</summary>
    public const long Pad = 0;
    /// <summary>Id of <see cref="BosToken"/>.</summary>
    public const long Bos = 1;
    /// <summary>Id of <see cref="EosToken"/>.</summary>
    public const long Eos = 2;
    /// <summary>Id of <see cref="UnkToken"/>.</summary>
    public const long Unk = 3;

    // The ids as Scalars that live as long as the process, for masks and first inputs (see Platform.Scalars).
    internal static readonly Scalar PadScalar = Pad.ToScalar();
    internal static readonly Scalar BosScalar = Bos.ToScalar();

    static readonly string[] Specials = [PadToken, BosToken, EosToken, UnkToken];

    readonly string[] tokens;
    readonly Dictionary<string, long> ids;

    Vocabulary(IEnumerable<string> tokens)
    {
        this.tokens = [.. tokens];
        ids = new Dictionary<string, long>(StringComparer.Ordinal);
        for (var i = 0; i < this.tokens.Length; i++)
            if (!ids.TryAdd(this.tokens[i], i))
                throw new InvalidDataException($"The token '{this.tokens[i]}' occurs twice in the vocabulary (ids {ids[this.tokens[i]]} and {i}).");
        for (var i = 0; i < Specials.Length; i++)
            if (i >= this.tokens.Length || this.tokens[i] != Specials[i])
                throw new InvalidDataException($"A vocabulary must start with {string.Join(", ", Specials)}; id {i} is " +
                    $"'{(i < this.tokens.Length ? this.tokens[i] : "missing")}'.");
    }

    /// <summary>Builds a vocabulary from tokenised sentences, keeping words seen at least
    /// <paramref name="minFrequency"/> times (and at most <paramref name="maxSize"/> ids, specials included).</summary>
    public static Vocabulary Build(IEnumerable<IReadOnlyList<string>> sentences, int minFrequency = 1, int? maxSize = null)
    {
        ArgumentNullException.ThrowIfNull(sentences);
        ArgumentOutOfRangeException.ThrowIfLessThan(minFrequency, 1);
        if (maxSize is { } m) ArgumentOutOfRangeException.ThrowIfLessThan(m, Specials.Length, nameof(maxSize));
        var counts = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var sentence in sentences)
            foreach (var token in sentence)
                counts[token] = counts.GetValueOrDefault(token) + 1;
        var words = counts
            .Where(kv => kv.Value >= minFrequency && Array.IndexOf(Specials, kv.Key) < 0)
            .OrderByDescending(kv => kv.Value).ThenBy(kv => kv.Key, StringComparer.Ordinal)
            .Select(kv => kv.Key);
        if (maxSize is { } max) words = words.Take(max - Specials.Length);
        return new Vocabulary(Specials.Concat(words));
    }

    /// <summary>Number of ids, specials included.</summary>
    public int Count => tokens.Length;

    /// <summary>The tokens in id order.</summary>
    public IReadOnlyList<string> Tokens => tokens;

    /// <summary>The id of <paramref name="token"/>, or <see cref="Unk"/>.</summary>
    public long this[string token] => ids.TryGetValue(token, out var id) ? id : Unk;

    /// <summary>The token of <paramref name="id"/>.</summary>
    public string this[long id] => id >= 0 && id < tokens.Length
        ? tokens[id]
        : throw new ArgumentOutOfRangeException(nameof(id), id, $"The vocabulary has ids 0 to {tokens.Length - 1}.");

    /// <summary>Whether <paramref name="token"/> has an id of its own.</summary>
    public bool Contains(string token) => ids.ContainsKey(token);

    /// <summary>Ids of <paramref name="sentence"/>, optionally framed by <c>&lt;bos&gt;</c> and <c>&lt;eos&gt;</c>.</summary>
    public long[] Encode(IEnumerable<string> sentence, bool addBos = false, bool addEos = false)
    {
        ArgumentNullException.ThrowIfNull(sentence);
        var result = new List<long>();
        if (addBos) result.Add(Bos);
        result.AddRange(sentence.Select(t => this[t]));
        if (addEos) result.Add(Eos);
        return [.. result];
    }

    /// <summary>Tokens of <paramref name="ids"/>, stopping at the first <c>&lt;eos&gt;</c> and skipping
    /// <c>&lt;pad&gt;</c> and <c>&lt;bos&gt;</c>.</summary>
    public IReadOnlyList<string> Decode(IEnumerable<long> ids)
    {
        ArgumentNullException.ThrowIfNull(ids);
        var result = new List<string>();
        foreach (var id in ids)
        {
            if (id == Eos) break;
            if (id is Pad or Bos) continue;
            result.Add(this[id]);
        }
        return result;
    }

    /// <summary>The tokens, in id order, as a JSON array.</summary>
    public string ToJson() => JsonSerializer.Serialize(tokens, Json.Options);

    /// <summary>Writes <see cref="ToJson"/> to <paramref name="path"/> (atomically).</summary>
    public void Save(string path) => AtomicFile.WriteAllText(path, ToJson());

    /// <summary>Reads a vocabulary written by <see cref="Save"/>.</summary>
    /// <exception cref="InvalidDataException">The file is not a JSON array of tokens starting with the specials.</exception>
    public static Vocabulary Load(string path)
    {
        string[]? list;
        try
        {
            list = JsonSerializer.Deserialize<string[]>(File.ReadAllText(path));
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path}: expected a JSON array of tokens (written by Vocabulary.Save): {e.Message}", e);
        }
        if (list is null) throw new InvalidDataException($"{path}: expected a JSON array of tokens, found null.");
        try
        {
            return new Vocabulary(list);
        }
        catch (InvalidDataException e)
        {
            throw new InvalidDataException($"{path}: {e.Message}", e);
        }
    }
}
