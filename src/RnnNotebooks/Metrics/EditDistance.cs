using System.Text;

namespace RnnNotebooks.Metrics;

/// <summary>What one column of an alignment does.</summary>
public enum EditKind
{
    /// <summary>Reference and hypothesis agree.</summary>
    Match,
    /// <summary>A reference token was recognised as another.</summary>
    Substitution,
    /// <summary>The hypothesis has a token the reference lacks.</summary>
    Insertion,
    /// <summary>A reference token is missing from the hypothesis.</summary>
    Deletion,
}

/// <summary>One column of an alignment; the missing side of an insertion or deletion is null.</summary>
public sealed record EditStep(EditKind Kind, string? Reference, string? Hypothesis);

/// <summary>Error counts of one or many utterances. Add them up for a corpus: the corpus rate is total errors over
/// total reference length, not the mean of per-utterance rates.</summary>
/// <param name="Substitutions">Reference tokens recognised as another token.</param>
/// <param name="Insertions">Extra hypothesis tokens.</param>
/// <param name="Deletions">Reference tokens missing from the hypothesis.</param>
/// <param name="ReferenceLength">N, the number of reference tokens.</param>
/// <remarks>
/// <see cref="Rate"/> = (S + I + D) / N. With an empty reference (N = 0) the ratio is undefined; this library
/// uses <c>(S + I + D) / max(N, 1)</c>: 0 when the hypothesis is empty too, otherwise the number of inserted
/// tokens (so one stray token = 1.0 = 100 %). It stays finite, so means and JSON keep working, and it is 0
/// exactly when the hypothesis is perfect. Summed over a corpus with any non-empty reference, the convention
/// no longer matters.
/// Introduced in 05-speech-recognition.
/// </remarks>
public sealed record ErrorCounts(int Substitutions, int Insertions, int Deletions, int ReferenceLength)
{
    /// <summary>No utterances.</summary>
    public static ErrorCounts Zero { get; } = new(0, 0, 0, 0);

    /// <summary>S + I + D, the Levenshtein distance.</summary>
    public int Errors => Substitutions + Insertions + Deletions;

    /// <summary>Errors / max(N, 1); see the remarks for N = 0.</summary>
    public double Rate => (double)Errors / Math.Max(ReferenceLength, 1);

    /// <summary>Counts of two sets of utterances together.</summary>
    public static ErrorCounts operator +(ErrorCounts a, ErrorCounts b) =>
        new(a.Substitutions + b.Substitutions, a.Insertions + b.Insertions, a.Deletions + b.Deletions,
            a.ReferenceLength + b.ReferenceLength);
}

/// <summary>The minimal alignment of a hypothesis to a reference, with its error counts.</summary>
public sealed record EditAlignment(ErrorCounts Counts, IReadOnlyList<EditStep> Steps)
{
    /// <summary>Three aligned lines (REF, HYP, and S/I/D marks), gaps shown as <c>*</c>, for display.</summary>
    public string ToDisplay(string separator = " ")
    {
        StringBuilder r = new("REF: "), h = new("HYP: "), m = new("     ");
        for (var i = 0; i < Steps.Count; i++)
        {
            var s = Steps[i];
            var rt = s.Reference ?? new string('*', s.Hypothesis!.Length);
            var ht = s.Hypothesis ?? new string('*', s.Reference!.Length);
            var width = Math.Max(rt.Length, ht.Length);
            var mark = s.Kind switch { EditKind.Substitution => "S", EditKind.Insertion => "I", EditKind.Deletion => "D", _ => "" };
            var sep = i > 0 ? separator : "";
            r.Append(sep).Append(rt.PadRight(width));
            h.Append(sep).Append(ht.PadRight(width));
            m.Append(sep).Append(mark.PadRight(width));
        }
        return $"{r.ToString().TrimEnd()}\n{h.ToString().TrimEnd()}\n{m.ToString().TrimEnd()}";
    }
}

/// <summary>Levenshtein distance with substitution, insertion and deletion counts: character and word error rates.</summary>
/// <remarks>
/// Every edit costs 1. Among alignments of minimal cost, the backtrace prefers match/substitution, then
/// deletion, then insertion, so results are deterministic.
/// Introduced in 05-speech-recognition.
/// </remarks>
public static class EditDistance
{
    /// <summary>Aligns two token sequences.</summary>
    public static EditAlignment Align(IReadOnlyList<string> reference, IReadOnlyList<string> hypothesis)
    {
        ArgumentNullException.ThrowIfNull(reference);
        ArgumentNullException.ThrowIfNull(hypothesis);
        int n = reference.Count, m = hypothesis.Count;
        var d = new int[n + 1, m + 1];
        for (var i = 0; i <= n; i++) d[i, 0] = i;
        for (var j = 0; j <= m; j++) d[0, j] = j;
        for (var i = 1; i <= n; i++)
            for (var j = 1; j <= m; j++)
            {
                var diagonal = d[i - 1, j - 1] + (reference[i - 1] == hypothesis[j - 1] ? 0 : 1);
                d[i, j] = Math.Min(diagonal, Math.Min(d[i - 1, j] + 1, d[i, j - 1] + 1));
            }

        var steps = new List<EditStep>();
        int s = 0, ins = 0, del = 0;
        for (int i = n, j = m; i > 0 || j > 0;)
        {
            if (i > 0 && j > 0 && d[i, j] == d[i - 1, j - 1] + (reference[i - 1] == hypothesis[j - 1] ? 0 : 1))
            {
                var same = reference[i - 1] == hypothesis[j - 1];
                if (!same) s++;
                steps.Add(new EditStep(same ? EditKind.Match : EditKind.Substitution, reference[i - 1], hypothesis[j - 1]));
                i--; j--;
            }
            else if (i > 0 && d[i, j] == d[i - 1, j] + 1)
            {
                del++;
                steps.Add(new EditStep(EditKind.Deletion, reference[i - 1], null));
                i--;
            }
            else
            {
                ins++;
                steps.Add(new EditStep(EditKind.Insertion, null, hypothesis[j - 1]));
                j--;
            }
        }
        steps.Reverse();
        return new EditAlignment(new ErrorCounts(s, ins, del, n), steps);
    }

    /// <summary>Character alignment (spaces count as characters).</summary>
    public static EditAlignment AlignCharacters(string reference, string hypothesis) =>
        Align(Characters(reference), Characters(hypothesis));

    /// <summary>Word alignment (words split on whitespace).</summary>
    public static EditAlignment AlignWords(string reference, string hypothesis) =>
        Align(Words(reference), Words(hypothesis));

    /// <summary>Character error counts; <c>.Rate</c> is the CER.</summary>
    public static ErrorCounts Cer(string reference, string hypothesis) => AlignCharacters(reference, hypothesis).Counts;

    /// <summary>Word error counts; <c>.Rate</c> is the WER.</summary>
    public static ErrorCounts Wer(string reference, string hypothesis) => AlignWords(reference, hypothesis).Counts;

    static string[] Characters(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return [.. text.Select(c => c.ToString())];
    }

    static string[] Words(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return text.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
    }
}
