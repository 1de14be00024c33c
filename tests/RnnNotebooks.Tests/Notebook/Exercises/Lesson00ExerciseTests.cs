using RnnNotebooks.Notebook.Exercises;
using static TorchSharp.torch;

namespace RnnNotebooks.Tests.Notebook.Exercises;

public sealed class Lesson00ExerciseTests
{
    // The solution cells of tools/notebook-sources/00-getting-started.txt, which the instructor edition runs.
    static (double, double) MseGradient(Tensor x, Tensor y, double w, double b)
    {
        var error = w * x + b - y;                      // [N, 1]
        return ((2 * error * x).mean().item<double>(), (2 * error).mean().item<double>());
    }

    static (double, double) GradientStep(Tensor x, Tensor y, double w, double b, double lr)
    {
        var (dw, db) = MseGradient(x, y, w, b);
        return (w - lr * dw, b - lr * db);
    }

    static (double, double) AutogradShortcut(Tensor x, Tensor y, double w, double b)
    {
        var wt = tensor(w, dtype: ScalarType.Float64, requires_grad: true);
        var bt = tensor(b, dtype: ScalarType.Float64, requires_grad: true);
        (wt * x + bt - y).pow(2).mean().backward();
        return (wt.grad!.item<double>(), bt.grad!.item<double>());
    }

    static (double, double) SgdShortcut(Tensor x, Tensor y, double w, double b, double lr)
    {
        var model = nn.Linear(1, 1, dtype: ScalarType.Float64);
        using (no_grad()) { model.weight!.fill_(w); model.bias!.fill_(b); }
        var optimizer = optim.SGD(model.parameters(), lr);
        nn.functional.mse_loss(model.forward(x), y).backward();
        optimizer.step();
        return (model.weight!.item<double>(), model.bias!.item<double>());
    }

    [Fact]
    public void CheckMseGradient_Solution_IsRight() => Assert.True(Lesson00.CheckMseGradient(MseGradient).Correct);

    [Fact]
    public void CheckMseGradient_MissingFactorTwo_IsWrong()
    {
        var r = Lesson00.CheckMseGradient((x, y, w, b) => { var e = w * x + b - y; return ((e * x).mean().item<double>(), e.mean().item<double>()); });
        Assert.False(r.Correct);
        Assert.Contains("∂L/∂w", r.Message);
    }

    [Fact]
    public void CheckMseGradient_Autograd_IsWrong() => Assert.False(Lesson00.CheckMseGradient(AutogradShortcut).Correct);

    [Fact]
    public void CheckMseGradient_Stub_IsNotAnsweredYet() =>
        Assert.Null(Lesson00.CheckMseGradient((_, _, _, _) => throw new NotImplementedException()).Correct);

    [Fact]
    public void CheckGradientStep_Solution_IsRight() => Assert.True(Lesson00.CheckGradientStep(GradientStep).Correct);

    [Fact]
    public void CheckGradientStep_WrongSign_IsWrong() =>
        Assert.False(Lesson00.CheckGradientStep((x, y, w, b, lr) => { var (dw, db) = MseGradient(x, y, w, b); return (w + lr * dw, b + lr * db); }).Correct);

    [Fact]
    public void CheckGradientStep_OptimSgd_IsWrong() => Assert.False(Lesson00.CheckGradientStep(SgdShortcut).Correct);
}
