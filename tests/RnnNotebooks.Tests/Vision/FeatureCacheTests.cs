using RnnNotebooks.Vision;
using TorchSharp;

namespace RnnNotebooks.Tests.Vision;

public sealed class FeatureCacheTests : IDisposable
{
    readonly string dir = Path.Combine(Path.GetTempPath(), $"featcache-{Guid.NewGuid():N}");
    string PathOf => Path.Combine(dir, "test.features");
    int encoded;

    float[] FakeEncode(string image)
    {
        encoded++;
        var v = image.GetHashCode() % 100 / 10f;
        return [.. Enumerable.Range(0, 4 * 3).Select(k => v + k)];
    }

    ImageFeatureSet Build(string fingerprint, IReadOnlyList<string> images) =>
        FeatureCache.LoadOrBuild(PathOf, fingerprint, images, FakeEncode, regions: 4, channels: 3);

    [Fact]
    public void LoadOrBuild_SecondCall_ReadsCacheWithoutEncoding()
    {
        var set = Build("enc-a", ["a.jpg", "b.jpg"]);
        Assert.Equal(2, encoded);
        var again = Build("enc-a", ["a.jpg", "b.jpg"]);
        Assert.Equal(2, encoded);
        using var scope = torch.NewDisposeScope();
        Assert.Equal(set.Batch(["b.jpg"]).data<float>().ToArray(), again.Batch(["b.jpg"]).data<float>().ToArray());
        Assert.Equal(new long[] { 2, 4, 3 }, again.Batch(["a.jpg", "b.jpg"]).shape);
        // float16 storage: about 3 significant digits survive.
        Assert.All(FakeEncode("b.jpg").Zip(again.Batch(["b.jpg"]).data<float>().ToArray()), p => Assert.Equal(p.First, p.Second, 0.01));
    }

    [Fact]
    public void LoadOrBuild_EncoderOrImagesChange_Rebuilds()
    {
        Build("enc-a", ["a.jpg", "b.jpg"]);
        Assert.Equal(FeatureCacheStatus.Stale, FeatureCache.Check(PathOf, "enc-b", ["a.jpg", "b.jpg"]).Status);
        Assert.Equal(FeatureCacheStatus.Stale, FeatureCache.Check(PathOf, "enc-a", ["a.jpg", "c.jpg"]).Status);
        Build("enc-b", ["a.jpg", "b.jpg"]);
        Assert.Equal(4, encoded);
        Build("enc-b", ["a.jpg", "b.jpg", "c.jpg"]);
        Assert.Equal(7, encoded);
        Assert.Equal(FeatureCacheStatus.Valid, FeatureCache.Check(PathOf, "enc-b", ["a.jpg", "b.jpg", "c.jpg"]).Status);
    }

    [Fact]
    public void Load_TruncatedCache_IsDetectedWithClearError_AndRebuilt()
    {
        Build("enc-a", ["a.jpg", "b.jpg"]);
        using (var stream = new FileStream(PathOf, FileMode.Open)) stream.SetLength(stream.Length - 5);
        var (status, reason) = FeatureCache.Check(PathOf, "enc-a", ["a.jpg", "b.jpg"]);
        Assert.Equal(FeatureCacheStatus.Corrupt, status);
        Assert.Contains("truncated", reason);
        var e = Assert.Throws<InvalidDataException>(() => FeatureCache.Load(PathOf, "enc-a", ["a.jpg", "b.jpg"]));
        Assert.Contains(PathOf, e.Message);
        Build("enc-a", ["a.jpg", "b.jpg"]);
        Assert.Equal(4, encoded);
        Assert.Equal(FeatureCacheStatus.Valid, FeatureCache.Check(PathOf, "enc-a", ["a.jpg", "b.jpg"]).Status);
    }

    [Fact]
    public void Load_NotACache_IsCorrupt()
    {
        Directory.CreateDirectory(dir);
        File.WriteAllText(PathOf, "hello");
        Assert.Equal(FeatureCacheStatus.Corrupt, FeatureCache.Check(PathOf, "x", ["a"]).Status);
        Assert.Equal(FeatureCacheStatus.Missing, FeatureCache.Check(PathOf + "2", "x", ["a"]).Status);
    }

    public void Dispose()
    {
        if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
    }
}

public sealed class AttentionOverlayTests
{
    [Fact]
    public void Blend_KeepsAttendedCornerBright_AndDimsTheRest()
    {
        var image = new RgbImage(224, 224, Enumerable.Repeat((byte)200, 224 * 224 * 3).ToArray());
        var weights = new float[49];
        weights[0] = 1;   // top-left cell only
        var blended = AttentionOverlay.Blend(image, weights);
        Assert.Equal(200, blended[5, 5, 0]);
        Assert.Equal(30, blended[200, 200, 1]);   // floor 0.15 × 200
        Assert.True(blended[40, 40, 2] is > 30 and < 200, "between cells the map is interpolated");
        Assert.Throws<ArgumentException>(() => AttentionOverlay.Blend(image, new float[48]));
    }

    [Fact]
    public void EffectiveRegions_IsOneForAPeak_AllForUniform_AndTwoForAnEvenSplit()
    {
        var peak = new float[49];
        peak[7] = 1;
        Assert.Equal(1.0, AttentionOverlay.EffectiveRegions(peak), 9);
        Assert.Equal(49.0, AttentionOverlay.EffectiveRegions(Enumerable.Repeat(1f / 49, 49).ToArray()), 4);
        Assert.Equal(2.0, AttentionOverlay.EffectiveRegions([0.5f, 0.5f, 0f, 0f]), 9);
        Assert.Throws<ArgumentException>(() => AttentionOverlay.EffectiveRegions([0.5f, -0.1f]));
        Assert.Throws<ArgumentException>(() => AttentionOverlay.EffectiveRegions([]));
    }
}
