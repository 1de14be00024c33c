using SkiaSharp;

namespace RnnNotebooks.Vision;

/// <summary>An 8-bit RGB image: <see cref="Pixels"/> holds rows top to bottom, each pixel R, G, B.</summary>
/// <remarks>Introduced in 06-image-captioning.</remarks>
public sealed record RgbImage(int Width, int Height, byte[] Pixels)
{
    /// <summary>The image as <c>[height, width, 3]</c>, the layout <see cref="Notebook.Charts.ImageGrid"/> takes.</summary>
    public byte[,,] ToArray()
    {
        var a = new byte[Height, Width, 3];
        Buffer.BlockCopy(Pixels, 0, a, 0, Pixels.Length);
        return a;
    }

    /// <summary>
    /// Decodes a JPEG, PNG, WebP, GIF or BMP file and scales it so its shorter side is <paramref name="size"/>,
    /// then crops the centre square (the framing ResNet was trained on). Flickr8k's photos are already
    /// 224×224, so for them this only decodes.
    /// </summary>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InvalidDataException">The file is not an image SkiaSharp can decode (corrupt, truncated, or another format).</exception>
    public static RgbImage Load(string path, int size = 224)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentOutOfRangeException.ThrowIfLessThan(size, 1);
        VisionNatives.Prepare();
        if (!File.Exists(path))
            throw new FileNotFoundException($"{path}: no such image file. Check the path (relative paths resolve against {Environment.CurrentDirectory}).", path);
        using var decoded = SKBitmap.Decode(path)
            ?? throw new InvalidDataException(
                $"{path}: could not be decoded as an image ({new FileInfo(path).Length} bytes). Expected a JPEG, PNG, WebP, GIF or BMP " +
                "file; the file is corrupt, truncated or of another type. Re-download or re-export it.");
        return FromBitmap(decoded, size);
    }

    /// <summary>Like <see cref="Load(string, int)"/> for an image already in memory (e.g. drawn in a test).</summary>
    public static RgbImage FromBitmap(SKBitmap bitmap, int size = 224)
    {
        ArgumentNullException.ThrowIfNull(bitmap);
        VisionNatives.Prepare();
        var scale = (double)size / Math.Min(bitmap.Width, bitmap.Height);
        var w = Math.Max(size, (int)Math.Round(bitmap.Width * scale));
        var h = Math.Max(size, (int)Math.Round(bitmap.Height * scale));
        var info = new SKImageInfo(w, h, SKColorType.Rgba8888, SKAlphaType.Unpremul);
        using var resized = w == bitmap.Width && h == bitmap.Height && bitmap.ColorType == SKColorType.Rgba8888
            ? bitmap.Copy()
            : bitmap.Resize(info, SKFilterQuality.Medium)
              ?? throw new InvalidDataException($"SkiaSharp could not resize a {bitmap.Width}×{bitmap.Height} image.");
        using var rgba = resized.ColorType == SKColorType.Rgba8888 ? resized.Copy() : resized.Copy(SKColorType.Rgba8888);
        var source = rgba.GetPixelSpan();
        var stride = rgba.RowBytes;
        int left = (w - size) / 2, top = (h - size) / 2;
        var pixels = new byte[size * size * 3];
        for (var y = 0; y < size; y++)
            for (var x = 0; x < size; x++)
            {
                var s = (top + y) * stride + (left + x) * 4;
                var d = (y * size + x) * 3;
                pixels[d] = source[s];
                pixels[d + 1] = source[s + 1];
                pixels[d + 2] = source[s + 2];
            }
        return new RgbImage(size, size, pixels);
    }
}
