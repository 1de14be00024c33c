using System.Globalization;
using System.Text.RegularExpressions;
using RnnNotebooks.Data;
using RnnNotebooks.Text;

namespace RnnNotebooks.Captioning;

/// <summary>One photo with its human captions (raw text and tokens).</summary>
/// <remarks>Introduced in 06-image-captioning.</remarks>
public sealed record CaptionedImage(string Image, IReadOnlyList<string> Captions, IReadOnlyList<IReadOnlyList<string>> Tokens);

/// <summary>Flickr8k's official split: 6,000 / 1,000 / 1,000 photos, five captions each.</summary>
/// <param name="ImageDirectory">Folder holding the JPEGs.</param>
/// <param name="Train">The 6,000 training photos.</param>
/// <param name="Dev">The 1,000 development photos (for choices such as beam size).</param>
/// <param name="Test">The 1,000 test photos (reported once, never tuned on).</param>
/// <param name="Unsplit">Captioned photos the official split leaves out (91 in Flickr8k): never trained or scored on,
/// but their features are cached with the rest so every photo of the dataset can be captioned from the cache.</param>
/// <remarks>Introduced in 06-image-captioning.</remarks>
public sealed record CaptionSplits(string ImageDirectory, IReadOnlyList<CaptionedImage> Train, IReadOnlyList<CaptionedImage> Dev,
    IReadOnlyList<CaptionedImage> Test, IReadOnlyList<CaptionedImage>? Unsplit = null)
{
    /// <summary>The split called <paramref name="name"/> (train, dev or test).</summary>
    public IReadOnlyList<CaptionedImage> Get(string name) => name switch
    {
        "train" => Train,
        "dev" or "val" or "validation" => Dev,
        "test" => Test,
        _ => throw new ArgumentException($"Unknown split '{name}'; use train, dev or test.", nameof(name)),
    };

    /// <summary>Every photo: the three splits in split order (train, dev, test), then the unsplit ones.</summary>
    public IReadOnlyList<string> AllImages => [.. Train.Concat(Dev).Concat(Test).Concat(Unsplit ?? []).Select(i => i.Image)];

    /// <summary>The first <paramref name="train"/>, <paramref name="dev"/> and <paramref name="test"/> images of each
    /// split (quick mode), without the unsplit photos.</summary>
    public CaptionSplits Take(int train, int dev, int test) =>
        this with { Train = [.. Train.Take(train)], Dev = [.. Dev.Take(dev)], Test = [.. Test.Take(test)], Unsplit = [] };
}

/// <summary>
/// Reading Flickr8k and turning captions into tokens: lower-cased words of letters and digits; punctuation
/// is dropped (the usual caption preprocessing, so BLEU does not reward a final full stop).
/// </summary>
/// <remarks>Introduced in 06-image-captioning.</remarks>
public static partial class CaptionData
{
    [GeneratedRegex(@"[a-z0-9]+(?:'[a-z]+)?")]
    private static partial Regex WordPattern();

    /// <summary>The words of a caption: lower-cased, punctuation removed.</summary>
    public static IReadOnlyList<string> Tokenize(string caption)
    {
        ArgumentNullException.ThrowIfNull(caption);
        return [.. WordPattern().Matches(caption.ToLower(CultureInfo.InvariantCulture)).Select(m => m.Value)];
    }

    /// <summary>Loads the captions and the official split of <c>flickr8k</c> through the dataset registry.</summary>
    /// <exception cref="DatasetException">The dataset is not found; the message says where it was looked for.</exception>
    public static CaptionSplits LoadFlickr8k(DatasetOptions? options = null)
    {
        var location = Datasets.Locate("flickr8k", options);
        var captions = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        foreach (var line in Datasets.ReadText("flickr8k", "Flickr8k.token.txt", options).Split('\n'))
        {
            var tab = line.IndexOf('\t');
            var hash = line.IndexOf('#');
            if (tab < 0 || hash < 0 || hash > tab) continue;
            var image = line[..hash];
            if (!captions.TryGetValue(image, out var list)) captions[image] = list = [];
            list.Add(line[(tab + 1)..].Trim());
        }
        IReadOnlyList<CaptionedImage> Split(string file)
        {
            var names = Datasets.ReadText("flickr8k", file, options).Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            return [.. names.Select(n => captions.TryGetValue(n, out var c)
                ? new CaptionedImage(n, c, [.. c.Select(Tokenize)])
                : throw new InvalidDataException($"flickr8k: {file} lists {n}, which has no caption in Flickr8k.token.txt; verify the dataset with 'rnn data verify flickr8k'."))];
        }
        var (train, dev, test) = (Split("Flickr_8k.trainImages.txt"), Split("Flickr_8k.devImages.txt"), Split("Flickr_8k.testImages.txt"));
        var inSplit = train.Concat(dev).Concat(test).Select(i => i.Image).ToHashSet(StringComparer.Ordinal);
        var imageDirectory = location.PathOf("images");
        // The token file also captions "2258277193_586949ec62.jpg.1", a name with no photo behind it: skipped.
        IReadOnlyList<CaptionedImage> unsplit = [.. captions.Keys
            .Where(n => !inSplit.Contains(n) && File.Exists(Path.Combine(imageDirectory, n))).Order(StringComparer.Ordinal)
            .Select(n => new CaptionedImage(n, captions[n], [.. captions[n].Select(Tokenize)]))];
        return new CaptionSplits(imageDirectory, train, dev, test, unsplit);
    }

    /// <summary>The caption vocabulary: words seen at least <paramref name="minCount"/> times in the training captions.</summary>
    public static Vocabulary BuildVocabulary(IEnumerable<CaptionedImage> train, int minCount = 5) =>
        Vocabulary.OfSentences(train.SelectMany(i => i.Tokens), minCount);
}
