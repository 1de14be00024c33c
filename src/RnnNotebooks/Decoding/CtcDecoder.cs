using static TorchSharp.torch;

namespace RnnNotebooks.Decoding;

/// <summary>A decoded label sequence (blanks removed, repeats collapsed) and its log probability.</summary>
/// <param name="Labels">Output labels, no blanks.</param>
/// <param name="LogProbability">ln P(labels | input) summed over the alignments the search kept (exact for
/// an unpruned search); for greedy decoding, the log probability of the single best path.</param>
/// <remarks>Introduced in 05-speech-recognition.</remarks>
public sealed record CtcHypothesis(IReadOnlyList<int> Labels, double LogProbability);

/// <summary>Restricts which label sequences a CTC search may produce (e.g. only words of a lexicon).</summary>
/// <remarks>States are small integers the search carries along each prefix. Introduced in 05-speech-recognition.</remarks>
public interface ICtcConstraint
{
    /// <summary>The state of the empty prefix.</summary>
    int Start { get; }

    /// <summary>The state after appending <paramref name="label"/> in <paramref name="state"/>, or null if not allowed.</summary>
    int? Advance(int state, int label);

    /// <summary>Whether a prefix ending in <paramref name="state"/> is a complete output.</summary>
    bool IsFinal(int state);
}

/// <summary>Turns per-frame label log probabilities <c>[T, C]</c> into label sequences.</summary>
/// <remarks>
/// CTC's rule: a frame path of labels and blanks spells a sequence by collapsing repeats, then removing blanks,
/// so a doubled letter ("three") needs a blank between its two e's. P(sequence) sums over every path that
/// spells it.
/// <list type="bullet">
/// <item><see cref="Greedy(float[,], int)"/> (best path): argmax per frame, collapse, remove blanks. Fast; finds
/// the most likely path, not always the most likely sequence.</item>
/// <item><see cref="BeamSearch(float[,], int, int, ICtcConstraint?, double)"/> (prefix beam search): keeps the <c>beamWidth</c> most probable prefixes,
/// each with two log probabilities — of paths ending in blank and ending in its last label — so paths that
/// spell the same prefix are summed. With a wide enough beam it finds the most probable sequence exactly.</item>
/// </list>
/// Introduced in 05-speech-recognition.
/// </remarks>
public static class CtcDecoder
{
    /// <summary>Best-path decoding: the argmax label of each frame, repeats collapsed, blanks removed.</summary>
    public static CtcHypothesis Greedy(float[,] logProbs, int blank = 0)
    {
        ArgumentNullException.ThrowIfNull(logProbs);
        int frames = logProbs.GetLength(0), classes = logProbs.GetLength(1);
        CheckBlank(blank, classes);
        var labels = new List<int>();
        double logP = 0;
        var previous = -1;
        for (var t = 0; t < frames; t++)
        {
            var best = 0;
            for (var c = 1; c < classes; c++)
                if (logProbs[t, c] > logProbs[t, best]) best = c;
            logP += logProbs[t, best];
            if (best != blank && best != previous) labels.Add(best);
            previous = best;
        }
        return new CtcHypothesis(labels, logP);
    }

    /// <summary>Best-path decoding of a <c>[T, C]</c> log-probability tensor.</summary>
    public static CtcHypothesis Greedy(Tensor logProbs, int blank = 0) => Greedy(ToMatrix(logProbs), blank);

    /// <summary>
    /// Prefix beam search in log space. Returns the surviving hypotheses, most probable first (only complete
    /// ones when a <paramref name="constraint"/> is given; all of them if none is complete).
    /// </summary>
    /// <param name="logProbs">Per-frame log probabilities <c>[T, C]</c> (log_softmax output).</param>
    /// <param name="beamWidth">Prefixes kept after each frame.</param>
    /// <param name="blank">The blank label.</param>
    /// <param name="constraint">Optional: which prefixes may be extended with which labels.</param>
    /// <param name="labelPruning">Labels whose log probability at a frame is below this are not tried as
    /// extensions at that frame (speed); <c>double.NegativeInfinity</c> tries all.</param>
    public static IReadOnlyList<CtcHypothesis> BeamSearch(float[,] logProbs, int beamWidth = 16, int blank = 0,
        ICtcConstraint? constraint = null, double labelPruning = double.NegativeInfinity)
    {
        ArgumentNullException.ThrowIfNull(logProbs);
        ArgumentOutOfRangeException.ThrowIfLessThan(beamWidth, 1);
        int frames = logProbs.GetLength(0), classes = logProbs.GetLength(1);
        CheckBlank(blank, classes);

        // A prefix is a string of (char)label, so it hashes and compares by value.
        var beams = new Dictionary<string, Beam> { [""] = new Beam(0, double.NegativeInfinity, constraint?.Start ?? 0) };
        for (var t = 0; t < frames; t++)
        {
            var next = new Dictionary<string, Beam>(beams.Count * 4);
            var pBlank = logProbs[t, blank];
            foreach (var (prefix, beam) in beams)
            {
                var total = beam.Total;
                // Blank: the prefix is unchanged and now ends in blank.
                Get(next, prefix, beam.State).Blank.Add(total + pBlank);
                if (prefix.Length > 0)
                {
                    // The last label again, with no blank in between: collapses into the same prefix.
                    int last = prefix[^1];
                    Get(next, prefix, beam.State).NonBlank.Add(beam.NonBlank.Value + logProbs[t, last]);
                }
                for (var c = 0; c < classes; c++)
                {
                    if (c == blank) continue;
                    double pc = logProbs[t, c];
                    if (pc < labelPruning) continue;
                    var state = beam.State;
                    if (constraint is not null)
                    {
                        if (constraint.Advance(state, c) is not { } s) continue;
                        state = s;
                    }
                    var extended = prefix + (char)c;
                    // Repeating the last label starts a new label only after a blank.
                    var from = prefix.Length > 0 && prefix[^1] == c ? beam.Blank.Value : total;
                    Get(next, extended, state).NonBlank.Add(from + pc);
                }
            }
            beams = next.Count <= beamWidth
                ? next
                : next.OrderByDescending(kv => kv.Value.Total).ThenBy(kv => kv.Key, StringComparer.Ordinal)
                    .Take(beamWidth).ToDictionary(kv => kv.Key, kv => kv.Value);
        }

        var ranked = beams.OrderByDescending(kv => kv.Value.Total).ThenBy(kv => kv.Key, StringComparer.Ordinal).ToList();
        if (constraint is not null && ranked.Any(kv => constraint.IsFinal(kv.Value.State)))
            ranked = [.. ranked.Where(kv => constraint.IsFinal(kv.Value.State))];
        return [.. ranked.Select(kv => new CtcHypothesis(kv.Key.Select(ch => (int)ch).ToArray(), kv.Value.Total))];
    }

    /// <summary>Prefix beam search over a <c>[T, C]</c> log-probability tensor.</summary>
    public static IReadOnlyList<CtcHypothesis> BeamSearch(Tensor logProbs, int beamWidth = 16, int blank = 0,
        ICtcConstraint? constraint = null, double labelPruning = double.NegativeInfinity) =>
        BeamSearch(ToMatrix(logProbs), beamWidth, blank, constraint, labelPruning);

    /// <summary>ln P(<paramref name="labels"/> | input): the CTC forward algorithm, summing every path that spells
    /// the labels. −∞ when no path can (too few frames).</summary>
    public static double LogProbability(float[,] logProbs, IReadOnlyList<int> labels, int blank = 0)
    {
        ArgumentNullException.ThrowIfNull(logProbs);
        ArgumentNullException.ThrowIfNull(labels);
        int frames = logProbs.GetLength(0), classes = logProbs.GetLength(1);
        CheckBlank(blank, classes);
        var ext = new int[2 * labels.Count + 1];                 // blank, l1, blank, l2, …, blank
        for (var i = 0; i < ext.Length; i++) ext[i] = i % 2 == 0 ? blank : labels[i / 2];
        var alpha = new double[ext.Length];
        Array.Fill(alpha, double.NegativeInfinity);
        if (frames == 0) return labels.Count == 0 ? 0 : double.NegativeInfinity;
        alpha[0] = logProbs[0, blank];
        if (ext.Length > 1) alpha[1] = logProbs[0, ext[1]];
        for (var t = 1; t < frames; t++)
        {
            var next = new double[ext.Length];
            for (var s = 0; s < ext.Length; s++)
            {
                var sum = alpha[s];
                if (s >= 1) sum = LogAdd(sum, alpha[s - 1]);
                if (s >= 2 && ext[s] != blank && ext[s] != ext[s - 2]) sum = LogAdd(sum, alpha[s - 2]);
                next[s] = sum + logProbs[t, ext[s]];
            }
            alpha = next;
        }
        return ext.Length > 1 ? LogAdd(alpha[^1], alpha[^2]) : alpha[^1];
    }

    /// <summary>A <c>[T, C]</c> tensor (any float type) as a float matrix.</summary>
    public static float[,] ToMatrix(Tensor logProbs)
    {
        ArgumentNullException.ThrowIfNull(logProbs);
        if (logProbs.dim() != 2)
            throw new ArgumentException($"Expected log probabilities [T, C], got [{string.Join(", ", logProbs.shape)}].", nameof(logProbs));
        using var scope = NewDisposeScope();   // detach, to, cpu and contiguous may each make a tensor
        var f = logProbs.detach().to(ScalarType.Float32).cpu().contiguous();
        var flat = f.data<float>().ToArray();
        int frames = (int)f.shape[0], classes = (int)f.shape[1];
        var m = new float[frames, classes];
        Buffer.BlockCopy(flat, 0, m, 0, flat.Length * sizeof(float));
        return m;
    }

    /// <summary>ln(e^a + e^b), exact at −∞.</summary>
    public static double LogAdd(double a, double b)
    {
        if (double.IsNegativeInfinity(a)) return b;
        if (double.IsNegativeInfinity(b)) return a;
        return Math.Max(a, b) + Math.Log(1 + Math.Exp(-Math.Abs(a - b)));
    }

    static void CheckBlank(int blank, int classes)
    {
        if (blank < 0 || blank >= classes)
            throw new ArgumentOutOfRangeException(nameof(blank), blank, $"The blank label must be one of the {classes} classes.");
    }

    static Beam Get(Dictionary<string, Beam> beams, string prefix, int state)
    {
        if (!beams.TryGetValue(prefix, out var beam)) beams[prefix] = beam = new Beam(double.NegativeInfinity, double.NegativeInfinity, state);
        return beam;
    }

    sealed class Beam(double blank, double nonBlank, int state)
    {
        public LogSum Blank { get; } = new(blank);
        public LogSum NonBlank { get; } = new(nonBlank);
        public int State { get; } = state;
        public double Total => LogAdd(Blank.Value, NonBlank.Value);
    }

    sealed class LogSum(double value)
    {
        public double Value { get; private set; } = value;
        public void Add(double x) => Value = LogAdd(Value, x);
    }
}
