using RnnNotebooks.Models;
using RnnNotebooks.Text;
using TorchSharp;
using static TorchSharp.torch;

namespace RnnNotebooks.Metrics;

/// <summary>
/// How well a language model predicts a text: the mean negative log-likelihood per token in nats, the same in
/// bits, and the perplexity <c>e^nats</c>, over <see cref="Tokens"/> predicted tokens.
/// </summary>
/// <param name="NatsPerToken">Mean cross-entropy, natural log.</param>
/// <param name="BitsPerToken"><c>NatsPerToken / ln 2</c>.</param>
/// <param name="Perplexity"><c>exp(NatsPerToken)</c>: the size of a uniform choice that would be as uncertain.</param>
/// <param name="Tokens">Tokens predicted.</param>
/// <remarks>Introduced in 03-language-modeling.</remarks>
public sealed record LanguageModelScore(double NatsPerToken, double BitsPerToken, double Perplexity, long Tokens)
{
    /// <summary>The score of a summed negative log-likelihood over <paramref name="tokens"/> tokens.</summary>
    public static LanguageModelScore FromTotal(double totalNats, long tokens)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(tokens, 1);
        var nats = totalNats / tokens;
        return new LanguageModelScore(nats, Perplexities.Bits(nats), Perplexities.FromNats(nats), tokens);
    }

    /// <summary>One line for a lesson's output, e.g. "1.485 nats/token = 2.14 bits/token, perplexity 4.42, over 111,536 tokens".</summary>
    public override string ToString() => string.Create(System.Globalization.CultureInfo.InvariantCulture,
        $"{NatsPerToken:F3} nats/token = {BitsPerToken:F2} bits/token, perplexity {Perplexity:F2}, over {Tokens:N0} tokens");

    /// <summary>The score as the JSON the CLI prints (snake_case keys).</summary>
    public string ToJson() => System.Text.Json.JsonSerializer.Serialize(this, Json.Options);
}

/// <summary>Conversions between cross-entropy and perplexity, and the evaluation of a model on a text.</summary>
/// <remarks>Introduced in 03-language-modeling.</remarks>
public static class Perplexities
{
    /// <summary>Perplexity of a mean cross-entropy in nats: <c>e^nats</c>.</summary>
    public static double FromNats(double nats) => Math.Exp(nats);

    /// <summary>Nats to bits: <c>nats / ln 2</c>.</summary>
    public static double Bits(double nats) => nats / Math.Log(2);

    /// <summary>
    /// Scores <paramref name="model"/> on <paramref name="ids"/>, read as <paramref name="batchSize"/> parallel
    /// streams (see <see cref="TokenStreams"/>) with the state carried across windows. With a batch of 1 every
    /// token after the first is predicted; with <c>B</c> streams up to <c>B</c> tokens at the end are left out.
    /// Runs in eval mode under <c>no_grad</c> and restores the model's mode.
    /// </summary>
    /// <exception cref="ArgumentException">An id is outside the model's vocabulary, or the text is too short.</exception>
    public static LanguageModelScore Evaluate(LanguageModel model, IReadOnlyList<int> ids, int batchSize = 16, int steps = 256)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(ids);
        var vocab = model.Options.VocabSize;
        for (var i = 0; i < ids.Count; i++)
            if ((uint)ids[i] >= (uint)vocab)
                throw new ArgumentException($"Token id {ids[i]} at position {i} is outside the model's vocabulary of {vocab}.", nameof(ids));
        // Short texts get fewer streams, so each still spans at least one full window.
        batchSize = Math.Max(1, Math.Min(batchSize, (ids.Count - 1) / steps));

        var wasTraining = model.training;
        model.eval();
        try
        {
            using var noGrad = no_grad();
            using var streams = new TokenStreams(ids, batchSize, steps);
            double total = 0;
            RecurrentState? state = null;
            foreach (var batch in streams.Batches())
            {
                using var scope = NewDisposeScope();
                var (logits, next) = model.forward(batch.Inputs, state);
                total += nn.functional.cross_entropy(logits.reshape(-1, vocab), batch.Targets.reshape(-1),
                    reduction: nn.Reduction.Sum).ToDouble();
                state?.Dispose();
                state = next;
                scope.Detach(next.H);
                if (next.C is not null) scope.Detach(next.C);
            }
            state?.Dispose();
            return LanguageModelScore.FromTotal(total, streams.Tokens);
        }
        finally
        {
            model.train(wasTraining);
        }
    }

    /// <summary>
    /// The log-probability (natural log) a model gives to a sequence: the sum over tokens 2…n of
    /// <c>log p(t_i | t_1 … t_{i-1})</c>. The first token is given, not predicted.
    /// </summary>
    public static double LogProbability(LanguageModel model, IReadOnlyList<int> ids)
    {
        ArgumentNullException.ThrowIfNull(ids);
        if (ids.Count < 2) throw new ArgumentException("Need at least two tokens: the first is given, the rest are scored.", nameof(ids));
        var score = Evaluate(model, ids, batchSize: 1, steps: ids.Count);
        return -score.NatsPerToken * score.Tokens;
    }
}
