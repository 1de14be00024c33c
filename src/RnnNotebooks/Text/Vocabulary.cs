using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using TorchSharp;
using static TorchSharp.torch;

namespace RnnNotebooks.Text;

/// <summary>What one token of a vocabulary is.</summary>
/// <remarks>Introduced in 03-language-modeling.</remarks>
public enum TokenLevel
{
    /// <summary>One character (UTF-16 code unit).</summary>
    Char,
    /// <summary>One whitespace-separated word.</summary>
    Word,
}

/// <summary>
/// Maps tokens (characters or words) to ids <c>0 … Size-1</c> and back. Each factory gives one layout, always the
/// same ids for the same input:
/// <list type="bullet">
/// <item><see cref="OfCharacters"/>: the characters of a text in ordinal order (lessons 01, 03).</item>
/// <item><see cref="OfWords"/>: <c>&lt;unk&gt;</c> 0, <c>&lt;eos&gt;</c> 1 (the end of a line), then words (lesson 03).</item>
/// <item><see cref="OfSentences"/>: <see cref="Pad"/>, <see cref="Bos"/>, <see cref="Eos"/>, <see cref="Unk"/>, then
/// words; the ids the translation and captioning models are built on (lessons 04, 06).</item>
/// <item><see cref="ForCtc"/>: the <see cref="Blank"/> 0, the space 1, then letters in the order given (lesson 05).</item>
/// </list>
/// Words are ranked by descending count, ties in ordinal order.
/// </summary>
/// <remarks>
/// A "character" is one UTF-16 code unit: a character outside the Basic Multilingual Plane (most emoji) becomes
/// two ids, and decoding the two ids restores it.
/// Introduced in 01-vanilla-rnn.
/// </remarks>
public sealed class Vocabulary
{
    /// <summary>Padding: fills batches to one length; masked out of attention and loss.</summary>
    public const string PadToken = "<pad>";
    /// <summary>Start of a sentence: a decoder's first input.</summary>
    public const string BosToken = "<bos>";
    /// <summary>End of a sentence (or of a line, for <see cref="OfWords"/>).</summary>
    public const string EosToken = "<eos>";
    /// <summary>Stands for every word not in the vocabulary.</summary>
    public const string UnkToken = "<unk>";
    /// <summary>The CTC blank, which emits nothing.</summary>
    public const string BlankToken = "<blank>";

    /// <summary>Id of <see cref="PadToken"/> in a vocabulary of <see cref="OfSentences"/>.</summary>
    public const long Pad = 0;
    /// <summary>Id of <see cref="BosToken"/> in a vocabulary of <see cref="OfSentences"/>.</summary>
    public const long Bos = 1;
    /// <summary>Id of <see cref="EosToken"/> in a vocabulary of <see cref="OfSentences"/>.</summary>
    public const long Eos = 2;
    /// <summary>Id of <see cref="UnkToken"/> in a vocabulary of <see cref="OfSentences"/>.</summary>
    public const long Unk = 3;
    /// <summary>Id of the blank in a vocabulary of <see cref="ForCtc"/>.</summary>
    public const int Blank = 0;

    // The ids as Scalars that live as long as the process, for masks and first inputs (see Platform.Scalars).
    internal static readonly Scalar PadScalar = Pad.ToScalar();
    internal static readonly Scalar BosScalar = Bos.ToScalar();

    enum Kind { Characters, Words, Sentences, Ctc }

    static readonly string[] WordSpecials = [UnkToken, EosToken];
    static readonly string[] SentenceSpecials = [PadToken, BosToken, EosToken, UnkToken];
    static readonly string[] CtcSpecials = [BlankToken, " "];

    readonly Kind kind;
    readonly string[] tokens;
    readonly Dictionary<string, int> ids = new(StringComparer.Ordinal);
    readonly int? padId, bosId, eosId, blankId;

    Vocabulary(Kind kind, string[] tokens, int? unknownId)
    {
        this.kind = kind;
        this.tokens = tokens;
        for (var i = 0; i < tokens.Length; i++)
            if (!ids.TryAdd(tokens[i], i))
                throw new InvalidDataException($"The token '{tokens[i]}' occurs twice in the vocabulary (ids {ids[tokens[i]]} and {i}), so ids would be ambiguous.");
        var specials = Specials(kind);
        for (var i = 0; i < specials.Length; i++)
            if (i >= tokens.Length || tokens[i] != specials[i])
                throw new InvalidDataException($"A {Name(kind)} vocabulary starts with {string.Join(", ", specials)}; id {i} is " +
                    $"'{(i < tokens.Length ? tokens[i] : "missing")}'.");
        UnknownId = unknownId;
        if (kind == Kind.Sentences) (padId, bosId) = ((int)Pad, (int)Bos);
        if (kind is Kind.Words or Kind.Sentences) eosId = ids[EosToken];
        if (kind == Kind.Ctc) blankId = Blank;
    }

    static string[] Specials(Kind kind) => kind switch
    {
        Kind.Words => WordSpecials,
        Kind.Sentences => SentenceSpecials,
        Kind.Ctc => CtcSpecials,
        _ => [],
    };

    static string Name(Kind kind) => kind switch
    {
        Kind.Characters => "characters",
        Kind.Words => "words",
        Kind.Sentences => "sentences",
        _ => "ctc",
    };

    /// <summary>The distinct characters of <paramref name="text"/>, in ordinal (UTF-16 code unit) order.</summary>
    /// <param name="text">The training text; must not be empty.</param>
    /// <param name="unknown">
    /// null (the default): <see cref="Encode"/> throws on a character the text did not contain.
    /// A character such as <c>'?'</c>: such characters are encoded as this one, which is added to the
    /// vocabulary if the text lacks it.
    /// </param>
    public static Vocabulary OfCharacters(string text, char? unknown = null)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (text.Length == 0)
            throw new ArgumentException(
                "Cannot build a character vocabulary from an empty text: there are no characters to number. " +
                "Pass the training text (check that the file was read and is not empty).", nameof(text));
        return Characters((unknown is { } u ? text.Append(u) : text).Distinct().Order(), unknown);
    }

    static Vocabulary Characters(IEnumerable<char> chars, char? unknown)
    {
        var tokens = chars.Select(c => c.ToString()).ToArray();
        return new Vocabulary(Kind.Characters, tokens, unknown is { } u ? Array.IndexOf(tokens, u.ToString()) : null);
    }

    /// <summary>
    /// <c>&lt;unk&gt;</c>, <c>&lt;eos&gt;</c>, then the words of <paramref name="text"/> split at whitespace
    /// (<see cref="Encode"/> ends every non-empty line with <c>&lt;eos&gt;</c>: the Penn Treebank convention, one
    /// sentence per line).
    /// </summary>
    /// <param name="text">The training text; must hold a word.</param>
    /// <param name="maxSize">Keep at most this many ids (the two special tokens included); rarer words become
    /// <c>&lt;unk&gt;</c>. Null keeps every word.</param>
    /// <param name="minCount">Words seen fewer times become <c>&lt;unk&gt;</c>.</param>
    public static Vocabulary OfWords(string text, int? maxSize = null, int minCount = 1)
    {
        var words = SplitLines(text);
        if (words.Count == 0)
            throw new ArgumentException(
                "Cannot build a word vocabulary from no words. Pass the training text (check that the file was read and is not empty).",
                nameof(text));
        return new Vocabulary(Kind.Words, ByCount([words], WordSpecials, minCount, maxSize, nameof(maxSize)), 0);
    }

    /// <summary>
    /// <c>&lt;pad&gt;</c>, <c>&lt;bos&gt;</c>, <c>&lt;eos&gt;</c>, <c>&lt;unk&gt;</c> (ids <see cref="Pad"/> …
    /// <see cref="Unk"/>), then the words of tokenised sentences seen at least <paramref name="minCount"/> times.
    /// </summary>
    /// <param name="sentences">Tokenised sentences (source or target side, or captions).</param>
    /// <param name="minCount">Words seen fewer times become <c>&lt;unk&gt;</c>.</param>
    /// <param name="maxSize">Keep at most this many ids, specials included; null keeps every word.</param>
    public static Vocabulary OfSentences(IEnumerable<IReadOnlyList<string>> sentences, int minCount = 1, int? maxSize = null)
    {
        ArgumentNullException.ThrowIfNull(sentences);
        return new Vocabulary(Kind.Sentences, ByCount(sentences, SentenceSpecials, minCount, maxSize, nameof(maxSize)), (int)Unk);
    }

    /// <summary>The output classes of a CTC model: the blank (id <see cref="Blank"/>), the space, then
    /// <paramref name="letters"/> in the order given.</summary>
    /// <param name="letters">Distinct characters, none a space.</param>
    public static Vocabulary ForCtc(string letters)
    {
        ArgumentNullException.ThrowIfNull(letters);
        for (var i = 0; i < letters.Length; i++)
            if (letters[i] == ' ' || letters.IndexOf(letters[i]) != i)
                throw new ArgumentException($"The letters must be distinct and not contain a space; '{letters[i]}' at {i} is not.", nameof(letters));
        return new Vocabulary(Kind.Ctc, [.. CtcSpecials, .. letters.Select(c => c.ToString())], null);
    }

    static string[] ByCount(IEnumerable<IReadOnlyList<string>> sentences, string[] specials, int minCount, int? maxSize, string maxSizeName)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(minCount, 1);
        if (maxSize is { } m && m < specials.Length)
            throw new ArgumentOutOfRangeException(maxSizeName, m, $"maxSize must leave room for {string.Join(" and ", specials)} (at least {specials.Length}).");
        var counts = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var sentence in sentences)
            foreach (var token in sentence)
                counts[token] = counts.GetValueOrDefault(token) + 1;
        var words = counts
            .Where(kv => kv.Value >= minCount && Array.IndexOf(specials, kv.Key) < 0)
            .OrderByDescending(kv => kv.Value).ThenBy(kv => kv.Key, StringComparer.Ordinal)
            .Select(kv => kv.Key);
        if (maxSize is { } max) words = words.Take(max - specials.Length);
        return [.. specials, .. words];
    }

    /// <summary>The words of <paramref name="text"/>, every non-empty line ending with <c>&lt;eos&gt;</c>.</summary>
    static List<string> SplitLines(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var tokens = new List<string>();
        foreach (var line in text.Split('\n'))
        {
            var words = line.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
            if (words.Length == 0) continue;
            tokens.AddRange(words);
            tokens.Add(EosToken);
        }
        return tokens;
    }

    /// <summary>Characters or words.</summary>
    public TokenLevel Level => kind is Kind.Characters or Kind.Ctc ? TokenLevel.Char : TokenLevel.Word;

    /// <summary>"char" or "word", for messages and units ("nats/char").</summary>
    public string Unit => Level == TokenLevel.Char ? "char" : "word";

    /// <summary>Number of ids, special tokens included (the width of a one-hot vector).</summary>
    public int Size => tokens.Length;

    /// <summary>The tokens in id order.</summary>
    public IReadOnlyList<string> Tokens => tokens;

    /// <summary>The id that tokens outside the vocabulary map to, or null if they are an error.</summary>
    public int? UnknownId { get; }

    /// <summary>The token with id <paramref name="id"/>.</summary>
    public string this[long id] => id >= 0 && id < tokens.Length
        ? tokens[id]
        : throw new ArgumentOutOfRangeException(nameof(id), id, $"The vocabulary has ids 0 to {tokens.Length - 1}.");

    /// <summary>Whether <paramref name="token"/> has an id of its own.</summary>
    public bool Contains(string token) => ids.ContainsKey(token);

    /// <summary>Whether the character <paramref name="c"/> has an id of its own.</summary>
    public bool Contains(char c) => ids.ContainsKey(c.ToString());

    /// <summary>The id of <paramref name="token"/>; a token outside the vocabulary gets <see cref="UnknownId"/>.</summary>
    /// <exception cref="ArgumentException">The token is not in the vocabulary and <see cref="UnknownId"/> is null.</exception>
    public int IdOf(string token) => IdAt(token, null, nameof(token));

    /// <summary>The id of the character <paramref name="c"/>, as <see cref="IdOf(string)"/>.</summary>
    public int IdOf(char c) => IdAt(c.ToString(), null, nameof(c));

    /// <summary>
    /// The ids of <paramref name="text"/>: one per character, or one per whitespace-separated word with
    /// <c>&lt;eos&gt;</c> closing every non-empty line.
    /// </summary>
    /// <exception cref="ArgumentException">A character is not in the vocabulary and <see cref="UnknownId"/> is null.</exception>
    public int[] Encode(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (Level == TokenLevel.Word) return [.. SplitLines(text).Select(w => IdAt(w, null, nameof(text)))];
        var result = new int[text.Length];
        for (var i = 0; i < text.Length; i++) result[i] = IdAt(text[i].ToString(), i, nameof(text));
        return result;
    }

    /// <summary>
    /// The ids of a prompt to continue: like <see cref="Encode"/>, but for words without the <c>&lt;eos&gt;</c> that
    /// would close its last line (the model should continue that line). An empty prompt starts after a line
    /// break: <c>'\n'</c> or <c>&lt;eos&gt;</c>.
    /// </summary>
    /// <exception cref="ArgumentException">A character is not in the vocabulary.</exception>
    public int[] EncodePrompt(string prompt)
    {
        ArgumentNullException.ThrowIfNull(prompt);
        if (prompt.Length == 0)
        {
            if (eosId is { } eos) return [eos];
            return Contains('\n')
                ? [IdOf('\n')]
                : throw new ArgumentException("The prompt is empty and the vocabulary has no line break to start from; give a prompt.", nameof(prompt));
        }
        var ids = Encode(prompt);
        return Level == TokenLevel.Char || prompt.EndsWith('\n') || ids.Length < 2 ? ids : ids[..^1];
    }

    /// <summary>
    /// The text of <paramref name="ids"/>: characters joined, or words joined by spaces with a line break for every
    /// <c>&lt;eos&gt;</c>. Padding, <c>&lt;bos&gt;</c> and the CTC blank are skipped.
    /// </summary>
    public string Decode(IEnumerable<int> ids)
    {
        ArgumentNullException.ThrowIfNull(ids);
        var builder = new StringBuilder();
        var lineStart = true;
        foreach (var id in ids)
        {
            var token = this[id];
            if (id == padId || id == bosId || id == blankId) continue;
            if (Level == TokenLevel.Char) builder.Append(token);
            else if (id == eosId) builder.Append('\n');
            else builder.Append(lineStart ? "" : " ").Append(token);
            lineStart = id == eosId;
        }
        return builder.ToString();
    }

    /// <summary>The ids of tokenised words as int64 (ready for a tensor), optionally framed by <c>&lt;bos&gt;</c>
    /// and <c>&lt;eos&gt;</c>; words outside the vocabulary get <see cref="UnknownId"/>.</summary>
    /// <exception cref="InvalidOperationException">A frame was asked for and the vocabulary has no such token.</exception>
    public long[] EncodeTokens(IEnumerable<string> tokens, bool addBos = false, bool addEos = false)
    {
        ArgumentNullException.ThrowIfNull(tokens);
        var result = new List<long>();
        if (addBos) result.Add(bosId ?? throw NoSuchToken(BosToken));
        result.AddRange(tokens.Select(t => (long)IdAt(t, null, nameof(tokens))));
        if (addEos) result.Add(eosId ?? throw NoSuchToken(EosToken));
        return [.. result];
    }

    InvalidOperationException NoSuchToken(string token) =>
        new($"This {Name(kind)} vocabulary has no {token}; build it with Vocabulary.OfSentences to frame sentences.");

    /// <summary>The tokens of <paramref name="ids"/> (e.g. a decoder's output), stopping at the first
    /// <c>&lt;eos&gt;</c> and skipping padding, <c>&lt;bos&gt;</c> and the CTC blank.</summary>
    public IReadOnlyList<string> DecodeTokens(IEnumerable<long> ids)
    {
        ArgumentNullException.ThrowIfNull(ids);
        var result = new List<string>();
        foreach (var id in ids)
        {
            if (id == eosId) break;
            if (id == padId || id == bosId || id == blankId) continue;
            result.Add(this[id]);
        }
        return result;
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

    int IdAt(string token, int? position, string paramName)
    {
        if (ids.TryGetValue(token, out var id)) return id;
        if (UnknownId is { } unknown) return unknown;
        var where = position is { } p ? $" at position {p}" : "";
        if (kind == Kind.Ctc)
            throw new ArgumentException($"{Describe(token)}{where} is not in the character set \"{string.Concat(tokens.Skip(2))}\" (plus space).", paramName);
        throw new ArgumentException(
            $"Character {Describe(token)}{where} is not in the vocabulary of {Size} characters. Build the vocabulary " +
            "from a text that contains it, or with Vocabulary.OfCharacters(text, unknown: '?') to map unseen " +
            "characters to a replacement.", paramName);
    }

    static string Describe(string token) =>
        token.Length != 1 ? $"'{token}'"
        : char.IsControl(token[0]) || char.IsSurrogate(token[0]) || char.IsWhiteSpace(token[0]) ? $"U+{(int)token[0]:X4}"
        : $"'{token}' (U+{(int)token[0]:X4})";

    /// <summary>
    /// The vocabulary as JSON: <c>kind</c> (<c>characters</c>, <c>words</c>, <c>sentences</c>, <c>ctc</c>) and the tokens in
    /// id order. Characters are stored as UTF-16 code units (exact for any text, where a JSON string cannot hold half a
    /// surrogate pair) with <c>text</c> repeating them readably; a CTC set leaves out its blank, which is always id 0.
    /// </summary>
    public string ToJson()
    {
        var root = new JsonObject { ["kind"] = Name(kind) };
        if (Level == TokenLevel.Word)
            root["tokens"] = new JsonArray([.. tokens.Select(t => JsonValue.Create(t))]);
        else
        {
            var chars = tokens.Skip(blankId is null ? 0 : 1).Select(t => t[0]).ToArray();
            root["codeUnits"] = new JsonArray([.. chars.Select(c => JsonValue.Create((int)c))]);
            if (UnknownId is { } u) root["unknown"] = (int)tokens[u][0];
            root["text"] = new string([.. chars.Select(c => char.IsSurrogate(c) ? '\uFFFD' : c)]);
        }
        return root.ToJsonString(Json.Options);
    }

    /// <summary>
    /// Reads what <see cref="ToJson"/> wrote, and the shapes of earlier builds: a JSON array of tokens (translation and
    /// captioning vocabularies), <c>{"words": …}</c>, <c>{"codeUnits": …}</c> and <c>{"level": …, "vocabulary": …}</c>
    /// (language models).
    /// </summary>
    /// <exception cref="InvalidDataException">The JSON is not a vocabulary.</exception>
    public static Vocabulary FromJson(string json)
    {
        JsonNode? root;
        try { root = JsonNode.Parse(json); }
        catch (JsonException e) { throw new InvalidDataException($"Not a vocabulary: {e.Message}", e); }
        try
        {
            return root switch
            {
                JsonArray array => new Vocabulary(Kind.Sentences, Strings(array), (int)Unk),
                JsonObject o when o["kind"] is { } k => FromObject(k.GetValue<string>(), o),
                JsonObject o when o["level"] is not null && o["vocabulary"] is { } inner => FromJson(inner.ToJsonString()),
                JsonObject o when o["words"] is JsonArray words => new Vocabulary(Kind.Words, Strings(words), 0),
                JsonObject o when o["codeUnits"] is not null => FromObject("characters", o),
                _ => throw new InvalidDataException("found neither a \"kind\" nor a token array."),
            };
        }
        catch (Exception e) when (e is InvalidOperationException or FormatException or InvalidDataException)
        {
            throw new InvalidDataException(
                $"Expected a vocabulary as written by Vocabulary.ToJson: {e.Message} Re-create it by training again.", e);
        }
    }

    static Vocabulary FromObject(string kind, JsonObject o)
    {
        if (kind is "words" or "sentences")
        {
            var tokens = o["tokens"] is JsonArray a ? Strings(a) : throw new InvalidDataException("a word vocabulary needs a \"tokens\" array.");
            return kind == "words" ? new Vocabulary(Kind.Words, tokens, 0) : new Vocabulary(Kind.Sentences, tokens, (int)Unk);
        }
        if (kind is not ("characters" or "ctc")) throw new InvalidDataException($"unknown kind \"{kind}\".");
        var codes = o["codeUnits"] is JsonArray c ? c.Select(n => n?.GetValue<int>() ?? -1).ToArray() : [];
        if (codes.Length == 0 || codes.Any(u => u is < 0 or > char.MaxValue))
            throw new InvalidDataException("\"codeUnits\" must be a non-empty array of UTF-16 code units (0…65535).");
        var chars = codes.Select(u => (char)u).ToArray();
        if (kind == "ctc")
            return new Vocabulary(Kind.Ctc, [BlankToken, .. chars.Select(ch => ch.ToString())], null);
        if (!chars.SequenceEqual(chars.Distinct().Order()))
            throw new InvalidDataException("\"codeUnits\" must be distinct and in ascending order, as ids are positions in it.");
        var unknown = o["unknown"]?.GetValue<int>();
        if (unknown is { } u && !codes.Contains(u))
            throw new InvalidDataException($"\"unknown\" (U+{u:X4}) is not one of the vocabulary's code units.");
        return Characters(chars, unknown is { } k ? (char)k : null);
    }

    static string[] Strings(JsonArray array) =>
        [.. array.Select(n => n?.GetValue<string>() ?? throw new InvalidDataException("a token is null."))];

    /// <summary>Writes <see cref="ToJson"/> to <paramref name="path"/> (atomically).</summary>
    public void Save(string path) => AtomicFile.WriteAllText(path, ToJson());

    /// <summary>Reads a vocabulary saved with <see cref="Save"/> (or by an earlier build; see <see cref="FromJson"/>).</summary>
    /// <exception cref="InvalidDataException">The file is not a vocabulary.</exception>
    public static Vocabulary Load(string path)
    {
        try
        {
            return FromJson(File.ReadAllText(path));
        }
        catch (InvalidDataException e)
        {
            throw new InvalidDataException($"{path}: {e.Message}", e);
        }
    }
}
