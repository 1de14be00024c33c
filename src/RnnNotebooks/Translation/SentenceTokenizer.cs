using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace RnnNotebooks.Translation;

/// <summary>
/// Word-level tokenisation for sentence pairs: Unicode-normalise, lowercase, and split punctuation from words.
/// </summary>
/// <remarks>
/// A word keeps its inner apostrophes and hyphens (<c>don't</c>, <c>qu'il</c>, <c>peut-être</c>); every other
/// punctuation mark is a token of its own. Accents are kept, so French stays French.
/// Introduced in 04-machine-translation.
/// </remarks>
public static partial class SentenceTokenizer
{
    [GeneratedRegex(@"[\p{L}\p{N}\p{M}]+(?:['\-][\p{L}\p{N}\p{M}]+)*|[^\s\p{L}\p{N}\p{M}]")]
    private static partial Regex TokenPattern();

    /// <summary>NFC form, lowercase, typographic apostrophes and non-breaking spaces made plain.</summary>
    public static string Normalize(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var s = text.Normalize(NormalizationForm.FormC).ToLower(CultureInfo.InvariantCulture);
        return s.Replace('\u2019', '\'').Replace('\u2018', '\'').Replace('\u00a0', ' ').Replace('\u202f', ' ')
            .Replace('\u2009', ' ').Trim();
    }

    /// <summary>Normalises <paramref name="text"/> and splits it into words and punctuation marks.</summary>
    public static IReadOnlyList<string> Tokenize(string text) =>
        [.. TokenPattern().Matches(Normalize(text)).Select(m => m.Value)];

    /// <summary>Splits already tokenised text (e.g. Moses output) on whitespace, undoing Moses' XML escapes.</summary>
    public static IReadOnlyList<string> SplitPretokenized(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return text.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries)
            .Select(t => t.Contains('&')
                ? t.Replace("&apos;", "'").Replace("&quot;", "\"").Replace("&lt;", "<").Replace("&gt;", ">")
                    .Replace("&#91;", "[").Replace("&#93;", "]").Replace("&#124;", "|").Replace("&amp;", "&")
                : t)
            .ToList();
    }

    /// <summary>Joins tokens into readable text: no space before closing punctuation or after an opening one.</summary>
    public static string Detokenize(IEnumerable<string> tokens)
    {
        ArgumentNullException.ThrowIfNull(tokens);
        var sb = new StringBuilder();
        var glueNext = true;
        foreach (var token in tokens)
        {
            var closing = token is "." or "," or "!" or "?" or ";" or ":" or ")" or "]" or "%" or "'s";
            if (!glueNext && !closing) sb.Append(' ');
            sb.Append(token);
            glueNext = token is "(" or "[";
        }
        return sb.ToString();
    }
}
