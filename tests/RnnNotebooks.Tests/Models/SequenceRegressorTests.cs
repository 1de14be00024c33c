using RnnNotebooks.Models;
using static TorchSharp.torch;

namespace RnnNotebooks.Tests.Models;

public class SequenceRegressorTests
{
    public SequenceRegressorTests() => SingleThreadedTorch.Ensure();

    [Theory]
    [InlineData(RecurrentCell.Rnn, "rnn.weight_ih_l0")]
    [InlineData(RecurrentCell.Gru, "rnn.weight_ih_l0")]
    [InlineData(RecurrentCell.Lstm, "rnn.weight_ih_l0")]
    public void Forward_GivesOneNumberPerSequence(RecurrentCell kind, string key)
    {
        using var model = new SequenceRegressor(kind, 2, 6);
        using var x = randn(5, 9, 2);                                                 // [batch, steps, input]

        using var y = model.call(x);
        using var states = model.States(x);

        Assert.Equal(new long[] { 5 }, y.shape);
        Assert.Equal(new long[] { 5, 9, 6 }, states.shape);
        Assert.Contains(key, model.state_dict().Keys);
        Assert.Contains("readout.weight", model.state_dict().Keys);
    }

    [Fact]
    public void Forward_RejectsTwoDimensionalInput()
    {
        using var model = new SequenceRegressor(RecurrentCell.Lstm, 2, 6);
        using var x = randn(9, 2);

        Assert.Contains("[batch, steps, features]", Assert.Throws<ArgumentException>(() => model.call(x)).Message);
    }
}
