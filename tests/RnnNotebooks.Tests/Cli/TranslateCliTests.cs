using System.Text.Json;
using RnnNotebooks.Data;
using RnnNotebooks.Tests.Models;
using RnnNotebooks.Tests.Data;

namespace RnnNotebooks.Tests.Cli;

/// <summary>Runs <c>rnn metrics</c> and <c>rnn translate</c> in-process, capturing what they print.</summary>
[Collection("ProcessState")]
public sealed class TranslateCliTests : IDisposable
{
    readonly string dir = Path.Combine(Path.GetTempPath(), $"rnn-cli-{Guid.NewGuid():N}");

    public TranslateCliTests()
    {
        Directory.CreateDirectory(dir);
        SingleThreadedTorch.Ensure();
    }

    public void Dispose() => Directory.Delete(dir, recursive: true);

    static (int Code, string Out, string Err) Run(string stdin, params string[] args) => CliRun.WithInput(stdin, args);

    string Write(string name, string text)
    {
        var path = Path.Combine(dir, name);
        File.WriteAllText(path, text);
        return path;
    }

    [Fact]
    public void MetricsBleu_PrintsJsonWithTheScores()
    {
        var hyps = Write("h.txt", "the cat sat on the mat .\na dog ran in the park\n");
        var refs = Write("r.txt", "the cat sat on the mat.\na dog ran in the park\n");
        var (code, output, _) = Run("", "metrics", "bleu", "--hyps", hyps, "--refs", refs);
        Assert.Equal(0, code);
        using var json = JsonDocument.Parse(output);
        Assert.Equal(100, json.RootElement.GetProperty("bleu").GetDouble(), 6);
        Assert.Equal(1, json.RootElement.GetProperty("brevity_penalty").GetDouble());
        Assert.Equal(2, json.RootElement.GetProperty("sentences").GetInt32());
        foreach (var key in new[] { "bleu_1", "bleu_2", "bleu_3", "bleu_4" }) Assert.True(json.RootElement.TryGetProperty(key, out _), key);
    }

    [Fact]
    public void MetricsBleu_SecondReferenceFile_CanOnlyRaiseTheScore()
    {
        var hyps = Write("h.txt", "a man is riding a horse\n");
        var ref0 = Write("r0.txt", "a person rides on a horse\n");
        var ref1 = Write("r1.txt", "a man is riding a brown horse\n");
        double Score(params string[] refs)
        {
            var (code, output, _) = Run("", ["metrics", "bleu", "--hyps", hyps, .. refs.SelectMany(r => new[] { "--refs", r })]);
            Assert.Equal(0, code);
            using var json = JsonDocument.Parse(output);
            return json.RootElement.GetProperty("bleu_2").GetDouble();
        }
        Assert.True(Score(ref0, ref1) > Score(ref0));
    }

    [Fact]
    public void MetricsBleu_LineCountMismatch_ExitsWithOne()
    {
        var hyps = Write("h.txt", "a\nb\n");
        var refs = Write("r.txt", "a\n");
        var (code, _, error) = Run("", "metrics", "bleu", "--hyps", hyps, "--refs", refs);
        Assert.Equal(1, code);
        Assert.Contains("has 1 lines", error);
    }

    [Fact]
    public void MetricsBleu_MissingFileOrOption_ExitsWithOneOrTwo()
    {
        var hyps = Write("h.txt", "a\n");
        Assert.Equal(1, Run("", "metrics", "bleu", "--hyps", hyps, "--refs", Path.Combine(dir, "missing.txt")).Code);
        var (code, _, error) = Run("", "metrics", "bleu", "--hyps", hyps);
        Assert.Equal(2, code);
        Assert.Contains("usage:", error);
        Assert.Equal(2, Run("", "metrics", "bleu", "--hyps", hyps, "--refs", hyps, "--tokenize", "intl").Code);
    }

    [Fact]
    public void Translate_BadInput_GivesAClearErrorAndNonZeroExit()
    {
        Assert.Equal(2, Run("", "translate").Code);
        Assert.Equal(2, Run("", "translate", "train", "--data", "wmt14").Code);
        Assert.Equal(2, Run("", "translate", "train", "--data", "fra-eng", "--epoch", "3").Code);
        Assert.Equal(2, Run("", "translate", "train", "--data", "fra-eng", "--src", "fra", "--tgt", "fra").Code);
        Assert.Equal(2, Run("", "translate", "train", "--data", "multi30k", "--src", "de", "--tgt", "xx").Code);
        var (code, _, error) = Run("", "translate", "eval", "--checkpoint", Path.Combine(dir, "nothing"));
        Assert.Equal(1, code);
        Assert.Contains("not a translator checkpoint", error);
    }

    [Fact]
    public void Translate_TrainEvalRun_RoundTrip()
    {
        RequiredData.Dataset("fra-eng");
        var output = Path.Combine(dir, "model");
        var train = Run("", "translate", "train", "--data", "fra-eng", "--max-pairs", "600", "--epochs", "1", "--hidden", "16",
            "--embedding", "16", "--batch", "32", "--threads", "1", "--out", output);
        Assert.True(train.Code == 0, train.Err);
        foreach (var file in new[] { "translator.json", "source-vocab.json", "target-vocab.json" })
            Assert.NotNull(RnnNotebooks.Training.Checkpoint.PathOf(output, file));
        Assert.NotNull(RnnNotebooks.Training.Checkpoint.PathOf(output, RnnNotebooks.Training.Checkpoint.ModelFile));

        var eval = Run("", "translate", "eval", "--checkpoint", output, "--split", "test", "--beam", "2");
        Assert.True(eval.Code == 0, eval.Err);
        using var json = JsonDocument.Parse(eval.Out);
        var sentences = json.RootElement.GetProperty("sentences").GetInt32();
        Assert.Equal(sentences, File.ReadAllLines(Path.Combine(output, "eval-test.hyp")).Length);
        Assert.Equal(sentences, File.ReadAllLines(Path.Combine(output, "eval-test.ref0")).Length);

        var run = Run("Je suis fatigué.\n\nIl fait froid.\n", "translate", "run", "--checkpoint", output, "--beam", "2");
        Assert.True(run.Code == 0, run.Err);
        Assert.Equal(3, run.Out.Split('\n', StringSplitOptions.None).Length - 1);
    }
}
