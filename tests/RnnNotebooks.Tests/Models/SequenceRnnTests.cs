using RnnNotebooks.Models;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace RnnNotebooks.Tests.Models;

public class SequenceRnnTests
{
    public SequenceRnnTests() => SingleThreadedTorch.Ensure();

    const ScalarType F64 = ScalarType.Float64;

    static nn.Module Fused(SequenceRnnOptions o) => o.Cell == RecurrentCell.Lstm
        ? nn.LSTM(o.InputSize, o.HiddenSize, o.NumLayers, batchFirst: o.BatchFirst, bidirectional: o.Bidirectional, dtype: o.DType)
        : nn.GRU(o.InputSize, o.HiddenSize, o.NumLayers, batchFirst: o.BatchFirst, bidirectional: o.Bidirectional, dtype: o.DType);

    static (Tensor Output, Tensor H, Tensor? C) RunFused(nn.Module fused, Tensor x, RecurrentState? s) => fused switch
    {
        LSTM l => l.call(x, s is null ? null : (s.H, s.C!)) is var (o, h, c) ? (o, h, c) : default,
        GRU g => g.call(x, s?.H) is var (o, h) ? (o, h, null) : default,
        _ => throw new ArgumentException("not a fused LSTM or GRU"),
    };

    [Theory]
    [InlineData(RecurrentCell.Lstm, 1, false, true)]
    [InlineData(RecurrentCell.Lstm, 2, true, true)]
    [InlineData(RecurrentCell.Lstm, 2, false, false)]
    [InlineData(RecurrentCell.Gru, 1, false, true)]
    [InlineData(RecurrentCell.Gru, 2, true, true)]
    [InlineData(RecurrentCell.Gru, 1, true, false)]
    public void Forward_MatchesTorch_WhenWeightsCopied(RecurrentCell cell, int layers, bool bidirectional, bool batchFirst)
    {
        manual_seed(5);
        var options = new SequenceRnnOptions(cell, 3, 4, layers, bidirectional, batchFirst, F64);
        using var fused = Fused(options);
        using var net = new SequenceRnn(options);
        net.CopyFrom(fused);
        using var scope = NewDisposeScope();
        var x = batchFirst ? randn(2, 6, 3, dtype: F64) : randn(6, 2, 3, dtype: F64);
        var stateShape = new long[] { layers * options.Directions, 2, 4 };
        var start = new RecurrentState(randn(stateShape, dtype: F64), cell == RecurrentCell.Lstm ? randn(stateShape, dtype: F64) : null);

        var expected = RunFused(fused, x, start);
        var (output, state) = net.call(x, start);

        GatedCellTests.AssertClose(expected.Output, output, 1e-12);
        GatedCellTests.AssertClose(expected.H, state.H, 1e-12);
        if (cell == RecurrentCell.Lstm) GatedCellTests.AssertClose(expected.C!, state.C!, 1e-12);
        else Assert.Null(state.C);
    }

    [Fact]
    public void TwoLayerBidirectionalGru_HasTorchShapes()
    {
        using var net = new SequenceRnn(new SequenceRnnOptions(RecurrentCell.Gru, 3, 4, NumLayers: 2, Bidirectional: true));
        using var x = randn(5, 7, 3);                                                 // [batch, steps, input]

        var (output, state) = net.call(x, null);

        using (output) using (state)
        {
            Assert.Equal(new long[] { 5, 7, 8 }, output.shape);                      // directions · hidden
            Assert.Equal(new long[] { 4, 5, 4 }, state.H.shape);                     // layers · directions
        }
        Assert.Contains("cells.3.weightIh", net.state_dict().Keys);
        Assert.Equal(new long[] { 12, 8 }, net.state_dict()["cells.2.weightIh"].shape); // layer 1 reads both directions
    }

    [Theory]
    [InlineData(RecurrentCell.Lstm)]
    [InlineData(RecurrentCell.Gru)]
    public void State_CarriedAcrossCalls_GivesTheSameAsOneCall(RecurrentCell cell)
    {
        manual_seed(6);
        using var net = new SequenceRnn(new SequenceRnnOptions(cell, 3, 4, NumLayers: 2, DType: F64));
        using var scope = NewDisposeScope();
        var x = randn(2, 8, 3, dtype: F64);

        var (whole, wholeState) = net.call(x, null);
        var (first, middle) = net.call(x.narrow(1, 0, 5), null);
        var (second, end) = net.call(x.narrow(1, 5, 3), middle);

        GatedCellTests.AssertClose(whole, cat([first, second], dim: 1), 1e-12);
        GatedCellTests.AssertClose(wholeState.H, end.H, 1e-12);
        if (cell == RecurrentCell.Lstm) GatedCellTests.AssertClose(wholeState.C!, end.C!, 1e-12);
    }

    [Fact]
    public void CopyFrom_AnotherShape_ThrowsNamingTheParameter()
    {
        using var fused = nn.LSTM(3, 4, numLayers: 2);
        using var oneLayer = new SequenceRnn(new SequenceRnnOptions(RecurrentCell.Lstm, 3, 4));
        using var gru = new SequenceRnn(new SequenceRnnOptions(RecurrentCell.Gru, 3, 4, NumLayers: 2));

        Assert.Contains("weight_ih_l1", Assert.Throws<ArgumentException>(() => oneLayer.CopyFrom(fused)).Message);
        Assert.Contains("[16, 3]", Assert.Throws<ArgumentException>(() => gru.CopyFrom(fused)).Message);
    }

    [Fact]
    public void TrainingLoop_KeepsTheLiveTensorCountFlat()
    {
        manual_seed(7);
        using var net = new SequenceRnn(new SequenceRnnOptions(RecurrentCell.Lstm, 2, 4));
        using var head = nn.Linear(4, 1);
        var optimizer = optim.Adam(net.parameters().Concat(head.parameters()), 0.01);
        using var x = randn(4, 5, 2);
        using var y = randn(4, 1);
        long after20 = 0;

        for (var step = 1; step <= 200; step++)
        {
            using (var scope = NewDisposeScope())
            {
                optimizer.zero_grad();
                var (output, _) = net.call(x, null);
                nn.functional.mse_loss(head.call(output.select(1, -1)), y).backward();
                optimizer.step();
            }
            if (step == 20) after20 = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        }

        Assert.Equal(after20, DisposeScopeManager.Statistics.ThreadTotalLiveCount);
    }
}
