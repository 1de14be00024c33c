using RnnNotebooks.Decoding;

namespace RnnNotebooks.Notebook.Exercises;

/// <summary>Judges the write-the-code exercises of lesson 05: the CTC α table and the CTC collapse of a path.</summary>
/// <remarks>Introduced in 05-speech-recognition.</remarks>
public static class Lesson05
{
    /// <summary>
    /// Exercise 1 in a cell: runs <paramref name="myAlpha"/> (per-frame probabilities <c>[T, C]</c>, labels without
    /// blanks, blank = 0 → α table <c>[T, 2·labels + 1]</c> in probabilities) and shows the verdict.
    /// </summary>
    public static ExerciseResult CheckAlpha(Func<double[,], int[], double[,]> myAlpha) =>
        Exercise.CheckCode("Exercise 1", () => AlphaProblem(myAlpha), problem => problem,
            "start with α₀(0) = p₀(_) and α₀(1) = p₀(l₁); each entry adds the same state, the one before, and the one two " +
            "before only when it is not a blank and not the same letter; then multiply by this frame's probability.");

    /// <summary>
    /// What is wrong with <paramref name="myAlpha"/>, or null when it is right. It is compared entry by entry with
    /// <see cref="ReferenceAlpha"/> on fresh random inputs, for a target without and with a repeated letter, so a
    /// table that ignores the repeated-letter rule fails, and so does anything that only gives the total
    /// (<c>ctc_loss</c>, <see cref="CtcDecoder.LogProbability(float[,], IReadOnlyList{int}, int)"/>).
    /// </summary>
    public static string? AlphaProblem(Func<double[,], int[], double[,]> myAlpha)
    {
        ArgumentNullException.ThrowIfNull(myAlpha);
        var random = new Random(505);
        foreach (var labels in new[] { new[] { 1, 2 }, new[] { 1, 1 }, new[] { 2, 1, 2 } })
        {
            var probs = RandomProbabilities(random, frames: 6, classes: 3);
            var expected = ReferenceAlpha(probs, labels);
            var got = myAlpha((double[,])probs.Clone(), (int[])labels.Clone());
            var name = string.Concat(labels.Select(l => "_ab"[l]));
            if (got is null) return "your function returned null.";
            if (got.GetLength(0) != expected.GetLength(0) || got.GetLength(1) != expected.GetLength(1))
                return $"for the target \"{name}\" the table is [{got.GetLength(0)}, {got.GetLength(1)}], expected " +
                       $"[{expected.GetLength(0)}, {expected.GetLength(1)}] (frames × extended labels).";
            for (var t = 0; t < expected.GetLength(0); t++)
                for (var s = 0; s < expected.GetLength(1); s++)
                    if (Math.Abs(got[t, s] - expected[t, s]) > 1e-9 * Math.Max(1, Math.Abs(expected[t, s])) + 1e-12)
                        return $"for the target \"{name}\", α at frame {t}, state {s} is {got[t, s]:G4}, expected {expected[t, s]:G4}.";
        }
        return null;
    }

    /// <summary>The CTC forward table in probabilities: α[t, s] sums every path prefix of frames 0..t that ends in
    /// state s of the extended sequence (blank, l₁, blank, l₂, …, blank). Blank is label 0.</summary>
    public static double[,] ReferenceAlpha(double[,] probs, IReadOnlyList<int> labels)
    {
        ArgumentNullException.ThrowIfNull(probs);
        ArgumentNullException.ThrowIfNull(labels);
        var ext = Enumerable.Range(0, 2 * labels.Count + 1).Select(s => s % 2 == 0 ? 0 : labels[s / 2]).ToArray();
        int frames = probs.GetLength(0), states = ext.Length;
        var alpha = new double[frames, states];
        if (frames == 0) return alpha;
        alpha[0, 0] = probs[0, 0];
        if (states > 1) alpha[0, 1] = probs[0, ext[1]];
        for (var t = 1; t < frames; t++)
            for (var s = 0; s < states; s++)
            {
                var sum = alpha[t - 1, s] + (s >= 1 ? alpha[t - 1, s - 1] : 0);
                if (s >= 2 && ext[s] != 0 && ext[s] != ext[s - 2]) sum += alpha[t - 1, s - 2];
                alpha[t, s] = sum * probs[t, ext[s]];
            }
        return alpha;
    }

    /// <summary>
    /// Exercise 2 in a cell: runs <paramref name="mySpell"/> (a path of characters and the character that stands for
    /// the blank → the text the path spells) and shows the verdict.
    /// </summary>
    public static ExerciseResult CheckSpell(Func<string, char, string> mySpell) =>
        Exercise.CheckCode("Exercise 2", () => SpellProblem(mySpell), problem => problem,
            "first merge runs of the same character (blanks included), then delete the blank character you were given.");

    /// <summary>
    /// What is wrong with <paramref name="mySpell"/>, or null when it is right. The cases include a doubled letter
    /// split by a blank (removing blanks before merging fails), a blank other than '_' with '_' as an ordinary
    /// symbol (a function that ignores its blank argument, like the lesson's <c>Collapse</c>, fails), and the empty path.
    /// </summary>
    public static string? SpellProblem(Func<string, char, string> mySpell)
    {
        ArgumentNullException.ThrowIfNull(mySpell);
        var cases = new (string Path, char Blank)[]
        {
            ("tt_hh_rr_ee_e", '_'), ("thr_eee_e", '_'), ("__", '_'), ("", '_'), ("s_ii__xx", '_'),
            ("a__-_b", '-'), ("--oo-n-ee", '-'), ("zz0zz", '0'),
        };
        foreach (var (path, blank) in cases)
        {
            var expected = ReferenceSpell(path, blank);
            var got = mySpell(path, blank);
            if (got != expected)
                return $"the path \"{path}\" with blank '{blank}' spells \"{expected}\", your function gave \"{got}\".";
        }
        return null;
    }

    /// <summary>CTC's reading of a path: merge repeated characters, then remove <paramref name="blank"/>.</summary>
    public static string ReferenceSpell(string path, char blank)
    {
        ArgumentNullException.ThrowIfNull(path);
        return new string(path.Where((c, i) => (i == 0 || c != path[i - 1]) && c != blank).ToArray());
    }

    static double[,] RandomProbabilities(Random random, int frames, int classes)
    {
        var p = new double[frames, classes];
        for (var t = 0; t < frames; t++)
        {
            var row = Enumerable.Range(0, classes).Select(_ => 0.05 + random.NextDouble()).ToArray();
            var sum = row.Sum();
            for (var c = 0; c < classes; c++) p[t, c] = row[c] / sum;
        }
        return p;
    }
}
