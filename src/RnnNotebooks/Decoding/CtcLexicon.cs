using RnnNotebooks.Text;

namespace RnnNotebooks.Decoding;

/// <summary>
/// A CTC search constraint that only spells words of a lexicon separated by single spaces: a prefix tree over
/// the words' labels, where the space label is allowed only at the end of a word and leads back to the root.
/// </summary>
/// <remarks>
/// States are tree nodes; node 0, the root, means "at the start of a word". A prefix is complete at the end of
/// a word, or when empty. (A trailing space leaves the search at the root too; strip it from the text.)
/// Use with <see cref="CtcDecoder.BeamSearch(float[,], int, int, ICtcConstraint?, double)"/>.
/// Introduced in 05-speech-recognition.
/// </remarks>
public sealed class CtcLexicon : ICtcConstraint
{
    readonly List<Dictionary<int, int>> children = [[]];
    readonly List<bool> wordEnds = [false];
    readonly List<string> words = [];
    readonly int spaceLabel;

    /// <summary>A lexicon that spells <paramref name="words"/> with the labels of a CTC vocabulary
    /// (<see cref="Vocabulary.ForCtc"/>), words separated by its space.</summary>
    public static CtcLexicon For(Vocabulary characters, IEnumerable<string> words)
    {
        ArgumentNullException.ThrowIfNull(characters);
        return new(words, characters.IdOf, characters.IdOf(' '));
    }

    /// <param name="words">The allowed words.</param>
    /// <param name="labelOf">The label of each character of a word.</param>
    /// <param name="spaceLabel">The label that separates words.</param>
    public CtcLexicon(IEnumerable<string> words, Func<char, int> labelOf, int spaceLabel)
    {
        ArgumentNullException.ThrowIfNull(words);
        ArgumentNullException.ThrowIfNull(labelOf);
        this.spaceLabel = spaceLabel;
        foreach (var word in words)
        {
            if (string.IsNullOrEmpty(word)) throw new ArgumentException("A lexicon word cannot be empty.", nameof(words));
            var node = 0;
            foreach (var ch in word)
            {
                var label = labelOf(ch);
                if (label == spaceLabel) throw new ArgumentException($"The word '{word}' contains the word separator.", nameof(words));
                if (!children[node].TryGetValue(label, out var child))
                {
                    child = children.Count;
                    children[node][label] = child;
                    children.Add([]);
                    wordEnds.Add(false);
                }
                node = child;
            }
            wordEnds[node] = true;
            this.words.Add(word);
        }
        if (this.words.Count == 0) throw new ArgumentException("The lexicon has no words.", nameof(words));
    }

    /// <summary>The words, in the order given.</summary>
    public IReadOnlyList<string> Words => words;

    /// <inheritdoc/>
    public int Start => 0;

    /// <inheritdoc/>
    public int? Advance(int state, int label)
    {
        if (label == spaceLabel) return wordEnds[state] ? 0 : null;
        return children[state].TryGetValue(label, out var next) ? next : null;
    }

    /// <inheritdoc/>
    public bool IsFinal(int state) => state == 0 || wordEnds[state];
}
