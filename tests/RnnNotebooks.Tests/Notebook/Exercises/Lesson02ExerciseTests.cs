using RnnNotebooks.Models;
using RnnNotebooks.Notebook.Exercises;
using static TorchSharp.torch;

namespace RnnNotebooks.Tests.Notebook.Exercises;

public sealed class Lesson02ExerciseTests
{
    // The solution cells of tools/notebook-sources/02-lstm-and-gru.txt, which the instructor edition runs.
    static (Tensor C, Tensor H) RightUpdate(Tensor i, Tensor f, Tensor g, Tensor o, Tensor cPrev)
    {
        var c = f * cPrev + i * g;
        return (c, o * c.tanh());
    }

    static long RightCount(RecurrentCell kind, int input, int hidden, int layers, bool bidirectional)
    {
        var gates = kind switch { RecurrentCell.Lstm => 4, RecurrentCell.Gru => 3, _ => 1 };
        var directions = bidirectional ? 2 : 1;
        long total = 0;
        for (var layer = 0; layer < layers; layer++)
        {
            var layerInput = layer == 0 ? input : directions * hidden;
            total += directions * gates * hidden * (layerInput + hidden + 2L);
        }
        return total;
    }

    [Fact]
    public void CheckCellUpdate_RightAnswer_IsRight()
    {
        var r = Lesson02.CheckCellUpdate(RightUpdate);
        Assert.True(r.Correct, r.Message);
    }

    [Fact]
    public void CheckCellUpdate_HiddenStateWithoutTanh_IsWrong_AndSaysWhichOutput()
    {
        var r = Lesson02.CheckCellUpdate((i, f, g, o, c) => { var cNext = f * c + i * g; return (cNext, o * cNext); });
        Assert.False(r.Correct);
        Assert.Contains("h_t differs", r.Message);
    }

    [Fact]
    public void CheckCellUpdate_ShortcutThroughALibraryCell_IsWrong()
    {
        // The forbidden shortcut: run a library cell instead of combining the given gates.
        var r = Lesson02.CheckCellUpdate((i, f, g, o, c) => new LstmCell(4, 4).forward(g, (o, c)) is var (h, cNext) ? (cNext, h) : default);
        Assert.False(r.Correct);
    }

    [Fact]
    public void CheckCellUpdate_Unanswered_IsNotAnsweredYet()
    {
        var r = Lesson02.CheckCellUpdate((_, _, _, _, _) => throw new NotImplementedException());
        Assert.Null(r.Correct);
    }

    [Fact]
    public void CheckParameterCount_RightAnswer_IsRight()
    {
        var r = Lesson02.CheckParameterCount(RightCount);
        Assert.True(r.Correct, r.Message);
    }

    [Fact]
    public void CheckParameterCount_OneBiasVector_IsWrong()
    {
        var r = Lesson02.CheckParameterCount((k, i, h, l, b) => RightCount(k, i, h, l, b) - (k == RecurrentCell.Lstm ? 4 : 3) * h * l * (b ? 2 : 1));
        Assert.False(r.Correct);
        Assert.Contains("you gave", r.Message);
    }

    [Fact]
    public void CheckParameterCount_BuildingTheModule_IsTheForbiddenShortcut()
    {
        var r = Lesson02.CheckParameterCount((k, i, h, l, b) => k switch
        {
            RecurrentCell.Lstm => nn.LSTM(i, h, numLayers: l, bidirectional: b).parameters().Sum(p => p.numel()),
            RecurrentCell.Gru => nn.GRU(i, h, numLayers: l, bidirectional: b).parameters().Sum(p => p.numel()),
            _ => nn.RNN(i, h, numLayers: l, bidirectional: b).parameters().Sum(p => p.numel()),
        });
        Assert.False(r.Correct);
        Assert.Contains("created", r.Message);
    }
}
