using RnnNotebooks.Text;
using RnnNotebooks.Tests.Models;
using static TorchSharp.torch;

namespace RnnNotebooks.Tests.Text;

public class TokenStreamsTests
{
    public TokenStreamsTests() => SingleThreadedTorch.Ensure();

    static long[,] Values(Tensor t)
    {
        var data = t.contiguous().data<long>().ToArray();
        var (rows, cols) = ((int)t.shape[0], (int)t.shape[1]);
        var result = new long[rows, cols];
        for (var i = 0; i < data.Length; i++) result[i / cols, i % cols] = data[i];
        return result;
    }

    [Fact]
    public void Batches_HaveShapeBatchBySteps_WithShorterLastWindow()
    {
        using var streams = new TokenStreams(Enumerable.Range(0, 31).ToArray(), batchSize: 3, steps: 4);

        var shapes = streams.Batches().Select(b => b.Inputs.shape).ToList();

        Assert.Equal(10, streams.StreamLength);                    // (31 − 1) / 3
        Assert.Equal(3, streams.Count);
        Assert.Equal(30, streams.Tokens);
        Assert.Equal([[3, 4], [3, 4], [3, 2]], shapes);
    }

    [Fact]
    public void ConsecutiveBatches_ContinueEachStream_AndTargetsAreInputsShiftedByOne()
    {
        using var streams = new TokenStreams(Enumerable.Range(0, 31).ToArray(), batchSize: 3, steps: 4);
        var batches = streams.Batches().ToList();

        Assert.False(batches[0].ContinuesPrevious);
        Assert.All(batches.Skip(1), b => Assert.True(b.ContinuesPrevious));
        for (var k = 0; k < batches.Count; k++)
        {
            var x = Values(batches[k].Inputs);
            var y = Values(batches[k].Targets);
            for (var b = 0; b < 3; b++)
            {
                Assert.Equal(b * 10 + k * 4, x[b, 0]);              // row b is the b-th tenth of the corpus
                for (var t = 0; t < x.GetLength(1); t++) Assert.Equal(x[b, t] + 1, y[b, t]);
                if (k > 0)
                {
                    var previous = Values(batches[k - 1].Inputs);
                    Assert.Equal(previous[b, previous.GetLength(1) - 1] + 1, x[b, 0]);
                }
            }
        }
    }

    [Fact]
    public void TooShortText_ThrowsSayingWhy()
    {
        var error = Assert.Throws<ArgumentException>(() => new TokenStreams([1, 2, 3], batchSize: 4, steps: 2));

        Assert.Contains("cannot fill 4 streams", error.Message);
    }

    [Fact]
    public void RandomWindows_AreContiguousSlicesThatDoNotContinue()
    {
        var ids = Enumerable.Range(0, 100).ToArray();

        var batches = TokenStreams.RandomWindows(ids, batchSize: 5, steps: 7, count: 3, new Random(1)).ToList();

        Assert.Equal(3, batches.Count);
        foreach (var batch in batches)
        {
            Assert.False(batch.ContinuesPrevious);
            var x = Values(batch.Inputs);
            var y = Values(batch.Targets);
            for (var b = 0; b < 5; b++)
                for (var t = 0; t < 7; t++)
                {
                    Assert.Equal(x[b, 0] + t, x[b, t]);
                    Assert.Equal(x[b, t] + 1, y[b, t]);
                }
        }
    }
}
