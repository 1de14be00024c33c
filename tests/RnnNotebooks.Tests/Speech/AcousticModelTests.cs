using RnnNotebooks.Audio;
using RnnNotebooks.Decoding;
using RnnNotebooks.Models;
using RnnNotebooks.Speech;
using RnnNotebooks.Tests.Models;
using RnnNotebooks.Text;
using RnnNotebooks.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace RnnNotebooks.Tests.Speech;

// Compares the process-wide live-tensor count, which tests running beside it would move.
[Collection(RnnNotebooks.Tests.Training.TorchGlobalState.Name)]
public class AcousticModelTests
{
    public AcousticModelTests() => SingleThreadedTorch.Ensure();

    static readonly AcousticModelOptions Small = new(InputSize: 8, Classes: 17, ConvChannels: 16, HiddenSize: 16, NumLayers: 2, Dropout: 0);

    [Theory]
    [InlineData(1, RecurrentCell.Gru, 100, 100)]
    [InlineData(2, RecurrentCell.Gru, 100, 50)]
    [InlineData(2, RecurrentCell.Lstm, 101, 51)]
    [InlineData(4, RecurrentCell.Gru, 101, 26)]
    public void Forward_SubsamplesTime_AndGivesLogProbabilities(int subsampling, RecurrentCell cell, int frames, int expected)
    {
        manual_seed(1);
        using var model = new AcousticModel(Small with { Subsampling = subsampling, Cell = cell });
        using var scope = NewDisposeScope();
        var x = randn(2, frames, 8);                                                 // [batch, frames, features]

        var y = model.call(x, tensor(new long[] { frames, frames / 2 }));

        Assert.Equal(new long[] { 2, expected, 17 }, y.shape);
        Assert.Equal(expected, model.OutputLength(frames));
        Assert.Equal(new long[] { expected, model.OutputLength(frames / 2) }, model.OutputLengths(tensor(new long[] { frames, frames / 2 })).data<long>().ToArray());
        Assert.True(y.exp().sum(-1).sub(1).abs().max().item<float>() < 1e-5);
    }

    [Fact]
    public void PaddedBatch_GivesEachUtteranceItsOwnResult()
    {
        manual_seed(2);
        using var model = new AcousticModel(Small);
        model.eval();
        using var scope = NewDisposeScope();
        var longer = randn(41, 8);
        var shorter = randn(23, 8);
        var batch = nn.utils.rnn.pad_sequence([longer, shorter], batch_first: true);

        var together = model.call(batch, tensor(new long[] { 41, 23 }));
        var alone = model.call(shorter.unsqueeze(0), tensor(new long[] { 23 }));

        Assert.Equal(new long[] { 2, model.OutputLength(41), 17 }, together.shape);
        var n = model.OutputLength(23);
        Assert.True(together[1, TensorIndex.Slice(0, n)].allclose(alone[0], rtol: 1e-4, atol: 1e-5));
    }

    [Fact]
    public void Training_GivesTheSameLossAndGradients_OnEitherGruPath()
    {
        // In training a GRU model runs FusedGru.ForwardBidirectional (hand-written backward, padded batch) instead
        // of nn.GRU over the packed batch; evaluation keeps nn.GRU. Both must be the same function of the weights.
        manual_seed(5);
        using var model = new AcousticModel(Small);
        model.train();
        using var scope = NewDisposeScope();
        var chars = Vocabulary.ForCtc(SpokenDigits.Letters);
        var batch = SpeechBatch.Create([randn(37, 8), randn(52, 8), randn(9, 8)], ["one", "two three", "o"], chars);

        (double Loss, List<Tensor> Grads) Run(bool fused)
        {
            var previous = RnnNotebooks.Platform.TorchKernels.FusedGru;
            RnnNotebooks.Platform.TorchKernels.FusedGru = fused;
            try
            {
                model.zero_grad();
                var loss = batch.Loss(model);
                loss.backward();
                return (loss.ToDouble(), model.parameters().Select(p => p.grad!.detach().clone()).ToList());
            }
            finally { RnnNotebooks.Platform.TorchKernels.FusedGru = previous; }
        }

        var (lossFused, gradsFused) = Run(fused: true);
        var (lossPacked, gradsPacked) = Run(fused: false);

        Assert.Equal(lossPacked, lossFused, 4);
        foreach (var ((name, _), (a, b)) in model.named_parameters().Zip(gradsFused.Zip(gradsPacked)))
            Assert.True(a.allclose(b, rtol: 1e-4, atol: 1e-6), $"{name}: gradients differ by {(a - b).abs().max().ToDouble():g3}");
    }

    [Fact]
    [Trait("Category", "Slow")]
    public void Training_OverfitsTwoUtterances_WithFlatLiveTensorCount()
    {
        Seeds.Set(3);
        var chars = Vocabulary.ForCtc(SpokenDigits.Letters);
        var width = chars.Size;                                        // one feature per label: no two letters alike
        using var model = new AcousticModel(Small with { InputSize = width, Subsampling = 2 });
        // Two made-up utterances whose frames mark each letter (and the space) by its own feature.
        var random = new Random(4);
        Tensor Utterance(string text)
        {
            var frames = new List<float[]>();
            foreach (var c in text)
                for (var k = 0; k < 6; k++)
                    frames.Add([.. Enumerable.Range(0, width).Select(i => (float)((i == chars.IdOf(c) ? 2 : 0) + 0.1 * random.NextDouble()))]);
            return tensor(frames.SelectMany(f => f).ToArray(), [frames.Count, width]);
        }
        var u1 = Utterance("one two");
        var u2 = Utterance("six");
        string[] texts = ["one two", "six"];
        using var optimizer = optim.Adam(model.parameters(), 0.02);
        var live = new Dictionary<long, long>();
        using var kernels = AcousticModel.TrainingKernels();

        var state = Trainer.Fit<SpeechBatch>(model, optimizer,
            _ => [SpeechBatch.Create([u1, u2], texts, chars)],
            b => b.Loss(model),
            new TrainerOptions(Epochs: 500, ClipGradNorm: 5, LogEvery: 1),
            // Every live tensor of the process: the GRU's two directions run on two threads in training, so tensors are
            // made on one thread and freed on another, and a per-thread count would drift (FusedGru.BidirectionalThreads).
            progress: p =>
            {
                if (p.Step is not (20 or 500)) return;
                GC.Collect();
                GC.WaitForPendingFinalizers();   // tensors of earlier tests that only the finalizer frees
                live[p.Step] = Tensor.TotalCount;
            });

        Assert.Equal(live[20], live[500]);
        Assert.True(state.History.Losses[^1] < 0.1, $"final loss {state.History.Losses[^1]}");
        model.eval();
        using var scope = NewDisposeScope();
        // Overfitting means the training utterance's transcript is now by far its most probable text. (It used to be
        // checked by greedy decoding after 300 epochs: that held on one machine and gave "on two" on another, whose
        // kernels round differently, with P(transcript) at 0.42. After 500 epochs it is 0.97 there.)
        var logProbs = model.call(u1.unsqueeze(0), tensor(new long[] { u1.shape[0] }))[0];
        var best = CtcDecoder.BeamSearch(logProbs, beamWidth: 8);
        Assert.Equal("one two", chars.Decode(best[0].Labels));
        var transcript = chars.Encode("one two");
        Assert.True(CtcDecoder.LogProbability(CtcDecoder.ToMatrix(logProbs), transcript) > Math.Log(0.5),
            $"P(transcript) = {Math.Exp(CtcDecoder.LogProbability(CtcDecoder.ToMatrix(logProbs), transcript)):F3}");
    }
}
