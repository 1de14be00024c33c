using RnnNotebooks.Metrics;
using RnnNotebooks.Text;
using static TorchSharp.torch;

namespace RnnNotebooks.Translation;

/// <summary>Corpus BLEU of the sentences whose source length falls in <c>[MinLength, MaxLength]</c>.</summary>
/// <param name="MinLength">Shortest source length in the bucket (words, without <c>&lt;eos&gt;</c>).</param>
/// <param name="MaxLength">Longest source length in the bucket.</param>
/// <param name="Sentences">Source sentences in the bucket.</param>
/// <param name="Bleu">Corpus BLEU over the bucket.</param>
/// <remarks>Introduced in 04-machine-translation.</remarks>
public sealed record LengthBucketBleu(int MinLength, int MaxLength, int Sentences, BleuScore Bleu);

/// <summary>What an attention model looked at while translating one sentence.</summary>
/// <param name="Source">The source words and <c>&lt;eos&gt;</c> (the columns); words outside the vocabulary are
/// marked <c>word?</c>, since the model saw <c>&lt;unk&gt;</c> there.</param>
/// <param name="Output">The words written, then <c>&lt;eos&gt;</c> if the model ended the sentence (the rows).</param>
/// <param name="Weights">Attention weights <c>[Output.Count, Source.Count]</c>; each row sums to 1.</param>
/// <remarks>Introduced in 04-machine-translation.</remarks>
public sealed record AttentionExample(IReadOnlyList<string> Source, IReadOnlyList<string> Output, double[,] Weights);

/// <summary>Comparisons of translation models beyond one BLEU number: loss on held-out pairs, BLEU by length.</summary>
/// <remarks>Introduced in 04-machine-translation.</remarks>
public static class TranslationAnalysis
{
    /// <summary>
    /// Mean cross-entropy per target token (the <c>&lt;eos&gt;</c> included) of <paramref name="pairs"/> under teacher
    /// forcing, with dropout off; the model's training mode is restored afterwards.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="pairs"/> is empty.</exception>
    public static double MeanLoss(Seq2Seq model, IReadOnlyList<EncodedPair> pairs, int batchSize = 128)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(pairs);
        if (pairs.Count == 0) throw new ArgumentException("No pairs to score; pass the validation or test pairs.", nameof(pairs));
        var training = model.training;
        model.eval();
        try
        {
            using var noGrad = no_grad();
            double total = 0;
            long tokens = 0;
            using var batches = TranslationBatch.Batches(pairs, batchSize, random: null).GetEnumerator();
            while (true)
            {
                // The scope opens before MoveNext so the batch's own tensors are freed with it.
                using var scope = NewDisposeScope();
                if (!batches.MoveNext()) break;
                total += model.Loss(batches.Current).item<float>() * (double)batches.Current.TargetTokens;
                tokens += batches.Current.TargetTokens;
            }
            return total / tokens;
        }
        finally
        {
            model.train(training);
        }
    }

    /// <summary>
    /// Splits an evaluation by source length into buckets ending at <paramref name="upperBounds"/> (ascending; the
    /// first starts at 1) and scores each bucket with corpus BLEU. Empty buckets are left out.
    /// </summary>
    /// <example><c>BleuByLength(result, 4, 6, 8, 10)</c> gives buckets 1–4, 5–6, 7–8 and 9–10 words.</example>
    public static IReadOnlyList<LengthBucketBleu> BleuByLength(TranslationEvaluation evaluation, params int[] upperBounds)
    {
        ArgumentNullException.ThrowIfNull(evaluation);
        ArgumentNullException.ThrowIfNull(upperBounds);
        if (upperBounds.Length == 0 || upperBounds[0] < 1 || upperBounds.Zip(upperBounds.Skip(1)).Any(p => p.Second <= p.First))
            throw new ArgumentException(
                $"Bucket bounds [{string.Join(", ", upperBounds)}] must be positive and ascending, e.g. 4, 6, 8, 10.", nameof(upperBounds));
        var buckets = new List<LengthBucketBleu>();
        var lower = 1;
        foreach (var upper in upperBounds)
        {
            var inBucket = evaluation.Samples.Where(s => Words(s.Source).Length is var n && n >= lower && n <= upper).ToList();
            if (inBucket.Count > 0)
                buckets.Add(new LengthBucketBleu(lower, upper, inBucket.Count, Bleu.CorpusTokens(
                    [.. inBucket.Select(s => (IReadOnlyList<string>)Words(s.Hypothesis))],
                    [.. inBucket.Select(s => (IReadOnlyList<IReadOnlyList<string>>)[.. s.References.Select(Words)])])));
            lower = upper + 1;
        }
        return buckets;
    }

    static string[] Words(string sentence) => sentence.Split(' ', StringSplitOptions.RemoveEmptyEntries);

    /// <summary>Translates <paramref name="source"/> (tokenised) greedily and returns the attention weights of every
    /// output word over the source words, ready for <c>Charts.Heatmap</c>.</summary>
    /// <exception cref="InvalidOperationException">The model has no attention.</exception>
    public static AttentionExample Attend(Translator translator, IReadOnlyList<string> source, int maxLength = 30)
    {
        ArgumentNullException.ThrowIfNull(translator);
        ArgumentNullException.ThrowIfNull(source);
        if (translator.Model.Options.Attention == AttentionKind.None)
            throw new InvalidOperationException("This model has no attention to show; train one with AttentionKind.Additive or Dot.");
        var wasTraining = translator.Model.training;
        translator.Model.eval();
        try
        {
            using var scope = NewDisposeScope();
            var batch = TranslationBatch.Collate([new EncodedPair(translator.Source.EncodeTokens(source), [])]);
            var (ids, maps) = translator.Model.Greedy(batch.Source, batch.SourceLengths, maxLength);
            var weights = maps![0];
            var output = translator.Target.DecodeTokens(ids[0]).ToList();
            if (weights.GetLength(0) > output.Count) output.Add("<eos>");
            var columns = source.Select(w => translator.Source.IdOf(w) == Vocabulary.Unk ? w + "?" : w).Append("<eos>").ToList();
            return new AttentionExample(columns, output, weights);
        }
        finally
        {
            translator.Model.train(wasTraining);
        }
    }
}
