using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using TorchSharp;
using static TorchSharp.torch;

namespace RnnNotebooks.Text;

/// <summary>
/// Maps the characters of a text to ids <c>0 … Size-1</c> and back, in ordinal (UTF-16 code unit) order,
/// so the same text always gives the same ids.
/// </summary>
/// <remarks>
/// A "character" is one UTF-16 code unit: a character outside the Basic Multilingual Plane (most emoji)
/// becomes two ids, and decoding the two ids restores it.
/// Introduced in 01-vanilla-rnn.
/// </remarks>
public sealed class CharVocabulary
{
    readonly char[] chars;
    readonly Dictionary<char, int> ids;

    CharVocabulary(IEnumerable<char> chars, char? unknown)
    {
        this.chars = chars.Distinct().Order().ToArray();
        ids = this.chars.Select((c, i) => (c, i)).ToDictionary(p => p.c, p => p.i);
        Unknown = unknown;
    }

    /// <summary>
    /// Builds the vocabulary of the distinct characters of <paramref name="text"/>.
    /// </summary>
    /// <param name="text">The training text; must not be empty.</param>
    /// <param name="unknown">
    /// null (the default): <see cref="Encode"/> throws on a character the text did not contain.
    /// A character such as <c>'?'</c>: such characters are encoded as this one, which is added to the
    /// vocabulary if the text lacks it.
    /// </param>
    public static CharVocabulary FromText(string text, char? unknown = null)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (text.Length == 0)
            throw new ArgumentException(
                "Cannot build a character vocabulary from an empty text: there are no characters to number. " +
                "Pass the training text (check that the file was read and is not empty).", nameof(text));
        return new CharVocabulary(unknown is { } u ? text.Append(u) : text, unknown);
    }

    /// <summary>Number of distinct characters, i.e. the width of a one-hot vector.</summary>
    public int Size => chars.Length;

    /// <summary>The characters in id order.</summary>
    public IReadOnlyList<char> Chars => chars;

    /// <summary>The replacement for characters outside the vocabulary, or null if they are an error.</summary>
    public char? Unknown { get; }

    /// <summary>The character with id <paramref name="id"/>.</summary>
    public char this[int id] => id >= 0 && id < chars.Length
        ? chars[id]
        : throw new ArgumentOutOfRangeException(nameof(id), id, $"Character ids run from 0 to {chars.Length - 1}.");

    /// <summary>Whether <paramref name="c"/> has an id of its own.</summary>
    public bool Contains(char c) => ids.ContainsKey(c);

    /// <summary>The id of <paramref name="c"/>; an unknown character follows the <see cref="Unknown"/> rule.</summary>
    public int IdOf(char c) => IdAt(c, position: null, nameof(c));

    /// <summary>The id of every character of <paramref name="text"/>.</summary>
    /// <exception cref="ArgumentException">A character is not in the vocabulary and <see cref="Unknown"/> is null.</exception>
    public int[] Encode(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var result = new int[text.Length];
        for (var i = 0; i < text.Length; i++) result[i] = IdAt(text[i], i, nameof(text));
        return result;
    }

    /// <summary>The text whose characters have the given ids.</summary>
    public string Decode(IEnumerable<int> ids)
    {
        ArgumentNullException.ThrowIfNull(ids);
        var builder = new StringBuilder();
        foreach (var id in ids) builder.Append(this[id]);
        return builder.ToString();
    }

    /// <summary>One row per id with a 1 in that id's column: <c>[ids.Length, Size]</c>.</summary>
    public Tensor OneHot(int[] ids, ScalarType dtype = ScalarType.Float32)
    {
        ArgumentNullException.ThrowIfNull(ids);
        foreach (var id in ids) _ = this[id];
        using var scope = NewDisposeScope();
        var index = tensor(ids.Select(i => (long)i).ToArray(), ScalarType.Int64);
        return scope.MoveToOuter(nn.functional.one_hot(index, Size).to_type(dtype));
    }

    int IdAt(char c, int? position, string paramName)
    {
        if (ids.TryGetValue(c, out var id)) return id;
        if (Unknown is { } u) return ids[u];
        var where = position is { } p ? $" at position {p}" : "";
        throw new ArgumentException(
            $"Character {Describe(c)}{where} is not in the vocabulary of {Size} characters. Build the vocabulary " +
            "from a text that contains it, or with CharVocabulary.FromText(text, unknown: '?') to map unseen " +
            "characters to a replacement.", paramName);
    }

    static string Describe(char c) =>
        char.IsControl(c) || char.IsSurrogate(c) || char.IsWhiteSpace(c)
            ? $"U+{(int)c:X4}"
            : $"'{c}' (U+{(int)c:X4})";

    sealed record Stored(
        [property: JsonPropertyName("codeUnits")] int[] CodeUnits,
        [property: JsonPropertyName("unknown")] int? Unknown,
        [property: JsonPropertyName("text")] string Text);

    static readonly JsonSerializerOptions JsonOptions = new() { WriteIndented = true };

    /// <summary>
    /// The vocabulary as JSON. Ids are stored as UTF-16 code units (exact for any text); <c>text</c> repeats
    /// them as a readable string, which <see cref="FromJson"/> ignores.
    /// </summary>
    public string ToJson() =>
        JsonSerializer.Serialize(
            new Stored(chars.Select(c => (int)c).ToArray(), Unknown, new string(chars.Select(c => char.IsSurrogate(c) ? '\uFFFD' : c).ToArray())),
            JsonOptions);

    /// <summary>Reads a vocabulary written by <see cref="ToJson"/>.</summary>
    /// <exception cref="InvalidDataException">The JSON is not a vocabulary.</exception>
    public static CharVocabulary FromJson(string json)
    {
        var stored = JsonSerializer.Deserialize<Stored>(json, JsonOptions);
        if (stored?.CodeUnits is not { Length: > 0 } codes)
            throw new InvalidDataException(
                "Expected a character vocabulary as written by CharVocabulary.ToJson, with a non-empty \"codeUnits\" array; " +
                "found none. Re-create the file with CharVocabulary.Save.");
        if (codes.Any(c => c is < 0 or > char.MaxValue) || codes.Distinct().Count() != codes.Length)
            throw new InvalidDataException(
                "\"codeUnits\" must hold distinct UTF-16 code units (0…65535). Re-create the file with CharVocabulary.Save.");
        if (stored.Unknown is { } u && !codes.Contains(u))
            throw new InvalidDataException(
                $"\"unknown\" (U+{u:X4}) is not one of the vocabulary's code units. Re-create the file with CharVocabulary.Save.");
        var vocabulary = new CharVocabulary(codes.Select(c => (char)c), stored.Unknown is { } k ? (char)k : null);
        if (!vocabulary.chars.Select(c => (int)c).SequenceEqual(codes))
            throw new InvalidDataException(
                "\"codeUnits\" must be in ascending order, as ids are positions in it. Re-create the file with CharVocabulary.Save.");
        return vocabulary;
    }

    /// <summary>Writes <see cref="ToJson"/> to <paramref name="path"/>.</summary>
    public void Save(string path) => File.WriteAllText(path, ToJson());

    /// <summary>Reads a vocabulary saved with <see cref="Save"/>.</summary>
    public static CharVocabulary Load(string path)
    {
        try
        {
            return FromJson(File.ReadAllText(path));
        }
        catch (Exception e) when (e is JsonException or InvalidDataException)
        {
            throw new InvalidDataException($"{path}: {e.Message}", e);
        }
    }
}
