using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using RnnNotebooks.Notebook;
using TorchSharp;
using static TorchSharp.torch;

namespace RnnNotebooks.Vision;

/// <summary>What a feature-cache file says about itself.</summary>
/// <param name="FormatVersion">Layout of the file.</param>
/// <param name="EncoderFingerprint">Which encoder and preprocessing made the features (<see cref="ResNet18Encoder.Fingerprint"/>).</param>
/// <param name="ImageListHash">SHA-256 of the image names, in order.</param>
/// <param name="Regions">Feature vectors per image (49).</param>
/// <param name="Channels">Length of each vector (512).</param>
/// <param name="Images">The image names, in the order of the stored features.</param>
/// <remarks>Introduced in 06-image-captioning.</remarks>
public sealed record FeatureCacheHeader(int FormatVersion, string EncoderFingerprint, string ImageListHash, int Regions, int Channels,
    IReadOnlyList<string> Images);

/// <summary>The state of a cache file relative to what is asked for.</summary>
/// <remarks>Introduced in 06-image-captioning.</remarks>
public enum FeatureCacheStatus
{
    /// <summary>No file.</summary>
    Missing,
    /// <summary>Made by another encoder or for another image list.</summary>
    Stale,
    /// <summary>Shorter or longer than its header says, or unreadable.</summary>
    Corrupt,
    /// <summary>Usable.</summary>
    Valid,
}

/// <summary>
/// Spatial image features <c>[images, 49, 512]</c> held as float16 (half the memory of float32), looked up by
/// image name; <see cref="Batch"/> returns float32 tensors for training.
/// </summary>
/// <remarks>Introduced in 06-image-captioning.</remarks>
public sealed class ImageFeatureSet
{
    readonly Half[] data;
    readonly Dictionary<string, int> index;

    internal ImageFeatureSet(IReadOnlyList<string> images, Half[] data, int regions, int channels)
    {
        Images = images;
        this.data = data;
        Regions = regions;
        Channels = channels;
        index = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < images.Count; i++) index[images[i]] = i;
    }

    /// <summary>Image names, in storage order.</summary>
    public IReadOnlyList<string> Images { get; }

    /// <summary>Feature vectors per image (49).</summary>
    public int Regions { get; }

    /// <summary>Length of a feature vector (512).</summary>
    public int Channels { get; }

    /// <summary>Whether features of <paramref name="image"/> are held.</summary>
    public bool Contains(string image) => index.ContainsKey(image);

    /// <summary>The features of <paramref name="images"/> as float32 <c>[count, regions, channels]</c>.</summary>
    /// <exception cref="KeyNotFoundException">An image is not in the set.</exception>
    public Tensor Batch(IReadOnlyList<string> images)
    {
        var size = Regions * Channels;
        var values = new float[images.Count * size];
        for (var b = 0; b < images.Count; b++)
        {
            if (!index.TryGetValue(images[b], out var i))
                throw new KeyNotFoundException($"No cached features for image '{images[b]}'; build the cache over an image list that includes it.");
            var source = data.AsSpan(i * size, size);
            var target = values.AsSpan(b * size, size);
            for (var k = 0; k < size; k++) target[k] = (float)source[k];
        }
        return tensor(values, [images.Count, Regions, Channels]);
    }
}

/// <summary>
/// An on-disk cache of encoder features for a list of images: built once with progress, written atomically,
/// and rebuilt when the encoder or the image list changes or the file is damaged.
/// </summary>
/// <remarks>
/// File layout: the 8 bytes <c>RNNFEAT1</c>, a little-endian int32 header length, the header as JSON
/// (<see cref="FeatureCacheHeader"/>), then float16 values <c>[images, regions, channels]</c>. Its exact length
/// follows from the header, so a truncated copy is recognised before any value is used.
/// Introduced in 06-image-captioning.
/// </remarks>
public static class FeatureCache
{
    /// <summary>Current file layout.</summary>
    public const int FormatVersion = 1;
    static readonly byte[] Magic = "RNNFEAT1"u8.ToArray();

    /// <summary>The default cache folder: <c>artifacts/cache/features</c> under the repository when run from it, else the user cache.</summary>
    public static string DefaultDirectory
    {
        get
        {
            for (var dir = new DirectoryInfo(Environment.CurrentDirectory); dir is not null; dir = dir.Parent)
                if (File.Exists(Path.Combine(dir.FullName, "RnnNotebooks.sln")))
                    return Path.Combine(dir.FullName, "artifacts", "cache", "features");
            return Path.Combine(Path.GetDirectoryName(Data.Datasets.CacheDirectory)!, "features");
        }
    }

    /// <summary>SHA-256 of the image names joined by newlines.</summary>
    public static string HashImageList(IEnumerable<string> images) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(string.Join('\n', images))));

    /// <summary>Reads only the header of a cache file.</summary>
    /// <exception cref="InvalidDataException">Not a feature cache, or its header is damaged.</exception>
    public static FeatureCacheHeader ReadHeader(string path)
    {
        using var stream = File.OpenRead(path);
        return ReadHeader(stream, path).Header;
    }

    /// <summary>Whether <paramref name="path"/> holds features of <paramref name="images"/> made by the encoder
    /// with <paramref name="encoderFingerprint"/>, and if not, why.</summary>
    public static (FeatureCacheStatus Status, string Reason) Check(string path, string encoderFingerprint, IReadOnlyList<string> images)
    {
        if (!File.Exists(path)) return (FeatureCacheStatus.Missing, $"{path}: no feature cache yet.");
        FeatureCacheHeader header;
        long dataStart;
        long length;
        try
        {
            using var stream = File.OpenRead(path);
            (header, dataStart) = ReadHeader(stream, path);
            length = stream.Length;
        }
        catch (InvalidDataException e)
        {
            return (FeatureCacheStatus.Corrupt, e.Message);
        }
        var expected = dataStart + (long)header.Images.Count * header.Regions * header.Channels * 2;
        if (length != expected)
            return (FeatureCacheStatus.Corrupt,
                $"{path}: {(length < expected ? "truncated" : "too long")}: {length:N0} bytes, its header promises {expected:N0} " +
                $"({header.Images.Count} images × {header.Regions} × {header.Channels} float16). It will be rebuilt; delete it to force that.");
        if (header.EncoderFingerprint != encoderFingerprint)
            return (FeatureCacheStatus.Stale, $"{path}: made by another encoder or preprocessing (fingerprint {Short(header.EncoderFingerprint)}…, now {Short(encoderFingerprint)}…).");
        var hash = HashImageList(images);
        if (header.ImageListHash != hash)
            return (FeatureCacheStatus.Stale, $"{path}: made for another image list ({header.Images.Count} images, hash {Short(header.ImageListHash)}…; now {images.Count}, {Short(hash)}…).");
        return (FeatureCacheStatus.Valid, $"{path}: {header.Images.Count} images, up to date.");
    }

    /// <summary>Loads a cache that <see cref="Check"/> finds valid.</summary>
    /// <exception cref="InvalidDataException">The cache is missing, stale or damaged; the message says which.</exception>
    public static ImageFeatureSet Load(string path, string encoderFingerprint, IReadOnlyList<string> images)
    {
        var (status, reason) = Check(path, encoderFingerprint, images);
        if (status != FeatureCacheStatus.Valid)
            throw new InvalidDataException($"{reason} Build it with FeatureCache.LoadOrBuild (or 'rnn caption features').");
        using var stream = File.OpenRead(path);
        var (header, _) = ReadHeader(stream, path);
        var data = new Half[(long)header.Images.Count * header.Regions * header.Channels];
        stream.ReadExactly(System.Runtime.InteropServices.MemoryMarshal.AsBytes(data.AsSpan()));
        return new ImageFeatureSet(header.Images, data, header.Regions, header.Channels);
    }

    /// <summary>
    /// Loads the cache at <paramref name="path"/>, or (re)builds it first when it is missing, stale or damaged:
    /// encodes every image with <paramref name="encode"/> (which returns <c>[regions × channels]</c>
    /// floats), showing progress, and writes the file atomically.
    /// </summary>
    /// <param name="path">The cache file.</param>
    /// <param name="encoderFingerprint">Identifies the encoder; a different one invalidates the cache.</param>
    /// <param name="images">Image names (the keys), in order.</param>
    /// <param name="encode">Features of one image, given its name.</param>
    /// <param name="regions">Vectors per image.</param>
    /// <param name="channels">Length of a vector.</param>
    /// <param name="log">Told why the cache is (re)built, and how long it took.</param>
    public static ImageFeatureSet LoadOrBuild(string path, string encoderFingerprint, IReadOnlyList<string> images,
        Func<string, float[]> encode, int regions = ResNet18Encoder.Regions, int channels = ResNet18Encoder.Channels,
        Action<string>? log = null)
    {
        ArgumentNullException.ThrowIfNull(images);
        ArgumentNullException.ThrowIfNull(encode);
        var (status, reason) = Check(path, encoderFingerprint, images);
        if (status == FeatureCacheStatus.Valid) return Load(path, encoderFingerprint, images);
        log?.Invoke($"{reason} Extracting features of {images.Count} images…");
        var size = regions * channels;
        var data = new Half[(long)images.Count * size];
        var progress = new LiveProgress($"ResNet-18 features of {images.Count} images");
        var clock = Stopwatch.StartNew();
        for (var i = 0; i < images.Count; i++)
        {
            var features = encode(images[i]);
            if (features.Length != size)
                throw new ArgumentException($"The encoder returned {features.Length} values for '{images[i]}'; expected {regions}×{channels}.", nameof(encode));
            var target = data.AsSpan(i * size, size);
            for (var k = 0; k < size; k++) target[k] = (Half)features[k];
            var perImage = clock.Elapsed / (i + 1);
            progress.Show(new ProgressReading(i + 1, images.Count,
                [new("images/s", (i + 1) / Math.Max(clock.Elapsed.TotalSeconds, 1e-9))], clock.Elapsed, perImage * (images.Count - i - 1)));
        }
        progress.Complete(new ProgressReading(images.Count, images.Count,
            [new("images/s", images.Count / Math.Max(clock.Elapsed.TotalSeconds, 1e-9))], clock.Elapsed, TimeSpan.Zero));
        var header = new FeatureCacheHeader(FormatVersion, encoderFingerprint, HashImageList(images), regions, channels, images);
        Write(path, header, data);
        log?.Invoke($"{path}: wrote features of {images.Count} images in {clock.Elapsed.TotalSeconds:0.0} s.");
        return new ImageFeatureSet(images, data, regions, channels);
    }

    static string Short(string hash) => hash.Length > 12 ? hash[..12] : hash;

    static void Write(string path, FeatureCacheHeader header, Half[] data)
    {
        var json = JsonSerializer.SerializeToUtf8Bytes(header, Json.Options);
        AtomicFile.Write(path, temp =>
        {
            using var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write);
            stream.Write(Magic);
            stream.Write(BitConverter.GetBytes(json.Length));
            stream.Write(json);
            stream.Write(System.Runtime.InteropServices.MemoryMarshal.AsBytes(data.AsSpan()));
            stream.Flush(flushToDisk: true);
        });
    }

    static (FeatureCacheHeader Header, long DataStart) ReadHeader(Stream stream, string path)
    {
        var prefix = new byte[12];
        if (stream.ReadAtLeast(prefix, 12, throwOnEndOfStream: false) < 12 || !prefix.AsSpan(0, 8).SequenceEqual(Magic))
            throw new InvalidDataException($"{path}: not a feature cache (no RNNFEAT1 header); delete it and build the cache again.");
        var length = BitConverter.ToInt32(prefix, 8);
        if (length <= 0 || length > stream.Length - 12)
            throw new InvalidDataException($"{path}: truncated inside its header; delete it and build the cache again.");
        var json = new byte[length];
        stream.ReadExactly(json);
        FeatureCacheHeader? header;
        try
        {
            header = JsonSerializer.Deserialize<FeatureCacheHeader>(json, Json.Options);
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path}: damaged header ({e.Message}); delete it and build the cache again.", e);
        }
        if (header?.Images is null || header.EncoderFingerprint is null || header.ImageListHash is null)
            throw new InvalidDataException($"{path}: header lacks required fields; delete it and build the cache again.");
        if (header.FormatVersion != FormatVersion)
            throw new InvalidDataException($"{path}: cache format {header.FormatVersion}, this library reads {FormatVersion}; it will be rebuilt.");
        return (header, 12 + length);
    }
}
