using System.Text.Json;
using System.Text.Json.Serialization;

namespace RnnNotebooks.Text;

/// <summary>What one token of a language model is.</summary>
/// <remarks>Introduced in 03-language-modeling.</remarks>
public enum TokenLevel
{
    /// <summary>One character (UTF-16 code unit), via <see cref="CharVocabulary"/>.</summary>
    Char,
    /// <summary>One whitespace-separated word, lines ending in <c>&lt;eos&gt;</c>, via <see cref="WordVocabulary"/>.</summary>
    Word,
}

/// <summary>
/// Text ↔ token ids at either level, behind one type, so a language model's checkpoint, evaluation and
/// sampling do not care which level it was trained at.
/// </summary>
/// <remarks>Introduced in 03-language-modeling.</remarks>
public sealed class Tokenizer
{
    Tokenizer(CharVocabulary? chars, WordVocabulary? words)
    {
        Chars = chars;
        Words = words;
    }

    /// <summary>Characters as tokens; encoding a character outside <paramref name="vocabulary"/> follows its unknown rule.</summary>
    public static Tokenizer ForChars(CharVocabulary vocabulary) => new(vocabulary ?? throw new ArgumentNullException(nameof(vocabulary)), null);

    /// <summary>Words as tokens; a word outside <paramref name="vocabulary"/> becomes <c>&lt;unk&gt;</c>.</summary>
    public static Tokenizer ForWords(WordVocabulary vocabulary) => new(null, vocabulary ?? throw new ArgumentNullException(nameof(vocabulary)));

    /// <summary>Builds the vocabulary of <paramref name="trainingText"/> at <paramref name="level"/>.</summary>
    /// <param name="trainingText">The text the model trains on.</param>
    /// <param name="level">Characters or words.</param>
    /// <param name="maxWords">Word level only: the most frequent words kept (special tokens included).</param>
    public static Tokenizer FromText(string trainingText, TokenLevel level, int? maxWords = null) => level switch
    {
        TokenLevel.Char => ForChars(CharVocabulary.FromText(trainingText)),
        _ => ForWords(WordVocabulary.FromText(trainingText, maxWords)),
    };

    /// <summary>The character vocabulary, at character level.</summary>
    public CharVocabulary? Chars { get; }

    /// <summary>The word vocabulary, at word level.</summary>
    public WordVocabulary? Words { get; }

    /// <summary>Characters or words.</summary>
    public TokenLevel Level => Chars is not null ? TokenLevel.Char : TokenLevel.Word;

    /// <summary>Number of token ids.</summary>
    public int Size => Chars?.Size ?? Words!.Size;

    /// <summary>"char" or "word", for messages and units ("nats/char").</summary>
    public string Unit => Level == TokenLevel.Char ? "char" : "word";

    /// <summary>The ids of <paramref name="text"/>.</summary>
    /// <exception cref="ArgumentException">Character level: a character is not in the vocabulary.</exception>
    public int[] Encode(string text) => Chars?.Encode(text) ?? Words!.Encode(text);

    /// <summary>
    /// The ids of a prompt to continue: like <see cref="Encode"/>, but at word level without the
    /// <c>&lt;eos&gt;</c> that would close its last line (the model should continue that line). An empty prompt
    /// starts after a line break: <c>'\n'</c> or <c>&lt;eos&gt;</c>.
    /// </summary>
    /// <exception cref="ArgumentException">Character level: a character is not in the vocabulary.</exception>
    public int[] EncodePrompt(string prompt)
    {
        ArgumentNullException.ThrowIfNull(prompt);
        if (prompt.Length == 0)
        {
            if (Words is { } w) return [w.EndOfSentenceId];
            return Chars!.Contains('\n')
                ? [Chars.IdOf('\n')]
                : throw new ArgumentException("The prompt is empty and the vocabulary has no line break to start from; give a prompt.", nameof(prompt));
        }
        if (Chars is { } c) return c.Encode(prompt);
        var ids = Words!.Encode(prompt);
        return prompt.EndsWith('\n') || ids.Length < 2 ? ids : ids[..^1];
    }

    /// <summary>The text of <paramref name="ids"/>.</summary>
    public string Decode(IEnumerable<int> ids) => Chars?.Decode(ids) ?? Words!.Decode(ids);

    /// <summary>How one token is shown on its own (a word, or a character with line breaks visible).</summary>
    public string TokenText(int id) => Chars is { } c ? c[id].ToString() : Words![id];

    sealed record Stored(
        [property: JsonPropertyName("level")] string Level,
        [property: JsonPropertyName("vocabulary")] JsonElement Vocabulary);

    /// <summary>The level and the vocabulary as JSON.</summary>
    public string ToJson()
    {
        var vocabulary = JsonDocument.Parse(Chars?.ToJson() ?? Words!.ToJson()).RootElement;
        return JsonSerializer.Serialize(new Stored(Unit, vocabulary), new JsonSerializerOptions { WriteIndented = true });
    }

    /// <summary>Reads what <see cref="ToJson"/> wrote.</summary>
    /// <exception cref="InvalidDataException">The JSON is not a tokenizer.</exception>
    public static Tokenizer FromJson(string json)
    {
        Stored? stored;
        try { stored = JsonSerializer.Deserialize<Stored>(json); }
        catch (JsonException e) { throw new InvalidDataException($"Not a tokenizer: {e.Message}", e); }
        return stored?.Level switch
        {
            "char" => ForChars(CharVocabulary.FromJson(stored.Vocabulary.GetRawText())),
            "word" => ForWords(WordVocabulary.FromJson(stored.Vocabulary.GetRawText())),
            _ => throw new InvalidDataException(
                $"Expected a tokenizer with \"level\" \"char\" or \"word\", found {stored?.Level ?? "none"}. Re-create it with Tokenizer.ToJson."),
        };
    }
}
