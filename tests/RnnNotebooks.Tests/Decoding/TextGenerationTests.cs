using RnnNotebooks.Decoding;
using RnnNotebooks.Models;
using RnnNotebooks.Tests.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace RnnNotebooks.Tests.Decoding;

/// <summary>The fast generation step must compute what <see cref="LanguageModel.Step"/> computes, for every cell.</summary>
public class TextGenerationTests
{
    public TextGenerationTests() => SingleThreadedTorch.Ensure();

    // (cell, vocab, hidden, layers, embedding, tied, tokens): tokens ≥ vocab tabulates layer 0's input product;
    // every length is above TextGeneration.FastStepMinTokens, so Generate takes the fast step.
    public static TheoryData<RecurrentCell, int, int, int, int?, bool, int> Shapes
    {
        get
        {
            var data = new TheoryData<RecurrentCell, int, int, int, int?, bool, int>();
            foreach (var cell in new[] { RecurrentCell.Lstm, RecurrentCell.Gru, RecurrentCell.Rnn })
            {
                data.Add(cell, 12, 16, 2, null, false, 60);     // tabulated
                data.Add(cell, 80, 16, 2, null, false, 50);     // not tabulated
                data.Add(cell, 9, 8, 3, 5, false, 40);          // embedding ≠ hidden, three layers
                data.Add(cell, 10, 8, 1, null, true, 45);       // tied readout
                data.Add(cell, 60, 8, 1, null, true, 40);       // tied, not tabulated
            }
            return data;
        }
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void FastStep_GivesTheSameLogitsAsStep(RecurrentCell cell, int vocab, int hidden, int layers, int? embedding, bool tied, int tokens)
    {
        manual_seed(11);
        using var model = new LanguageModel(new LanguageModelOptions(vocab, hidden, layers, cell, EmbeddingSize: embedding, TieWeights: tied));
        model.eval();
        using var noGrad = no_grad();
        // As Generate steps: oneDNN's fused LSTM rounds differently, and its state is process-wide.
        using var kernels = RnnNotebooks.Platform.TorchKernels.WithoutOneDnn();
        using var scope = NewDisposeScope();
        var (_, state) = model.forward(tensor(new long[] { 1, 2, 3 }, [1, 3]), null);   // a non-zero start
        var fast = model.PrepareGenerationStep(tokens);
        Assert.NotNull(fast);
        fast.Load(state);
        var random = new Random(5);

        for (var i = 0; i < 12; i++)
        {
            var token = random.Next(vocab);
            var (expected, next) = model.Step(tensor(new long[] { token }, [1]), state);
            state = next;
            var actual = fast.Step(token);
            var want = expected[0].data<float>().ToArray();
            for (var j = 0; j < vocab; j++) Assert.Equal(want[j], actual[j], 1e-5f);
        }
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Generate_FastAndPlainPaths_GiveTheSameTokens(RecurrentCell cell, int vocab, int hidden, int layers, int? embedding, bool tied, int tokens)
    {
        manual_seed(12);
        using var model = new LanguageModel(new LanguageModelOptions(vocab, hidden, layers, cell, EmbeddingSize: embedding, TieWeights: tied));
        foreach (var how in new[] { SamplingOptions.Greedy, new SamplingOptions(1.0), new SamplingOptions(0.7, TopK: 3) })
        {
            var plain = TextGeneration.Generate(model, [1, 2], tokens, how, new Random(21), fastStep: false);
            var fast = TextGeneration.Generate(model, [1, 2], tokens, how, new Random(21), fastStep: true);

            Assert.Equal(plain, fast);
        }
    }

    [Fact]
    public void Shapes_AreLongEnoughForTheFastStep() =>
        Assert.All(Shapes, row => Assert.True(row.Data.Item7 > TextGeneration.FastStepMinTokens));

    [Fact]
    public void FastStep_IsOnlyForFloat32ModelsInEvalMode()
    {
        using var lstm = new LanguageModel(new LanguageModelOptions(10, 8, 1));

        Assert.Null(lstm.PrepareGenerationStep(50));      // training mode: dropout would apply
        lstm.eval();
        Assert.NotNull(lstm.PrepareGenerationStep(50));
        lstm.to(ScalarType.Float64);
        Assert.Null(lstm.PrepareGenerationStep(50));
    }

    [Fact]
    public void FastStep_FollowsTheWeights_WhenTheyChangeBetweenGenerations()
    {
        manual_seed(14);
        using var model = new LanguageModel(new LanguageModelOptions(10, 8, 2));
        var before = TextGeneration.Generate(model, [1], 40, SamplingOptions.Greedy, new Random(1));
        using (no_grad())
            foreach (var p in model.parameters()) p.add_(randn_like(p).mul(0.5));

        var plain = TextGeneration.Generate(model, [1], 40, SamplingOptions.Greedy, new Random(1), fastStep: false);
        var fast = TextGeneration.Generate(model, [1], 40, SamplingOptions.Greedy, new Random(1), fastStep: true);

        Assert.Equal(plain, fast);
        Assert.NotEqual(before, fast);
    }

    [Theory]
    [InlineData(RecurrentCell.Lstm)]
    [InlineData(RecurrentCell.Gru)]
    [InlineData(RecurrentCell.Rnn)]
    public void Generate_LeavesNoLiveTensors(RecurrentCell cell)
    {
        manual_seed(13);
        using var model = new LanguageModel(new LanguageModelOptions(20, 16, 2, cell));
        // The first fast generation allocates the model's generation buffers, which live as long as the model.
        TextGeneration.Generate(model, [1], 40, new SamplingOptions(1.0), new Random(1));
        var before = DisposeScopeManager.Statistics.ThreadTotalLiveCount;

        TextGeneration.Generate(model, [1, 4], 50, new SamplingOptions(1.0), new Random(2));

        Assert.Equal(before, DisposeScopeManager.Statistics.ThreadTotalLiveCount);
    }

    [Fact]
    public void Generate_RestoresTheCallersThreadCount()
    {
        manual_seed(14);
        using var model = new LanguageModel(new LanguageModelOptions(20, 16, 2, RecurrentCell.Lstm));
        torch.set_num_threads(2);
        try
        {
            TextGeneration.Generate(model, [1], 40, SamplingOptions.Greedy, new Random(1));

            Assert.Equal(2, torch.get_num_threads());
        }
        finally
        {
            torch.set_num_threads(1);
        }
    }
}
