namespace RnnNotebooks.Vision;

/// <summary>
/// Turns an RGB image into the input of the ImageNet ResNet-18 shipped by
/// <c>Microsoft.ML.DnnImageFeaturizer.ResNet18</c>: planar <b>BGR</b>, 0–255, minus a per-pixel mean image.
/// </summary>
/// <remarks>
/// This is what the package's own <c>ResNetPreprocess.onnx</c> does (Split R,G,B → Concat B,G,R → Sub
/// <c>MeanImage</c> [1,3,224,224], channel means ≈ 103, 116, 123): the Caffe convention the network was trained
/// with, not the torchvision one (RGB scaled to 0–1 and divided by a standard deviation). The mean image is read
/// from that file, so the two cannot drift apart; a test compares this class with the ONNX graph itself.
/// Introduced in 06-image-captioning.
/// </remarks>
public sealed class ResNetPreprocessing
{
    /// <summary>Input side length the network expects.</summary>
    public const int Size = 224;

    readonly float[] meanImage;   // [3 (B, G, R), 224, 224]

    /// <summary>Reads the mean image from the package's <c>ResNetPreprocess.onnx</c>.</summary>
    public ResNetPreprocessing(string preprocessModelPath)
    {
        var (dims, values) = OnnxModelFile.ReadFloatInitializer(File.ReadAllBytes(preprocessModelPath), "MeanImage");
        if (!dims.SequenceEqual([1L, 3, Size, Size]))
            throw new InvalidDataException($"{preprocessModelPath}: MeanImage is [{string.Join(", ", dims)}], expected [1, 3, {Size}, {Size}].");
        meanImage = values;
    }

    /// <summary>The per-pixel mean in the network's channel order (B, G, R), <c>[3 × 224 × 224]</c>.</summary>
    public ReadOnlySpan<float> MeanImage => meanImage;

    /// <summary>The network input <c>[3, 224, 224]</c> (B, G, R planes, mean subtracted) of a 224×224 image.</summary>
    public float[] ToInput(RgbImage image)
    {
        ArgumentNullException.ThrowIfNull(image);
        if (image.Width != Size || image.Height != Size)
            throw new ArgumentException($"Expected a {Size}×{Size} image, got {image.Width}×{image.Height}; load it with RgbImage.Load(path, {Size}).", nameof(image));
        const int plane = Size * Size;
        var input = new float[3 * plane];
        var p = image.Pixels;
        for (var i = 0; i < plane; i++)
        {
            input[i] = p[3 * i + 2] - meanImage[i];                       // B
            input[plane + i] = p[3 * i + 1] - meanImage[plane + i];       // G
            input[2 * plane + i] = p[3 * i] - meanImage[2 * plane + i];   // R
        }
        return input;
    }
}
