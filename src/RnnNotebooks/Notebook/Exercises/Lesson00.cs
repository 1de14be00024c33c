using static TorchSharp.torch;

namespace RnnNotebooks.Notebook.Exercises;

/// <summary>The checks of 00-getting-started's exercises.</summary>
/// <remarks>Introduced in 00-getting-started.</remarks>
public static class Lesson00
{
    /// <summary>
    /// Exercise 1: the gradient of the mean squared error of <c>ŷ = w·x + b</c> with respect to <c>w</c> and <c>b</c>,
    /// by hand. Judged against autograd on fresh data; the learner's function runs with autograd switched off, so
    /// calling <c>backward()</c> (the shortcut the exercise forbids) fails.
    /// </summary>
    /// <param name="myGradient">(x [N, 1], y [N, 1], w, b) → (∂L/∂w, ∂L/∂b) as scalars.</param>
    public static ExerciseResult CheckMseGradient(Func<Tensor, Tensor, double, double, (double DW, double DB)> myGradient)
    {
        ArgumentNullException.ThrowIfNull(myGradient);
        using var scope = NewDisposeScope();
        var (x, y) = Data();
        var (w, b) = (0.7, 0.4);
        var expected = AutogradGradient(x, y, w, b);
        return Exercise.CheckCode("Exercise 1", () => { using var _ = no_grad(); return myGradient(x, y, w, b); }, got =>
            Math.Abs(got.DW - expected.DW) > 1e-9 ? $"∂L/∂w is {got.DW:G6}, autograd says {expected.DW:G6}." :
            Math.Abs(got.DB - expected.DB) > 1e-9 ? $"∂L/∂b is {got.DB:G6}, autograd says {expected.DB:G6}." : null,
            "L = mean((w·x + b − y)²), so ∂L/∂w = mean(2(w·x + b − y)·x) and ∂L/∂b = mean(2(w·x + b − y)). Use tensor operations, not backward().");
    }

    /// <summary>
    /// Exercise 2: one step of plain gradient descent on the whole data set, by hand. Judged against
    /// <c>optim.SGD</c> on an <c>nn.Linear(1, 1)</c>; the learner's function runs with autograd switched off, so
    /// calling an optimiser (the shortcut) fails.
    /// </summary>
    /// <param name="myStep">(x [N, 1], y [N, 1], w, b, learning rate) → (w, b) after one step.</param>
    public static ExerciseResult CheckGradientStep(Func<Tensor, Tensor, double, double, double, (double W, double B)> myStep)
    {
        ArgumentNullException.ThrowIfNull(myStep);
        using var scope = NewDisposeScope();
        var (x, y) = Data();
        var (w, b, lr) = (-0.3, 0.8, 0.25);
        var expected = SgdStep(x, y, w, b, lr);
        return Exercise.CheckCode("Exercise 2", () => { using var _ = no_grad(); return myStep(x, y, w, b, lr); }, got =>
            Math.Abs(got.W - expected.W) > 1e-9 ? $"the new weight is {got.W:G6}, optim.SGD gives {expected.W:G6}." :
            Math.Abs(got.B - expected.B) > 1e-9 ? $"the new bias is {got.B:G6}, optim.SGD gives {expected.B:G6}." : null,
            "a step moves every parameter against its gradient: w − lr·∂L/∂w, b − lr·∂L/∂b (your Exercise 1 gives the gradients).");
    }

    static (Tensor X, Tensor Y) Data()
    {
        var generator = new Generator(7);
        var x = rand(64, 1, dtype: ScalarType.Float64, generator: generator) * 2 - 1;   // [64, 1]
        var y = 2 * x + 0.5 + 0.1 * randn(64, 1, dtype: ScalarType.Float64, generator: generator);
        return (x, y);
    }

    static (double DW, double DB) AutogradGradient(Tensor x, Tensor y, double w, double b)
    {
        using var scope = NewDisposeScope();
        var wt = tensor(w, dtype: ScalarType.Float64, requires_grad: true);
        var bt = tensor(b, dtype: ScalarType.Float64, requires_grad: true);
        (wt * x + bt - y).pow(2).mean().backward();
        return (wt.grad!.item<double>(), bt.grad!.item<double>());
    }

    static (double W, double B) SgdStep(Tensor x, Tensor y, double w, double b, double lr)
    {
        using var scope = NewDisposeScope();
        using var model = nn.Linear(1, 1, dtype: ScalarType.Float64);
        using (no_grad()) { model.weight!.fill_(w); model.bias!.fill_(b); }
        using var optimizer = optim.SGD(model.parameters(), lr);
        nn.functional.mse_loss(model.forward(x), y).backward();
        optimizer.step();
        return (model.weight!.item<double>(), model.bias!.item<double>());
    }
}
