using RnnNotebooks.Metrics;
using RnnNotebooks.Models;
using RnnNotebooks.Tests.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace RnnNotebooks.Tests.Metrics;

public class PerplexitiesTests
{
    public PerplexitiesTests() => SingleThreadedTorch.Ensure();

    /// <summary>A model whose scores ignore the input: the readout weights are zero, the bias is <paramref name="bias"/>.</summary>
    static LanguageModel ConstantModel(float[] bias)
    {
        var model = new LanguageModel(new LanguageModelOptions(bias.Length, 4, 1));
        using var noGrad = no_grad();
        var parameters = model.state_dict();
        parameters["readout.weight"].zero_();
        using var b = tensor(bias);
        parameters["readout.bias"].copy_(b);
        return model;
    }

    [Fact]
    public void Score_ToString_IsOneLine_WithUnits_AndNoRecordDump()
    {
        var score = LanguageModelScore.FromTotal(totalNats: 2 * Math.Log(4), tokens: 2);

        Assert.Equal("1.386 nats/token = 2.00 bits/token, perplexity 4.00, over 2 tokens", score.ToString());
    }

    [Fact]
    public void UniformModel_HasPerplexityEqualToTheVocabularySize()
    {
        using var model = ConstantModel(new float[7]);
        var ids = Enumerable.Range(0, 500).Select(i => i * 3 % 7).ToArray();

        var score = Perplexities.Evaluate(model, ids, batchSize: 4, steps: 16);

        Assert.Equal(7.0, score.Perplexity, 4);
        Assert.Equal(Math.Log2(7), score.BitsPerToken, 5);
        Assert.Equal(4 * (499 / 4), score.Tokens);
    }

    [Fact]
    public void Evaluate_OnAKnownModel_GivesTheHandComputedValue()
    {
        // p = softmax(0, ln 3) = (1/4, 3/4). Text 0 1 1 0 1: the targets 1, 1, 0, 1 cost
        // −(3 ln 3/4 + ln 1/4) / 4 nats each on average.
        using var model = ConstantModel([0f, (float)Math.Log(3)]);

        var score = Perplexities.Evaluate(model, [0, 1, 1, 0, 1], batchSize: 1, steps: 2);

        var expected = -(3 * Math.Log(0.75) + Math.Log(0.25)) / 4;
        Assert.Equal(4, score.Tokens);
        Assert.Equal(expected, score.NatsPerToken, 6);
        Assert.Equal(Math.Exp(expected), score.Perplexity, 5);
        Assert.Equal(-expected * 4, Perplexities.LogProbability(model, [0, 1, 1, 0, 1]), 5);
    }

    [Fact]
    public void Evaluate_IdOutsideTheVocabulary_ThrowsNamingThePosition()
    {
        using var model = ConstantModel(new float[3]);

        var error = Assert.Throws<ArgumentException>(() => Perplexities.Evaluate(model, [0, 1, 5, 2]));

        Assert.Contains("position 2", error.Message);
    }

    [Fact]
    public void Score_Json_UsesSnakeCaseKeys()
    {
        var json = LanguageModelScore.FromTotal(10, 5).ToJson();

        Assert.Contains("\"nats_per_token\": 2", json);
        Assert.Contains("\"bits_per_token\"", json);
        Assert.Contains("\"perplexity\"", json);
        Assert.Contains("\"tokens\": 5", json);
    }
}
