using RnnNotebooks.Decoding;

namespace RnnNotebooks.Speech;

/// <summary>The output classes of a CTC speech model: label 0 is the blank, then the space, then letters.</summary>
/// <remarks>Introduced in 05-speech-recognition.</remarks>
public sealed class CharacterSet
{
    /// <summary>The blank label.</summary>
    public const int Blank = 0;
    /// <summary>The space (word boundary) label.</summary>
    public const int Space = 1;

    readonly Dictionary<char, int> labels = [];

    /// <summary>Blank, space, then <paramref name="letters"/> in the order given (duplicates and spaces rejected).</summary>
    public CharacterSet(string letters)
    {
        ArgumentNullException.ThrowIfNull(letters);
        for (var i = 0; i < letters.Length; i++)
        {
            var c = letters[i];
            if (c == ' ' || !labels.TryAdd(c, i + 2))
                throw new ArgumentException($"The letters must be distinct and not contain a space; '{c}' at {i} is not.", nameof(letters));
        }
        Letters = letters;
    }

    /// <summary>The letters of the ten digit words, alphabetically: "efghinorstuvwxz".</summary>
    public static CharacterSet DigitWords { get; } =
        new(new string([.. Audio.SpokenDigits.Words.SelectMany(w => w).Distinct().Order()]));

    /// <summary>The letters, label 2 onwards.</summary>
    public string Letters { get; }

    /// <summary>Classes including blank and space.</summary>
    public int Count => Letters.Length + 2;

    /// <summary>The label of a character (a letter or the space).</summary>
    public int LabelOf(char c) =>
        c == ' ' ? Space
        : labels.TryGetValue(c, out var label) ? label
        : throw new ArgumentException($"'{c}' is not in the character set \"{Letters}\" (plus space).", nameof(c));

    /// <summary>The labels of a transcript.</summary>
    public int[] Encode(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return [.. text.Select(LabelOf)];
    }

    /// <summary>The text of labels without blanks; the blank label is skipped.</summary>
    public string Decode(IEnumerable<int> labelSequence) =>
        new([.. labelSequence.Where(l => l != Blank).Select(l => l == Space ? ' ' : Letters[l - 2])]);

    /// <summary>A lexicon constraint that only spells <paramref name="words"/> (default: the ten digit words).</summary>
    public CtcLexicon Lexicon(IEnumerable<string>? words = null) =>
        new(words ?? Audio.SpokenDigits.Words, LabelOf, Space);
}
