using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using RnnNotebooks.Data;
using RnnNotebooks.Vision;
using SkiaSharp;
using RnnNotebooks.Tests.Data;

namespace RnnNotebooks.Tests.Vision;

/// <summary>Shared ResNet-18 session: loading the 64 MB model takes about a second.</summary>
public sealed class EncoderFixture : IDisposable
{
    public ResNet18Encoder Encoder { get; } = new(threads: 1);
    public void Dispose() => Encoder.Dispose();
}

public sealed class VisionTests(EncoderFixture fixture, ITestOutputHelper output) : IClassFixture<EncoderFixture>
{
    const int Plane = 224 * 224;

    /// <summary>A 224×224 image whose left half is pure red and right half pure blue.</summary>
    static RgbImage RedBlue()
    {
        using var bitmap = new SKBitmap(new SKImageInfo(224, 224, SKColorType.Rgba8888, SKAlphaType.Unpremul));
        using (var canvas = new SKCanvas(bitmap))
        {
            canvas.Clear(new SKColor(255, 0, 0));
            using var paint = new SKPaint { Color = new SKColor(0, 0, 255) };
            canvas.DrawRect(112, 0, 112, 224, paint);
        }
        return RgbImage.FromBitmap(bitmap);
    }

    [Fact]
    public void Preprocess_SyntheticImage_UsesModelChannelOrder()
    {
        var image = RedBlue();
        Assert.Equal(new byte[] { 255, 0, 0 }, image.Pixels[..3]);
        var input = fixture.Encoder.Preprocessing.ToInput(image);
        var mean = fixture.Encoder.Preprocessing.MeanImage;
        var left = 10 * 224 + 10;      // red pixel
        var right = 10 * 224 + 200;    // blue pixel
        // Plane 0 is blue, plane 2 red (BGR), each 0–255 minus the per-pixel mean.
        Assert.Equal(0 - mean[left], input[left], 3);
        Assert.Equal(0 - mean[Plane + left], input[Plane + left], 3);
        Assert.Equal(255 - mean[2 * Plane + left], input[2 * Plane + left], 3);
        Assert.Equal(255 - mean[right], input[right], 3);
        Assert.Equal(0 - mean[2 * Plane + right], input[2 * Plane + right], 3);
        // The means are Caffe's BGR ImageNet means (B ≈ 103, R ≈ 123), so the order cannot be silently swapped.
        Assert.InRange(mean[left], 95, 116);
        Assert.InRange(mean[2 * Plane + left], 118, 130);
    }

    [Fact]
    public void Preprocess_SyntheticImage_MatchesPackagedPreprocessGraph()
    {
        var image = RedBlue();
        var rgbPlanar = new float[3 * Plane];
        for (var i = 0; i < Plane; i++)
            for (var c = 0; c < 3; c++) rgbPlanar[c * Plane + i] = image.Pixels[3 * i + c];
        using var session = new InferenceSession(fixture.Encoder.PreprocessPath);
        var input = new DenseTensor<float>(rgbPlanar, [1, 3, 224, 224]);
        using var results = session.Run([NamedOnnxValue.CreateFromTensor("OriginalInput", input)]);
        var expected = results.First().AsEnumerable<float>().ToArray();
        var actual = fixture.Encoder.Preprocessing.ToInput(image);
        Assert.Equal(expected.Length, actual.Length);
        Assert.True(expected.Zip(actual).All(p => Math.Abs(p.First - p.Second) < 1e-3), "ToInput differs from ResNetPreprocess.onnx");
    }

    [Fact]
    public void Load_CorruptFile_NamesTheFile()
    {
        var path = Path.Combine(Path.GetTempPath(), $"broken-{Guid.NewGuid():N}.jpg");
        File.WriteAllBytes(path, [0xFF, 0xD8, 0xFF, 0xE0, 1, 2, 3]);
        try
        {
            var e = Assert.Throws<InvalidDataException>(() => RgbImage.Load(path));
            Assert.Contains(path, e.Message);
            Assert.Throws<FileNotFoundException>(() => RgbImage.Load(path + ".missing"));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Load_NonSquareImage_IsResizedAndCenterCropped()
    {
        using var bitmap = new SKBitmap(new SKImageInfo(400, 200, SKColorType.Rgba8888, SKAlphaType.Unpremul));
        using (var canvas = new SKCanvas(bitmap))
        {
            canvas.Clear(new SKColor(0, 255, 0));
            using var paint = new SKPaint { Color = new SKColor(255, 0, 0) };
            canvas.DrawRect(0, 0, 50, 200, paint);   // a red strip that the centre crop removes
        }
        var image = RgbImage.FromBitmap(bitmap);
        Assert.Equal((224, 224), (image.Width, image.Height));
        Assert.Equal(new byte[] { 0, 255, 0 }, image.Pixels[..3]);
    }

    [Fact]
    public void Encoder_RealPhoto_SpatialMeanEqualsPooledOutput()
    {
        var location = Datasets.Locate("flickr8k");
        var photo = Path.Combine(location.Directory, "images", "1000268201_693b08cb0e.jpg");
        if (!File.Exists(photo)) RequiredData.Missing($"{photo} not found.");
        var encoded = fixture.Encoder.Encode(photo);
        Assert.Equal(512 * 49, encoded.Spatial.Length);
        Assert.Equal(512, encoded.Pooled.Length);
        var maxDiff = 0.0;
        for (var c = 0; c < 512; c++)
        {
            var mean = encoded.Spatial.AsSpan(c * 49, 49).ToArray().Average();
            maxDiff = Math.Max(maxDiff, Math.Abs(mean - encoded.Pooled[c]));
        }
        output.WriteLine($"max |mean(spatial) - pooled| = {maxDiff:g3}; pooled mean {encoded.Pooled.Average():0.000}");
        Assert.True(maxDiff < 1e-4, $"spatial mean differs from the pooled output by {maxDiff}");
        Assert.True(encoded.Pooled.Max() > 0.5, "a real photo should activate some channels");
        var regions = encoded.RegionsFirst();
        Assert.Equal(encoded.Spatial[3 * 49 + 5], regions[5 * 512 + 3]);
    }

    [Fact]
    public void OnnxModelFile_ListsOriginalAndExtraOutputs()
    {
        var model = File.ReadAllBytes(fixture.Encoder.ModelPath);
        Assert.Equal(["Input247"], OnnxModelFile.Inputs(model));
        Assert.Equal(["Pooling395_Output_0"], OnnxModelFile.Outputs(model));
        Assert.Equal(["Pooling395_Output_0", "ReLU393_Output_0"], OnnxModelFile.Outputs(OnnxModelFile.WithExtraOutputs(model, "ReLU393_Output_0")));
    }
}
