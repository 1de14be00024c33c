using System.Text.Json;
using RnnNotebooks.Captioning;
using RnnNotebooks.Data;
using RnnNotebooks.Tests.Models;
using RnnNotebooks.Training;
using RnnNotebooks.Translation;
using SkiaSharp;
using RnnNotebooks.Tests.Data;

namespace RnnNotebooks.Tests.Cli;

/// <summary>Runs <c>rnn caption</c> in-process, capturing what it prints.</summary>
[Collection("ProcessState")]
public sealed class CaptionCliTests : IDisposable
{
    readonly string dir = Path.Combine(Path.GetTempPath(), $"rnn-caption-{Guid.NewGuid():N}");
    readonly ITestOutputHelper log;

    public CaptionCliTests(ITestOutputHelper log)
    {
        this.log = log;
        Directory.CreateDirectory(dir);
        SingleThreadedTorch.Ensure();
    }

    public void Dispose() => Directory.Delete(dir, recursive: true);

    static (int Code, string Out, string Err) Run(params string[] args) => CliRun.Invoke(args);

    /// <summary>An untrained captioner over 512-d ResNet features, saved to a checkpoint.</summary>
    string SaveUntrainedCheckpoint(string name = "ckpt", string caption = "a dog runs", bool attention = true)
    {
        var images = new[] { new CaptionedImage("x.jpg", [caption], [[.. caption.Split(' ')]]) };
        var captioner = CaptionTraining.Create(images, attention, hidden: 16, embedding: 8, attentionSize: 8, minCount: 1);
        var checkpoint = Path.Combine(dir, name);
        captioner.Save(checkpoint, null, TrainingState.Start(new TrainerOptions()));
        return checkpoint;
    }

    [Fact]
    public void Caption_Usage_ErrorsExitWith2()
    {
        Assert.Equal(2, Run("caption").Code);
        Assert.Equal(2, Run("caption", "fly").Code);
        var (code, _, err) = Run("caption", "eval", "--checkpoint", dir, "--beem", "3");
        Assert.Equal(2, code);
        Assert.Contains("beem", err);
        Assert.Equal(2, Run("caption", "run", "--checkpoint", dir).Code);
        (code, _, err) = Run("caption", "eval", "--checkpoint", dir, "--length-alpha", "-1");
        Assert.Equal(2, code);
        Assert.Contains("--length-alpha -1", err);
        (code, _, err) = Run("caption", "train", "--decay", "0");
        Assert.Equal(2, code);
        Assert.Contains("--decay 0", err);
        (code, _, err) = Run("caption", "train", "--attention", "hard");
        Assert.Equal(2, code);
        Assert.Contains("--attention hard", err);
    }

    [Fact]
    [Trait("Category", "Slow")]
    public void CaptionRun_PrintsImageTabCaption_AndUnreadableImageExits1NamingIt()
    {
        var checkpoint = SaveUntrainedCheckpoint();
        var photo = Path.Combine(dir, "drawn.png");
        using (var bitmap = new SKBitmap(300, 240))
        {
            using (var canvas = new SKCanvas(bitmap)) canvas.Clear(new SKColor(30, 120, 200));
            using var stream = File.Create(photo);
            bitmap.Encode(stream, SKEncodedImageFormat.Png, 100);
        }
        var (code, output, err) = Run("caption", "run", "--checkpoint", checkpoint, "--beam", "2", photo);
        Assert.True(code == 0, err);
        var fields = output.TrimEnd('\n').Split('\t');
        Assert.Equal(photo, fields[0]);
        Assert.Equal(2, fields.Length);

        // Two checkpoints decode as an ensemble; their vocabularies must match.
        var second = SaveUntrainedCheckpoint("ckpt2", attention: false);
        (code, output, err) = Run("caption", "run", "--checkpoint", checkpoint, "--checkpoint", second, "--beam", "2", photo);
        Assert.True(code == 0, err);
        Assert.Equal(photo, output.TrimEnd('\n').Split('\t')[0]);
        var other = SaveUntrainedCheckpoint("ckpt3", caption: "two cats sleep");
        (code, _, err) = Run("caption", "run", "--checkpoint", checkpoint, "--checkpoint", other, photo);
        Assert.Equal(1, code);
        Assert.Contains(other, err);
        Assert.Contains("different vocabulary", err);

        var broken = Path.Combine(dir, "broken.jpg");
        File.WriteAllText(broken, "not a jpeg");
        (code, _, err) = Run("caption", "run", "--checkpoint", checkpoint, broken);
        Assert.Equal(1, code);
        Assert.Contains(broken, err);
        Assert.Contains("could not be decoded", err);
    }

    [Fact]
    [Trait("Category", "Slow")]
    public void CaptionTrainThenEval_OnAFewRealPhotos_WritesCheckpointAndBleuJson()
    {
        RequiredData.Dataset("flickr8k");
        var cache = Path.Combine(dir, "cache");
        var checkpoint = Path.Combine(dir, "run");
        var (code, output, err) = Run("caption", "train", "--max-images", "12", "--epochs", "1", "--hidden", "32", "--embedding", "16",
            "--min-count", "1", "--cache", cache, "--out", checkpoint, "--threads", "1");
        log.WriteLine(err);
        Assert.True(code == 0, err);
        using (var json = JsonDocument.Parse(output)) Assert.Equal(1, json.RootElement.GetProperty("epochs").GetInt32());
        Assert.NotNull(RnnNotebooks.Training.Checkpoint.PathOf(checkpoint, Captioner.ConfigFile));

        (code, output, err) = Run("caption", "eval", "--checkpoint", checkpoint, "--split", "test", "--beam", "2", "--max-images", "12",
            "--cache", cache);
        Assert.True(code == 0, err);
        using var result = JsonDocument.Parse(output);
        Assert.Equal(12, result.RootElement.GetProperty("images").GetInt32());
        foreach (var key in new[] { "bleu_1", "bleu_2", "bleu_3", "bleu_4" })
            Assert.InRange(result.RootElement.GetProperty(key).GetDouble(), 0, 100);
        var lines = File.ReadAllLines(result.RootElement.GetProperty("captions_file").GetString()!);
        Assert.Equal(12, lines.Length);
        Assert.All(lines, l => Assert.EndsWith(".jpg", l.Split('\t')[0]));
        Assert.Empty(Directory.GetFiles(cache, "*.tmp"));
    }
}
