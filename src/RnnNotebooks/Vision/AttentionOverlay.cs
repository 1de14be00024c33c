namespace RnnNotebooks.Vision;

/// <summary>Draws a decoder's attention over a photo: the 7×7 weights upsampled smoothly to the image and used
/// to dim the regions the model did not look at.</summary>
/// <remarks>Introduced in 06-image-captioning.</remarks>
public static class AttentionOverlay
{
    /// <summary>
    /// The photo <c>[height, width, 3]</c> with pixels scaled by <c>floor + (1 − floor) · a / max(a)</c>, where
    /// <c>a</c> is the attention map bilinearly upsampled from its <paramref name="grid"/>×<paramref name="grid"/> cells
    /// (cell centres at the centres of the image's 32-pixel blocks), so the attended objects stay bright.
    /// </summary>
    /// <param name="image">The photo the encoder saw (224×224).</param>
    /// <param name="weights">Attention over the regions, row-major, <c>grid²</c> values.</param>
    /// <param name="grid">Side of the attention grid (7 for ResNet-18 at 224 pixels).</param>
    /// <param name="floor">Brightness kept where the attention is zero.</param>
    /// <param name="size">Side of the result (nearest-pixel downsampling; default the image's own size). A grid of
    /// many overlays is sent to the browser pixel by pixel, so smaller pictures keep notebooks light.</param>
    public static byte[,,] Blend(RgbImage image, IReadOnlyList<float> weights, int grid = ResNet18Encoder.Grid, double floor = 0.15,
        int? size = null)
    {
        ArgumentNullException.ThrowIfNull(image);
        ArgumentNullException.ThrowIfNull(weights);
        if (weights.Count != grid * grid)
            throw new ArgumentException($"Expected {grid * grid} attention weights ({grid}×{grid}), got {weights.Count}.", nameof(weights));
        var map = Upsample(weights, grid, image.Width, image.Height);
        var max = Math.Max(map.Cast<double>().Max(), 1e-12);
        int outH = size ?? image.Height, outW = size ?? image.Width;
        var result = new byte[outH, outW, 3];
        for (var oy = 0; oy < outH; oy++)
            for (var ox = 0; ox < outW; ox++)
            {
                int y = oy * image.Height / outH, x = ox * image.Width / outW;
                var scale = floor + (1 - floor) * map[y, x] / max;
                for (var c = 0; c < 3; c++)
                    result[oy, ox, c] = (byte)Math.Clamp(Math.Round(image.Pixels[(y * image.Width + x) * 3 + c] * scale), 0, 255);
            }
        return result;
    }

    /// <summary>
    /// How many regions attention weights are "worth": <c>exp(entropy)</c>, from 1 (all weight on one region) to the
    /// number of regions (uniform). A readable measure of how sharp a word's attention map is.
    /// </summary>
    /// <exception cref="ArgumentException">No weights, or negative ones.</exception>
    public static double EffectiveRegions(IReadOnlyList<float> weights)
    {
        ArgumentNullException.ThrowIfNull(weights);
        if (weights.Count == 0 || weights.Any(w => w < 0 || float.IsNaN(w)))
            throw new ArgumentException("Attention weights must be a non-empty list of non-negative numbers.", nameof(weights));
        var total = weights.Sum(w => (double)w);
        var entropy = -weights.Where(w => w > 0).Sum(w => w / total * Math.Log(w / total));
        return Math.Exp(entropy);
    }

    /// <summary>Bilinear upsampling of a <c>grid × grid</c> map to <c>height × width</c> (edges clamped).</summary>
    public static double[,] Upsample(IReadOnlyList<float> weights, int grid, int width, int height)
    {
        var map = new double[height, width];
        for (var y = 0; y < height; y++)
        {
            var gy = Math.Clamp((y + 0.5) * grid / height - 0.5, 0, grid - 1);
            int y0 = (int)Math.Floor(gy), y1 = Math.Min(y0 + 1, grid - 1);
            var fy = gy - y0;
            for (var x = 0; x < width; x++)
            {
                var gx = Math.Clamp((x + 0.5) * grid / width - 0.5, 0, grid - 1);
                int x0 = (int)Math.Floor(gx), x1 = Math.Min(x0 + 1, grid - 1);
                var fx = gx - x0;
                map[y, x] = (1 - fy) * ((1 - fx) * weights[y0 * grid + x0] + fx * weights[y0 * grid + x1])
                    + fy * ((1 - fx) * weights[y1 * grid + x0] + fx * weights[y1 * grid + x1]);
            }
        }
        return map;
    }
}
