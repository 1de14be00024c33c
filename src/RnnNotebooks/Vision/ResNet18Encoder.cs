using System.Security.Cryptography;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace RnnNotebooks.Vision;

/// <summary>What the encoder returns for one image.</summary>
/// <param name="Spatial">The last convolutional feature map, <c>[512, 7, 7]</c> (channel-major), one 512-vector
/// per 32×32-pixel region of the photo: what attention looks at.</param>
/// <param name="Pooled">The model's own output after global average pooling, <c>[512]</c>.</param>
/// <remarks>Introduced in 06-image-captioning.</remarks>
public sealed record EncodedImage(float[] Spatial, float[] Pooled)
{
    /// <summary>The spatial map as <c>[49 regions, 512]</c> (row-major over the 7×7 grid), the layout the decoder attends over.</summary>
    public float[] RegionsFirst()
    {
        var r = new float[ResNet18Encoder.Regions * ResNet18Encoder.Channels];
        for (var c = 0; c < ResNet18Encoder.Channels; c++)
            for (var k = 0; k < ResNet18Encoder.Regions; k++)
                r[k * ResNet18Encoder.Channels + c] = Spatial[c * ResNet18Encoder.Regions + k];
        return r;
    }
}

/// <summary>
/// The ImageNet-pretrained ResNet-18 from <c>Microsoft.ML.DnnImageFeaturizer.ResNet18</c>, run by ONNX Runtime,
/// returning both the 7×7×512 map before global pooling and the pooled 512-vector.
/// </summary>
/// <remarks>
/// The shipped graph only outputs <c>Pooling395_Output_0</c>; its input to the pooling, <c>ReLU393_Output_0</c>,
/// is added as a second graph output when the model is loaded (<see cref="OnnxModelFile.WithExtraOutputs"/>).
/// The graph's input is fixed at batch 1, so images go through one at a time (~40 ms each on 2 threads).
/// Introduced in 06-image-captioning.
/// </remarks>
public sealed class ResNet18Encoder : IDisposable
{
    /// <summary>Channels of the feature map.</summary>
    public const int Channels = 512;
    /// <summary>Regions of the feature map (7 × 7).</summary>
    public const int Regions = 49;
    /// <summary>Side of the feature-map grid.</summary>
    public const int Grid = 7;

    const string InputName = "Input247";
    const string SpatialName = "ReLU393_Output_0";
    const string PooledName = "Pooling395_Output_0";
    // Bump when the preprocessing changes, so cached features are rebuilt.
    const string PreprocessingVersion = "skia-bgr-meanimage-v1";

    readonly InferenceSession session;

    /// <summary>Loads the model from <paramref name="modelDirectory"/> (default: <see cref="FindModelDirectory"/>).</summary>
    /// <param name="modelDirectory">A folder holding <c>ResNet18Onnx/ResNet18.onnx</c> and <c>ResNetPrepOnnx/ResNetPreprocess.onnx</c>.</param>
    /// <param name="threads">ONNX Runtime's intra-op threads (default: the cores available).</param>
    public ResNet18Encoder(string? modelDirectory = null, int? threads = null)
    {
        VisionNatives.Prepare();
        var dir = modelDirectory ?? FindModelDirectory();
        ModelPath = Path.Combine(dir, "ResNet18Onnx", "ResNet18.onnx");
        PreprocessPath = Path.Combine(dir, "ResNetPrepOnnx", "ResNetPreprocess.onnx");
        foreach (var p in new[] { ModelPath, PreprocessPath })
            if (!File.Exists(p))
                throw new FileNotFoundException($"{p}: missing. It ships in the NuGet package Microsoft.ML.DnnImageFeaturizer.ResNet18; run 'dotnet build' so it is copied beside the library.", p);
        var model = File.ReadAllBytes(ModelPath);
        Preprocessing = new ResNetPreprocessing(PreprocessPath);
        using (var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256))
        {
            sha.AppendData(model);
            sha.AppendData(File.ReadAllBytes(PreprocessPath));
            sha.AppendData(System.Text.Encoding.UTF8.GetBytes(PreprocessingVersion));
            // The JPEG decoder and resampler are part of the pipeline too: another SkiaSharp may give other pixels.
            sha.AppendData(System.Text.Encoding.UTF8.GetBytes(DecoderVersion));
            Fingerprint = Convert.ToHexStringLower(sha.GetHashAndReset());
        }
        using var options = new SessionOptions { IntraOpNumThreads = threads ?? Environment.ProcessorCount, InterOpNumThreads = 1 };
        session = new InferenceSession(OnnxModelFile.WithExtraOutputs(model, SpatialName), options);
    }

    /// <summary>The image library that decodes and resizes photos (SkiaSharp's managed and native versions).</summary>
    public static string DecoderVersion =>
        $"SkiaSharp {typeof(SkiaSharp.SKBitmap).Assembly.GetName().Version} native {SkiaSharp.SkiaSharpVersion.Native}";

    /// <summary>The ONNX model file.</summary>
    public string ModelPath { get; }

    /// <summary>The preprocessing model file the mean image comes from.</summary>
    public string PreprocessPath { get; }

    /// <summary>Image → network input, matching <c>ResNetPreprocess.onnx</c>.</summary>
    public ResNetPreprocessing Preprocessing { get; }

    /// <summary>SHA-256 over both model files, the preprocessing version and <see cref="DecoderVersion"/>: changes whenever features would.</summary>
    public string Fingerprint { get; }

    /// <summary>The folder holding the package's <c>DnnImageModels</c>: beside the library, else in the NuGet cache.</summary>
    /// <exception cref="DirectoryNotFoundException">Neither exists.</exception>
    public static string FindModelDirectory()
    {
        var candidates = new List<string>();
        var here = Path.GetDirectoryName(typeof(ResNet18Encoder).Assembly.Location);
        if (!string.IsNullOrEmpty(here)) candidates.Add(Path.Combine(here, "DnnImageModels"));
        candidates.Add(Path.Combine(AppContext.BaseDirectory, "DnnImageModels"));
        var nuget = Environment.GetEnvironmentVariable("NUGET_PACKAGES") is { Length: > 0 } n
            ? n
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        candidates.Add(Path.Combine(nuget, "microsoft.ml.dnnimagefeaturizer.resnet18", "0.23.1", "tools", "DnnImageModels"));
        return candidates.FirstOrDefault(c => File.Exists(Path.Combine(c, "ResNet18Onnx", "ResNet18.onnx")))
            ?? throw new DirectoryNotFoundException(
                $"ResNet18.onnx not found in {string.Join(", ", candidates)}. Run 'dotnet build' (it restores " +
                "Microsoft.ML.DnnImageFeaturizer.ResNet18 and copies the model beside the library).");
    }

    /// <summary>Encodes one image file (decoded and centre-cropped to 224×224 first).</summary>
    public EncodedImage Encode(string imagePath) => Encode(RgbImage.Load(imagePath, ResNetPreprocessing.Size));

    /// <summary>Encodes one 224×224 image.</summary>
    public EncodedImage Encode(RgbImage image) => EncodeInput(Preprocessing.ToInput(image));

    /// <summary>Runs the network on an already preprocessed input <c>[3, 224, 224]</c>.</summary>
    public EncodedImage EncodeInput(float[] input)
    {
        var tensor = new DenseTensor<float>(input, [1, 3, ResNetPreprocessing.Size, ResNetPreprocessing.Size]);
        using var results = session.Run([NamedOnnxValue.CreateFromTensor(InputName, tensor)], [SpatialName, PooledName]);
        var spatial = results.First(r => r.Name == SpatialName).AsEnumerable<float>().ToArray();
        var pooled = results.First(r => r.Name == PooledName).AsEnumerable<float>().ToArray();
        if (spatial.Length != Channels * Regions || pooled.Length != Channels)
            throw new InvalidDataException($"{ModelPath}: returned {spatial.Length} and {pooled.Length} values; expected {Channels}×{Grid}×{Grid} and {Channels}.");
        return new EncodedImage(spatial, pooled);
    }

    /// <inheritdoc />
    public void Dispose() => session.Dispose();
}
