using System.Text;
using System.Text.RegularExpressions;

namespace RnnNotebooks.Metrics;

/// <summary>How <see cref="Bleu"/> splits a sentence into tokens before counting n-grams.</summary>
/// <remarks>Introduced in 04-machine-translation.</remarks>
public enum BleuTokenizer
{
    /// <summary>Split on whitespace only: for text that is already tokenised (multi-bleu.perl style).</summary>
    Whitespace,
    /// <summary>The mteval-v13a rules (sacrebleu's default): punctuation split off, except a period or comma
    /// inside a number, and a dash after a digit.</summary>
    Thirteen13a,
}

/// <summary>Settings for <see cref="Bleu"/>.</summary>
/// <param name="MaxOrder">Longest n-gram counted; BLEU is the geometric mean of precisions 1..MaxOrder.</param>
/// <param name="Tokenizer">How sentences are split into tokens.</param>
/// <param name="Lowercase">Compare case-insensitively.</param>
/// <remarks>Introduced in 04-machine-translation.</remarks>
public sealed record BleuOptions(int MaxOrder = 4, BleuTokenizer Tokenizer = BleuTokenizer.Thirteen13a, bool Lowercase = false);

/// <summary>A corpus BLEU score with the counts it came from. Scores are on a 0–100 scale.</summary>
/// <param name="Score">BLEU-<c>MaxOrder</c> (normally BLEU-4): brevity penalty × geometric mean of the precisions.</param>
/// <param name="Cumulative">BLEU-1, BLEU-2, … BLEU-<c>MaxOrder</c>: the same formula using precisions 1..n only.</param>
/// <param name="Precisions">Modified n-gram precision of each order, 0–100.</param>
/// <param name="BrevityPenalty">exp(1 − r/c) when the hypotheses are shorter than the references, else 1.</param>
/// <param name="HypothesisLength">Total hypothesis tokens c.</param>
/// <param name="ReferenceLength">Total effective reference tokens r (per sentence, the closest reference length).</param>
/// <param name="Matches">Clipped n-gram matches per order.</param>
/// <param name="Totals">Hypothesis n-grams per order.</param>
/// <param name="Sentences">Number of hypothesis sentences.</param>
/// <remarks>Introduced in 04-machine-translation.</remarks>
public sealed record BleuScore(
    double Score,
    IReadOnlyList<double> Cumulative,
    IReadOnlyList<double> Precisions,
    double BrevityPenalty,
    long HypothesisLength,
    long ReferenceLength,
    IReadOnlyList<long> Matches,
    IReadOnlyList<long> Totals,
    int Sentences)
{
    /// <summary>The summary the CLI prints: bleu, bleu_1..n, precisions, brevity_penalty, lengths, sentences.</summary>
    public IReadOnlyDictionary<string, object> ToSummary()
    {
        var summary = new Dictionary<string, object> { ["bleu"] = Math.Round(Score, 4) };
        for (var n = 0; n < Cumulative.Count; n++) summary[$"bleu_{n + 1}"] = Math.Round(Cumulative[n], 4);
        for (var n = 0; n < Precisions.Count; n++) summary[$"precision_{n + 1}"] = Math.Round(Precisions[n], 4);
        summary["brevity_penalty"] = Math.Round(BrevityPenalty, 6);
        summary["hypothesis_length"] = HypothesisLength;
        summary["reference_length"] = ReferenceLength;
        summary["sentences"] = Sentences;
        return summary;
    }

    /// <inheritdoc />
    public override string ToString() =>
        $"BLEU = {Score:0.00} {string.Join('/', Precisions.Select(p => p.ToString("0.0")))} " +
        $"(BP = {BrevityPenalty:0.000}, ratio = {(ReferenceLength == 0 ? 0 : (double)HypothesisLength / ReferenceLength):0.000}, " +
        $"hyp_len = {HypothesisLength}, ref_len = {ReferenceLength})";
}

/// <summary>
/// Corpus BLEU (Papineni et al., 2002): modified n-gram precisions summed over the whole corpus, their geometric
/// mean, times a brevity penalty.
/// </summary>
/// <remarks>
/// With several references per sentence, each hypothesis n-gram count is clipped to the largest count of that
/// n-gram in any one reference, and the reference length for the brevity penalty is the one closest to the
/// hypothesis length (the shorter on a tie), as sacrebleu and multi-bleu.perl do. No smoothing: if some order
/// has no match in the whole corpus, BLEU is 0.
/// Introduced in 04-machine-translation.
/// </remarks>
public static class Bleu
{
    /// <summary>Corpus BLEU of <paramref name="hypotheses"/>; <paramref name="references"/>[i] holds the
    /// reference translations of sentence i (one or more).</summary>
    /// <exception cref="ArgumentException">The counts differ, or a sentence has no reference.</exception>
    public static BleuScore Corpus(IReadOnlyList<string> hypotheses, IReadOnlyList<IReadOnlyList<string>> references,
        BleuOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(hypotheses);
        ArgumentNullException.ThrowIfNull(references);
        options ??= new BleuOptions();
        var hyps = hypotheses.Select(h => Tokenize(h, options)).ToList();
        var refs = references.Select(rs => (IReadOnlyList<IReadOnlyList<string>>)rs.Select(r => Tokenize(r, options)).ToList()).ToList();
        return CorpusTokens(hyps, refs, options.MaxOrder);
    }

    /// <summary>Corpus BLEU with one reference per sentence.</summary>
    public static BleuScore Corpus(IReadOnlyList<string> hypotheses, IReadOnlyList<string> references, BleuOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(references);
        return Corpus(hypotheses, references.Select(r => (IReadOnlyList<string>)[r]).ToList(), options);
    }

    /// <summary>Corpus BLEU with references given as parallel streams (one file per reference set, as in
    /// <c>--refs a.txt --refs b.txt</c>): <paramref name="referenceStreams"/>[k][i] is reference k of sentence i.
    /// An empty line in the second or a later stream means "no such reference" (sentences may have different
    /// numbers of references); the first stream is always used.</summary>
    /// <exception cref="ArgumentException">A stream's length differs from the hypotheses'.</exception>
    public static BleuScore FromStreams(IReadOnlyList<string> hypotheses, IReadOnlyList<IReadOnlyList<string>> referenceStreams,
        BleuOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(hypotheses);
        ArgumentNullException.ThrowIfNull(referenceStreams);
        if (referenceStreams.Count == 0) throw new ArgumentException("At least one reference stream is needed.", nameof(referenceStreams));
        for (var k = 0; k < referenceStreams.Count; k++)
            if (referenceStreams[k].Count != hypotheses.Count)
                throw new ArgumentException(
                    $"Reference set {k + 1} has {referenceStreams[k].Count} sentences but there are {hypotheses.Count} " +
                    "hypotheses; every reference set needs one line per hypothesis, in the same order.", nameof(referenceStreams));
        var perSentence = Enumerable.Range(0, hypotheses.Count)
            .Select(i => (IReadOnlyList<string>)referenceStreams.Select(s => s[i]).Where((r, k) => k == 0 || r.Length > 0).ToList())
            .ToList();
        return Corpus(hypotheses, perSentence, options);
    }

    /// <summary>BLEU of one sentence (no smoothing, so often 0 for short sentences; prefer corpus BLEU).</summary>
    public static BleuScore Sentence(string hypothesis, IReadOnlyList<string> references, BleuOptions? options = null) =>
        Corpus([hypothesis], [references], options);

    /// <summary>Corpus BLEU of already tokenised sentences.</summary>
    /// <exception cref="ArgumentException">The counts differ, or a sentence has no reference.</exception>
    public static BleuScore CorpusTokens(IReadOnlyList<IReadOnlyList<string>> hypotheses,
        IReadOnlyList<IReadOnlyList<IReadOnlyList<string>>> references, int maxOrder = 4)
    {
        ArgumentNullException.ThrowIfNull(hypotheses);
        ArgumentNullException.ThrowIfNull(references);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxOrder, 1);
        if (hypotheses.Count != references.Count)
            throw new ArgumentException(
                $"There are {hypotheses.Count} hypotheses but {references.Count} reference entries; give one entry " +
                "(a list of one or more references) per hypothesis.", nameof(references));

        var matches = new long[maxOrder];
        var totals = new long[maxOrder];
        long hypLength = 0, refLength = 0;
        for (var i = 0; i < hypotheses.Count; i++)
        {
            var hyp = hypotheses[i];
            var refs = references[i];
            if (refs.Count == 0)
                throw new ArgumentException($"Sentence {i + 1} has no reference translation.", nameof(references));
            hypLength += hyp.Count;
            refLength += ClosestLength(hyp.Count, refs);

            for (var n = 1; n <= maxOrder; n++)
            {
                var hypCounts = NGramCounts(hyp, n);
                if (hypCounts.Count == 0) continue;
                var maxRef = new Dictionary<string, int>(StringComparer.Ordinal);
                foreach (var r in refs)
                    foreach (var (gram, count) in NGramCounts(r, n))
                        if (!maxRef.TryGetValue(gram, out var m) || count > m) maxRef[gram] = count;
                foreach (var (gram, count) in hypCounts)
                {
                    totals[n - 1] += count;
                    if (maxRef.TryGetValue(gram, out var limit)) matches[n - 1] += Math.Min(count, limit);
                }
            }
        }

        var brevity = hypLength == 0 ? 0.0 : hypLength >= refLength ? 1.0 : Math.Exp(1.0 - (double)refLength / hypLength);
        var precisions = new double[maxOrder];
        var cumulative = new double[maxOrder];
        var logSum = 0.0;
        for (var n = 0; n < maxOrder; n++)
        {
            precisions[n] = totals[n] == 0 ? 0 : 100.0 * matches[n] / totals[n];
            logSum += matches[n] == 0 ? double.NegativeInfinity : Math.Log((double)matches[n] / totals[n]);
            cumulative[n] = brevity * Math.Exp(logSum / (n + 1)) * 100.0;
        }
        return new BleuScore(cumulative[^1], cumulative, precisions, brevity, hypLength, refLength, matches, totals,
            hypotheses.Count);
    }

    /// <summary>Splits <paramref name="text"/> into tokens as <paramref name="options"/> says.</summary>
    public static IReadOnlyList<string> Tokenize(string text, BleuOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(text);
        options ??= new BleuOptions();
        if (options.Lowercase) text = text.ToLowerInvariant();
        if (options.Tokenizer == BleuTokenizer.Thirteen13a) text = Tokenize13a(text);
        return text.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
    }

    static readonly Regex Punctuation = new(@"([\{-\~\[-\` -\&\(-\+\:-\@\/])", RegexOptions.Compiled);
    static readonly Regex PeriodCommaBeforeNonDigit = new(@"([^0-9])([\.,])", RegexOptions.Compiled);
    static readonly Regex PeriodCommaAfterNonDigit = new(@"([\.,])([^0-9])", RegexOptions.Compiled);
    static readonly Regex DashAfterDigit = new(@"([0-9])(-)", RegexOptions.Compiled);

    /// <summary>The mteval-v13a tokenisation: un-escape the four XML entities, then split off punctuation.</summary>
    static string Tokenize13a(string line)
    {
        var s = new StringBuilder(line)
            .Replace("<skipped>", "").Replace("-\n", "").Replace("\n", " ")
            .Replace("&quot;", "\"").Replace("&amp;", "&").Replace("&lt;", "<").Replace("&gt;", ">")
            .ToString();
        s = " " + s + " ";
        s = Punctuation.Replace(s, " $1 ");
        s = PeriodCommaBeforeNonDigit.Replace(s, "$1 $2 ");
        s = PeriodCommaAfterNonDigit.Replace(s, " $1 $2");
        s = DashAfterDigit.Replace(s, "$1 $2 ");
        return s;
    }

    static int ClosestLength(int hypLength, IReadOnlyList<IReadOnlyList<string>> refs)
    {
        var best = refs[0].Count;
        foreach (var r in refs)
        {
            var d = Math.Abs(r.Count - hypLength);
            var bestD = Math.Abs(best - hypLength);
            if (d < bestD || (d == bestD && r.Count < best)) best = r.Count;
        }
        return best;
    }

    static Dictionary<string, int> NGramCounts(IReadOnlyList<string> tokens, int n)
    {
        var counts = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i + n <= tokens.Count; i++)
        {
            // A separator no tokeniser leaves inside a token keeps n-grams distinct.
            var gram = n == 1 ? tokens[i] : string.Join('\u0001', Enumerable.Range(i, n).Select(k => tokens[k]));
            counts[gram] = counts.GetValueOrDefault(gram) + 1;
        }
        return counts;
    }
}
