namespace RnnNotebooks.Decoding;

/// <summary>How the next token is chosen from a model's scores.</summary>
/// <param name="Temperature">Divides the logits before the softmax: below 1 sharpens the distribution, above 1
/// flattens it; 0 means greedy (always the most likely token).</param>
/// <param name="TopK">If set, sample only among the <c>k</c> most likely tokens (renormalised).</param>
/// <remarks>Introduced in 03-language-modeling.</remarks>
public sealed record SamplingOptions(double Temperature = 1.0, int? TopK = null)
{
    /// <summary>Always the most likely token.</summary>
    public static SamplingOptions Greedy { get; } = new(0.0);

    internal void Validate()
    {
        if (Temperature is < 0 or double.NaN || double.IsInfinity(Temperature))
            throw new ArgumentOutOfRangeException(nameof(Temperature), Temperature, "Temperature must be 0 (greedy) or positive.");
        if (TopK is < 1) throw new ArgumentOutOfRangeException(nameof(TopK), TopK, "TopK must be at least 1 (or null for all tokens).");
    }
}

/// <summary>Chooses a token from one row of logits: greedy, temperature, top-k.</summary>
/// <remarks>
/// Works on a <c>float[]</c> copied out of the model's output: for one token at a time this is cheaper than
/// a chain of small tensor operations, and a seeded <see cref="Random"/> makes samples repeatable.
/// Introduced in 03-language-modeling.
/// </remarks>
public static class Sampling
{
    /// <summary>The index of the largest logit (the first one on ties).</summary>
    public static int Greedy(ReadOnlySpan<float> logits)
    {
        if (logits.IsEmpty) throw new ArgumentException("No logits to choose from.", nameof(logits));
        var best = 0;
        for (var i = 1; i < logits.Length; i++)
            if (logits[i] > logits[best]) best = i;
        return best;
    }

    /// <summary>
    /// The probabilities sampling uses: <c>softmax(logits / T)</c> restricted to the top k and renormalised
    /// (zero elsewhere). With T = 0: probability 1 on the greedy choice.
    /// </summary>
    public static double[] Probabilities(ReadOnlySpan<float> logits, SamplingOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        var p = new double[logits.Length];
        if (options.Temperature == 0)
        {
            p[Greedy(logits)] = 1;
            return p;
        }
        var threshold = double.NegativeInfinity;
        var k = options.TopK ?? logits.Length;
        if (k < logits.Length)
        {
            var sorted = logits.ToArray();
            Array.Sort(sorted);
            threshold = sorted[^k];
        }
        var max = logits[Greedy(logits)];
        // Ties at the threshold could admit more than k tokens: keep all above it, then the first ties.
        var tiesAllowed = k;
        foreach (var l in logits) if (l > threshold) tiesAllowed--;
        double total = 0;
        for (var i = 0; i < logits.Length; i++)
        {
            if (logits[i] < threshold || (logits[i] == threshold && tiesAllowed-- <= 0)) continue;
            p[i] = Math.Exp((logits[i] - max) / options.Temperature);
            total += p[i];
        }
        for (var i = 0; i < p.Length; i++) p[i] /= total;
        return p;
    }

    /// <summary>Draws a token according to <paramref name="options"/>; greedy when the temperature is 0.</summary>
    public static int Choose(ReadOnlySpan<float> logits, SamplingOptions options, Random random)
    {
        ArgumentNullException.ThrowIfNull(random);
        ArgumentNullException.ThrowIfNull(options);
        if (options.Temperature == 0) return Greedy(logits);
        var p = Probabilities(logits, options);
        var u = random.NextDouble();
        var last = 0;
        for (var i = 0; i < p.Length; i++)
        {
            if (p[i] == 0) continue;
            last = i;
            u -= p[i];
            if (u < 0) return i;
        }
        return last;
    }
}
