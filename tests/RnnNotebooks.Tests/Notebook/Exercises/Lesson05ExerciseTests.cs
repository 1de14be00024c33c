using RnnNotebooks.Decoding;
using RnnNotebooks.Notebook.Exercises;

namespace RnnNotebooks.Tests.Notebook.Exercises;

public sealed class Lesson05ExerciseTests
{
    // The solution cells of tools/notebook-sources/05-speech-recognition.txt, which the instructor edition runs.
    static double[,] MyAlpha(double[,] p, int[] labels)
    {
        var ext = Enumerable.Range(0, 2 * labels.Length + 1).Select(s => s % 2 == 0 ? 0 : labels[s / 2]).ToArray();
        int frames = p.GetLength(0), states = ext.Length;
        var a = new double[frames, states];
        a[0, 0] = p[0, 0];
        a[0, 1] = p[0, ext[1]];
        for (var t = 1; t < frames; t++)
            for (var s = 0; s < states; s++)
            {
                var sum = a[t - 1, s] + (s >= 1 ? a[t - 1, s - 1] : 0);
                if (s >= 2 && ext[s] != 0 && ext[s] != ext[s - 2]) sum += a[t - 1, s - 2];
                a[t, s] = sum * p[t, ext[s]];
            }
        return a;
    }

    static string MySpell(string path, char blank)
    {
        var text = new System.Text.StringBuilder();
        for (var i = 0; i < path.Length; i++)
            if ((i == 0 || path[i] != path[i - 1]) && path[i] != blank) text.Append(path[i]);
        return text.ToString();
    }

    [Fact]
    public void ReferenceAlpha_LastTwoEntries_SumToTheCtcProbability()
    {
        var random = new Random(3);
        var p = new double[5, 3];
        var f = new float[5, 3];
        for (var t = 0; t < 5; t++)
        {
            var row = new[] { random.NextDouble() + 0.1, random.NextDouble() + 0.1, random.NextDouble() + 0.1 };
            for (var c = 0; c < 3; c++) { p[t, c] = row[c] / row.Sum(); f[t, c] = (float)Math.Log(p[t, c]); }
        }
        foreach (var labels in new[] { new[] { 1, 2 }, new[] { 1, 1 } })
        {
            var alpha = Lesson05.ReferenceAlpha(p, labels);
            var total = alpha[4, alpha.GetLength(1) - 1] + alpha[4, alpha.GetLength(1) - 2];
            Assert.Equal(CtcDecoder.LogProbability(f, labels), Math.Log(total), 4);
        }
    }

    [Fact]
    public void Alpha_Solution_IsRight() => Assert.Null(Lesson05.AlphaProblem(MyAlpha));

    [Fact]
    public void Alpha_WithoutTheRepeatedLetterRule_IsWrong()
    {
        double[,] skipAlways(double[,] p, int[] labels)
        {
            var ext = Enumerable.Range(0, 2 * labels.Length + 1).Select(s => s % 2 == 0 ? 0 : labels[s / 2]).ToArray();
            var a = new double[p.GetLength(0), ext.Length];
            a[0, 0] = p[0, 0];
            a[0, 1] = p[0, ext[1]];
            for (var t = 1; t < p.GetLength(0); t++)
                for (var s = 0; s < ext.Length; s++)
                    a[t, s] = (a[t - 1, s] + (s >= 1 ? a[t - 1, s - 1] : 0) + (s >= 2 && ext[s] != 0 ? a[t - 1, s - 2] : 0)) * p[t, ext[s]];
            return a;
        }
        Assert.Contains("\"aa\"", Lesson05.AlphaProblem(skipAlways));
    }

    [Fact]
    public void Alpha_FromTheLibraryTotalOnly_IsWrong()
    {
        // The shortcut: the library gives ln P(labels), not the table; put it where the total belongs.
        double[,] shortcut(double[,] p, int[] labels)
        {
            var f = new float[p.GetLength(0), p.GetLength(1)];
            for (var t = 0; t < p.GetLength(0); t++)
                for (var c = 0; c < p.GetLength(1); c++) f[t, c] = (float)Math.Log(p[t, c]);
            var a = new double[p.GetLength(0), 2 * labels.Length + 1];
            a[p.GetLength(0) - 1, 2 * labels.Length] = Math.Exp(CtcDecoder.LogProbability(f, labels));
            return a;
        }
        Assert.NotNull(Lesson05.AlphaProblem(shortcut));
    }

    [Fact]
    public void Alpha_WrongShape_SaysSo() =>
        Assert.Contains("frames × extended labels", Lesson05.AlphaProblem((p, l) => new double[p.GetLength(0), l.Length]));

    [Fact]
    public void CheckAlpha_UnansweredStub_IsNotAnsweredYet() =>
        Assert.Null(Lesson05.CheckAlpha((_, _) => throw new NotImplementedException()).Correct);

    [Fact]
    public void Spell_Solution_IsRight() => Assert.Null(Lesson05.SpellProblem(MySpell));

    [Fact]
    public void Spell_RemovingBlanksBeforeMerging_IsWrong()
    {
        string blanksFirst(string path, char blank)
        {
            var noBlanks = path.Replace(blank.ToString(), "");
            return new string(noBlanks.Where((c, i) => i == 0 || c != noBlanks[i - 1]).ToArray());
        }
        Assert.Contains("tt_hh_rr_ee_e", Lesson05.SpellProblem(blanksFirst));
    }

    [Fact]
    public void Spell_IgnoringTheBlankArgument_IsWrong()
    {
        // The shortcut: the lesson's Collapse, which always treats '_' as the blank.
        static string collapse(string path, char _) =>
            new(path.Where((c, i) => i == 0 || c != path[i - 1]).Where(c => c != '_').ToArray());
        Assert.Contains("with blank '-'", Lesson05.SpellProblem(collapse));
    }

    [Fact]
    public void CheckSpell_RightAnswer_IsRight() => Assert.True(Lesson05.CheckSpell(MySpell).Correct);
}
