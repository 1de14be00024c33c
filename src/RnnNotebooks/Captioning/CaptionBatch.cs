using RnnNotebooks.Text;
using RnnNotebooks.Vision;
using TorchSharp;
using static TorchSharp.torch;

namespace RnnNotebooks.Captioning;

/// <summary>
/// A padded batch of (photo, caption) pairs. The decoder reads <see cref="Input"/> (<c>&lt;bos&gt; w1 … wn</c>)
/// and is trained to produce <see cref="Target"/> (<c>w1 … wn &lt;eos&gt;</c>).
/// </summary>
/// <param name="Images">Image name of each row.</param>
/// <param name="Features">Encoder features <c>[batch, 49, 512]</c>.</param>
/// <param name="Input">Decoder inputs <c>[batch, steps]</c>, padded with <see cref="Vocabulary.Pad"/>.</param>
/// <param name="Target">Decoder targets <c>[batch, steps]</c>.</param>
/// <param name="Mask">True where <see cref="Target"/> is a real token <c>[batch, steps]</c>.</param>
/// <param name="Tokens">Real target tokens in the batch.</param>
/// <remarks>Introduced in 06-image-captioning.</remarks>
public sealed record CaptionBatch(IReadOnlyList<string> Images, Tensor Features, Tensor Input, Tensor Target, Tensor Mask, long Tokens)
{
    /// <summary>Pads captions (ids without <c>&lt;bos&gt;</c>/<c>&lt;eos&gt;</c>) into one batch with their images' features.</summary>
    public static CaptionBatch Collate(IReadOnlyList<(string Image, long[] Caption)> items, ImageFeatureSet features)
    {
        ArgumentNullException.ThrowIfNull(items);
        if (items.Count == 0) throw new ArgumentException("A batch needs at least one caption.", nameof(items));
        var b = items.Count;
        var steps = items.Max(i => i.Caption.Length) + 1;
        var input = new long[b * steps];
        var target = new long[b * steps];
        var mask = new bool[b * steps];
        long tokens = 0;
        for (var i = 0; i < b; i++)
        {
            var c = items[i].Caption;
            input[i * steps] = Vocabulary.Bos;
            c.CopyTo(input, i * steps + 1);
            c.CopyTo(target, i * steps);
            target[i * steps + c.Length] = Vocabulary.Eos;
            for (var t = 0; t <= c.Length; t++) mask[i * steps + t] = true;
            tokens += c.Length + 1;
        }
        var images = items.Select(i => i.Image).ToList();
        return new CaptionBatch(images, features.Batch(images), tensor(input, [b, steps]), tensor(target, [b, steps]),
            tensor(mask, [b, steps]), tokens);
    }

    /// <summary>
    /// One epoch of batches over every caption of every image in <paramref name="images"/>, shuffled with
    /// <paramref name="random"/> (null: in order). Captions are grouped by length within windows of 50 batches
    /// so little of each batch is padding.
    /// </summary>
    /// <param name="images">Photos with their tokenised captions.</param>
    /// <param name="vocabulary">Maps words to ids.</param>
    /// <param name="features">Encoder features of the photos.</param>
    /// <param name="batchSize">Captions per batch.</param>
    /// <param name="random">Shuffles captions and batches; null keeps the order.</param>
    /// <param name="maxLength">Longer captions are cut (the few 30+ word captions would double a batch's steps).</param>
    public static IEnumerable<CaptionBatch> Epoch(IReadOnlyList<CaptionedImage> images, Vocabulary vocabulary, ImageFeatureSet features,
        int batchSize, Random? random, int maxLength = 30)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        var pairs = images.SelectMany(i => i.Tokens.Select(t => (i.Image, Caption: vocabulary.EncodeTokens(t.Take(maxLength))))).ToList();
        if (random is not null)
        {
            random.Shuffle(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(pairs));
            var window = batchSize * 50;
            var grouped = new List<(string Image, long[] Caption)>(pairs.Count);
            for (var s = 0; s < pairs.Count; s += window)
                grouped.AddRange(pairs.Skip(s).Take(window).OrderBy(p => p.Caption.Length));
            var batches = Enumerable.Range(0, (grouped.Count + batchSize - 1) / batchSize).ToArray();
            random.Shuffle(batches);
            foreach (var k in batches)
                yield return Collate(grouped.GetRange(k * batchSize, Math.Min(batchSize, grouped.Count - k * batchSize)), features);
        }
        else
        {
            for (var s = 0; s < pairs.Count; s += batchSize)
                yield return Collate(pairs.GetRange(s, Math.Min(batchSize, pairs.Count - s)), features);
        }
    }
}
