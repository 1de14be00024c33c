using RnnNotebooks.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace RnnNotebooks.Notebook.Exercises;

/// <summary>The judges of lesson 02's write-the-code exercises.</summary>
/// <remarks>Introduced in 02-lstm-and-gru.</remarks>
public static class Lesson02
{
    const double Tolerance = 1e-5;

    /// <summary>
    /// Exercise: c_t and h_t from given gate values. The gates come out of a <see cref="LstmCell"/> step with
    /// random weights, and the learner's (c_t, h_t) must match what that step computed.
    /// </summary>
    /// <param name="myUpdate">(i, f, g, o, c_{t-1}) → (c_t, h_t), all <c>[batch, hidden]</c>.</param>
    public static ExerciseResult CheckCellUpdate(Func<Tensor, Tensor, Tensor, Tensor, Tensor, (Tensor C, Tensor H)> myUpdate)
    {
        ArgumentNullException.ThrowIfNull(myUpdate);
        using var scope = NewDisposeScope();
        var generator = new torch.Generator(2);
        var cell = new LstmCell(3, 4);
        using (no_grad())
            foreach (var p in cell.parameters()) p.copy_(rand(p.shape, generator: generator) * 2 - 1);
        var x = randn([5, 3], generator: generator);
        var (h, c) = (randn([5, 4], generator: generator), randn([5, 4], generator: generator) * 2);
        using var step = cell.Step(x, (h, c));
        return Exercise.CheckCode("Exercise 1 (c_t and h_t from the gates)",
            () => myUpdate(step.Input, step.Forget, step.Candidate, step.Output, c),
            got =>
            {
                if (got.C is null || got.H is null) return "your function returned null for c_t or h_t.";
                return Differs("c_t", got.C, step.C) ?? Differs("h_t", got.H, step.H);
            },
            "c_t keeps f_t of the old memory and adds i_t of the candidate; h_t shows o_t of the squashed memory, tanh(c_t).");
    }

    /// <summary>
    /// Exercise: the number of parameters of <c>nn.RNN</c>/<c>nn.GRU</c>/<c>nn.LSTM</c> from the sizes alone. Checked on
    /// several shapes against the modules; creating any tensor (e.g. building the module and counting) is the forbidden shortcut.
    /// </summary>
    /// <param name="myCount">(kind, input, hidden, layers, bidirectional) → number of parameters.</param>
    public static ExerciseResult CheckParameterCount(Func<RecurrentCell, int, int, int, bool, long> myCount)
    {
        ArgumentNullException.ThrowIfNull(myCount);
        (RecurrentCell Kind, int Input, int Hidden, int Layers, bool Both)[] shapes =
            [(RecurrentCell.Lstm, 2, 32, 1, false), (RecurrentCell.Gru, 5, 16, 2, true), (RecurrentCell.Lstm, 7, 3, 3, true), (RecurrentCell.Rnn, 4, 6, 2, false)];
        return Exercise.CheckCode("Exercise 2 (parameters of a recurrent layer)",
            () => shapes.Select(s => (s, Count: CountTensorsCreated(() => myCount(s.Kind, s.Input, s.Hidden, s.Layers, s.Both)))).ToArray(),
            answers =>
            {
                foreach (var (s, (count, created)) in answers)
                {
                    if (created > 0)
                        return $"your function created {created} tensors for {s.Kind} (input {s.Input}, hidden {s.Hidden}); work the count out from the sizes instead of building a layer.";
                    var expected = Reference(s.Kind, s.Input, s.Hidden, s.Layers, s.Both);
                    if (count != expected)
                        return $"for {s.Kind} with input {s.Input}, hidden {s.Hidden}, {s.Layers} layer(s){(s.Both ? ", bidirectional" : "")} you gave {count}, the layer has {expected}.";
                }
                return null;
            },
            "each gate block has hidden × (layer input + hidden) weights and two bias vectors of size hidden; layer k > 0 reads D·hidden features; each direction has its own weights.");
    }

    static (long Value, long Created) CountTensorsCreated(Func<long> f)
    {
        var stats = DisposeScopeManager.Statistics;
        var before = stats.CreatedOutsideScopeCount + stats.CreatedInScopeCount;
        var value = f();
        return (value, stats.CreatedOutsideScopeCount + stats.CreatedInScopeCount - before);
    }

    static long Reference(RecurrentCell kind, int input, int hidden, int layers, bool both)
    {
        using var scope = NewDisposeScope();
        nn.Module module = kind switch
        {
            RecurrentCell.Lstm => nn.LSTM(input, hidden, numLayers: layers, bidirectional: both),
            RecurrentCell.Gru => nn.GRU(input, hidden, numLayers: layers, bidirectional: both),
            _ => nn.RNN(input, hidden, numLayers: layers, bidirectional: both),
        };
        using (module) return module.parameters().Sum(p => p.numel());
    }

    static string? Differs(string name, Tensor got, Tensor expected)
    {
        if (!got.shape.SequenceEqual(expected.shape))
            return $"{name} has shape [{string.Join(", ", got.shape)}], expected [{string.Join(", ", expected.shape)}].";
        var diff = (got.detach().to(ScalarType.Float64) - expected.detach().to(ScalarType.Float64)).abs().max().item<double>();
        return diff <= Tolerance ? null : $"{name} differs from the library's LstmCell by up to {diff:G3} (allowed {Tolerance:G1}).";
    }
}
