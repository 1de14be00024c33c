using RnnNotebooks.Platform;
using TorchSharp;
using static TorchSharp.torch;

namespace RnnNotebooks.Decoding;

/// <summary>
/// One decoder step for <see cref="BeamSearch"/>: given the state of every live beam and the token each beam
/// produced last (<c>[beams]</c>, int64), the log-probabilities of the next token <c>[beams, vocab]</c> and the
/// new state (row b still belonging to beam b).
/// </summary>
/// <remarks>Introduced in 04-machine-translation.</remarks>
public delegate (Tensor LogProbs, TState State) BeamStep<TState>(TState state, Tensor lastTokens);

/// <summary>Settings for <see cref="BeamSearch.Search"/>.</summary>
/// <param name="BosId">Token fed at the first step.</param>
/// <param name="EosId">Token that ends a hypothesis.</param>
/// <param name="BeamSize">Hypotheses kept per step (1 is greedy decoding) and returned at most.</param>
/// <param name="MaxLength">Most tokens generated, the end token included; hypotheses still open then are
/// returned with <see cref="BeamHypothesis.Finished"/> false.</param>
/// <param name="LengthAlpha">Length normalisation: a hypothesis is ranked by <c>logP / length^alpha</c>, length
/// counting the end token. 0 ranks by log-probability (favours short outputs), 1 by mean log-probability.</param>
/// <remarks>Introduced in 04-machine-translation.</remarks>
public sealed record BeamSearchOptions(long BosId, long EosId, int BeamSize = 5, int MaxLength = 50, double LengthAlpha = 0.0)
{
    internal void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(BeamSize, 1, nameof(BeamSize));
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxLength, 1, nameof(MaxLength));
        if (!(LengthAlpha >= 0)) throw new ArgumentOutOfRangeException(nameof(LengthAlpha), LengthAlpha, "LengthAlpha must be 0 or more.");
    }
}

/// <summary>A decoded sequence.</summary>
/// <param name="Tokens">Generated tokens, without the start and end tokens.</param>
/// <param name="LogProb">Sum of the log-probabilities of the generated tokens, the end token included.</param>
/// <param name="Score">What hypotheses are ranked by: <c>LogProb / length^alpha</c>.</param>
/// <param name="Finished">Whether it ended with the end token (false: cut at MaxLength).</param>
/// <remarks>Introduced in 04-machine-translation.</remarks>
public sealed record BeamHypothesis(IReadOnlyList<long> Tokens, double LogProb, double Score, bool Finished);

/// <summary>
/// Beam search over any step-wise decoder (a translation decoder, a caption decoder, a language model): keeps the
/// <c>BeamSize</c> most probable prefixes at each step and returns the best finished hypotheses.
/// </summary>
/// <remarks>
/// At each step every live beam is extended by every token; of the best <c>2 × BeamSize</c> extensions, those that
/// end (the end token) and rank among the best <c>BeamSize</c> are set aside as finished, and the best non-ending
/// ones become the next beams. The search stops when no live beam can still beat the <c>BeamSize</c>-th finished
/// hypothesis (log-probabilities only fall as a prefix grows), or at <c>MaxLength</c>. With a beam as wide as the
/// number of prefixes it is exhaustive; with <c>BeamSize = 1</c> and <c>LengthAlpha = 0</c> it is greedy decoding.
/// Decodes one input at a time.
/// Introduced in 04-machine-translation.
/// </remarks>
public static class BeamSearch
{
    /// <summary>Runs the search and returns up to <c>BeamSize</c> hypotheses, best first.</summary>
    /// <param name="initialState">The decoder state for one beam (before the start token).</param>
    /// <param name="step">One decoder step; see <see cref="BeamStep{TState}"/>.</param>
    /// <param name="select">Builds the state of the next beams from the rows <c>indices</c> (<c>[beams]</c>, int64)
    /// of a state, e.g. <c>h.index_select(1, indices)</c> for an LSTM state <c>[layers, beams, hidden]</c>.</param>
    /// <param name="options">Start/end tokens, beam size, length limit and normalisation.</param>
    /// <param name="stateTensors">The tensors a state holds. When given, tensors of earlier steps are disposed as
    /// the search goes, so memory does not grow with the output length; otherwise they are disposed at the end.
    /// Tensors created before the search (e.g. encoder outputs) are never disposed.</param>
    public static IReadOnlyList<BeamHypothesis> Search<TState>(
        TState initialState,
        BeamStep<TState> step,
        Func<TState, Tensor, TState> select,
        BeamSearchOptions options,
        Func<TState, IEnumerable<Tensor>>? stateTensors = null)
    {
        ArgumentNullException.ThrowIfNull(step);
        ArgumentNullException.ThrowIfNull(select);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        var k = options.BeamSize;

        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var state = initialState;
        var beams = new List<(List<long> Tokens, double LogProb)> { ([], 0.0) };
        var finished = new List<BeamHypothesis>();

        for (var t = 0; t < options.MaxLength && beams.Count > 0; t++)
        {
            var last = tensor(beams.Select(b => b.Tokens.Count == 0 ? options.BosId : b.Tokens[^1]).ToArray());
            var (logProbs, newState) = step(state, last);
            if (logProbs.dim() != 2 || logProbs.shape[0] != beams.Count)
                throw new ArgumentException(
                    $"The step function returned log-probabilities of shape [{string.Join(", ", logProbs.shape)}] for " +
                    $"{beams.Count} beams; expected [{beams.Count}, vocab].", nameof(step));
            var vocab = logProbs.shape[1];
            var prefix = tensor(beams.Select(b => b.LogProb).ToArray(), dtype: ScalarType.Float64).unsqueeze(1);
            var total = logProbs.to_type(ScalarType.Float64).add(prefix, Scalars.One).flatten();   // [beams * vocab]
            var take = (int)Math.Min(2L * k, total.shape[0]);
            var (values, indices) = total.topk(take);
            var scores = values.data<double>().ToArray();
            var flat = indices.data<long>().ToArray();

            var next = new List<(List<long> Tokens, double LogProb)>();
            var parents = new List<long>();
            var lastStep = t == options.MaxLength - 1;
            for (var rank = 0; rank < take && next.Count < k; rank++)
            {
                if (double.IsNegativeInfinity(scores[rank])) break;
                var parent = flat[rank] / vocab;
                var token = flat[rank] % vocab;
                var tokens = new List<long>(beams[(int)parent].Tokens) { token };
                if (token == options.EosId)
                {
                    if (rank < k) finished.Add(Hypothesis(tokens.GetRange(0, tokens.Count - 1), scores[rank], tokens.Count, true, options));
                }
                else if (lastStep)
                {
                    finished.Add(Hypothesis(tokens, scores[rank], tokens.Count, false, options));
                    next.Add((tokens, scores[rank]));
                }
                else
                {
                    next.Add((tokens, scores[rank]));
                    parents.Add(parent);
                }
            }
            if (lastStep) break;

            beams = next;
            if (beams.Count == 0 || CannotImprove(beams, finished, options)) break;
            state = select(newState, tensor(parents.ToArray()));
            if (stateTensors is not null) scope.DisposeEverythingBut(stateTensors(state));
        }

        return [.. finished.OrderByDescending(h => h.Score).Take(k)];
    }

    /// <summary>
    /// <see cref="Search"/> for several inputs at once: every live beam of every input is one row of the state, so
    /// each decoder step is one call on a batch instead of one per input. Returns, per input, what
    /// <see cref="Search"/> returns for it alone (the same hypotheses, up to float rounding of the batched step).
    /// </summary>
    /// <param name="initialState">The decoder state with one row per input.</param>
    /// <param name="inputs">The number of inputs (rows of <paramref name="initialState"/>).</param>
    /// <param name="step">One decoder step on any number of rows.</param>
    /// <param name="select">Builds a state from the given rows (<c>[rows]</c>, int64) of a state — all of its
    /// per-row tensors, including per-input ones such as encoder outputs.</param>
    /// <param name="options">As for <see cref="Search"/>.</param>
    /// <param name="stateTensors">As for <see cref="Search"/>.</param>
    public static IReadOnlyList<IReadOnlyList<BeamHypothesis>> SearchBatch<TState>(
        TState initialState,
        int inputs,
        BeamStep<TState> step,
        Func<TState, Tensor, TState> select,
        BeamSearchOptions options,
        Func<TState, IEnumerable<Tensor>>? stateTensors = null)
    {
        ArgumentNullException.ThrowIfNull(step);
        ArgumentNullException.ThrowIfNull(select);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        ArgumentOutOfRangeException.ThrowIfNegative(inputs);
        var k = options.BeamSize;

        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        // Every live input has exactly k rows, input by input; rows an input cannot fill (fewer than k beams) carry
        // log-probability −∞, so they never rank and the scores of all inputs fit one [inputs, k · vocab] tensor.
        var beams = new List<List<(List<long> Tokens, double LogProb)>>();
        var finished = new List<List<BeamHypothesis>>();
        var live = new List<int>();                                  // input index of each live group of k rows
        for (var i = 0; i < inputs; i++)
        {
            beams.Add([([], 0.0)]);
            finished.Add([]);
            live.Add(i);
        }
        if (inputs == 0) return [];
        // One row per input to begin with: each input starts with one beam and k − 1 empty rows.
        var state = select(initialState, tensor(Enumerable.Range(0, inputs).SelectMany(i => Enumerable.Repeat((long)i, k)).ToArray()));

        for (var t = 0; t < options.MaxLength; t++)
        {
            var rows = new long[live.Count * k];
            var prefixes = new double[live.Count * k];
            for (var g = 0; g < live.Count; g++)
            {
                var group = beams[live[g]];
                for (var b = 0; b < k; b++)
                {
                    rows[g * k + b] = b < group.Count && group[b].Tokens.Count > 0 ? group[b].Tokens[^1] : options.BosId;
                    prefixes[g * k + b] = b < group.Count ? group[b].LogProb : double.NegativeInfinity;
                }
            }
            var (logProbs, newState) = step(state, tensor(rows));
            if (logProbs.dim() != 2 || logProbs.shape[0] != rows.Length)
                throw new ArgumentException(
                    $"The step function returned log-probabilities of shape [{string.Join(", ", logProbs.shape)}] for " +
                    $"{rows.Length} rows; expected [{rows.Length}, vocab].", nameof(step));
            var vocab = logProbs.shape[1];
            var total = logProbs.to_type(ScalarType.Float64).add(tensor(prefixes).unsqueeze(1), Scalars.One).reshape(live.Count, k * vocab);
            var take = (int)Math.Min(2L * k, k * vocab);
            var (values, indices) = total.topk(take, dim: 1);                           // [inputs, take]
            var scores = values.data<double>().ToArray();
            var flat = indices.data<long>().ToArray();

            var lastStep = t == options.MaxLength - 1;
            var keep = new List<long>();
            var stillLive = new List<int>();
            for (var g = 0; g < live.Count; g++)
            {
                var input = live[g];
                var group = beams[input];
                var next = new List<(List<long> Tokens, double LogProb)>();
                var parents = new List<long>();
                for (var rank = 0; rank < take && next.Count < k; rank++)
                {
                    var score = scores[g * take + rank];
                    if (double.IsNegativeInfinity(score)) break;
                    var parent = flat[g * take + rank] / vocab;
                    var token = flat[g * take + rank] % vocab;
                    var tokens = new List<long>(group[(int)parent].Tokens) { token };
                    if (token == options.EosId)
                    {
                        if (rank < k) finished[input].Add(Hypothesis(tokens.GetRange(0, tokens.Count - 1), score, tokens.Count, true, options));
                    }
                    else if (lastStep)
                    {
                        finished[input].Add(Hypothesis(tokens, score, tokens.Count, false, options));
                        next.Add((tokens, score));
                    }
                    else
                    {
                        next.Add((tokens, score));
                        parents.Add(g * k + parent);
                    }
                }
                beams[input] = next;
                if (lastStep || next.Count == 0 || CannotImprove(next, finished[input], options)) continue;
                stillLive.Add(input);
                // Fill the group's k rows: its beams' parents, then copies of the first for the empty rows.
                keep.AddRange(parents);
                keep.AddRange(Enumerable.Repeat(parents[0], k - parents.Count));
            }
            if (lastStep || stillLive.Count == 0) break;
            live = stillLive;
            state = select(newState, tensor(keep.ToArray()));
            if (stateTensors is not null) scope.DisposeEverythingBut(stateTensors(state));
        }

        return [.. finished.Select(f => (IReadOnlyList<BeamHypothesis>)[.. f.OrderByDescending(h => h.Score).Take(k)])];
    }

    static BeamHypothesis Hypothesis(List<long> tokens, double logProb, int length, bool finished, BeamSearchOptions options) =>
        new(tokens, logProb, logProb / Math.Pow(length, options.LengthAlpha), finished);

    /// <summary>
    /// True when BeamSize hypotheses have finished and no live beam can overtake the worst of them: a beam's
    /// log-probability only falls, so its best possible score is <c>logP / MaxLength^alpha</c>.
    /// </summary>
    static bool CannotImprove(List<(List<long> Tokens, double LogProb)> beams, List<BeamHypothesis> finished,
        BeamSearchOptions options)
    {
        if (finished.Count < options.BeamSize) return false;
        var kthBest = finished.Select(h => h.Score).OrderDescending().ElementAt(options.BeamSize - 1);
        var bound = beams.Max(b => b.LogProb) / Math.Pow(options.MaxLength, options.LengthAlpha);
        return bound <= kthBest;
    }
}
