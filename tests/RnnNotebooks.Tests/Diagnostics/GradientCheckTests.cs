using RnnNotebooks.Diagnostics;
using RnnNotebooks.Tests.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace RnnNotebooks.Tests.Diagnostics;

public class GradientCheckTests
{
    public GradientCheckTests() => SingleThreadedTorch.Ensure();

    // L(x, y) = Σ sin(x)·y² has ∂L/∂x = cos(x)·y² and ∂L/∂y = 2·sin(x)·y.
    static Tensor Loss(IReadOnlyList<Tensor> p) => p[0].sin().mul(p[1].square()).sum();

    [Fact]
    public void NumericAndAutogradGradients_MatchTheDerivative_OfAKnownFunction()
    {
        manual_seed(3);
        using var x = randn(2, 3, dtype: ScalarType.Float64);
        using var y = randn(2, 3, dtype: ScalarType.Float64);
        using var dx = x.cos().mul(y.square());
        using var dy = x.sin().mul(y).mul(2);

        var numeric = GradientCheck.NumericGradients([x, y], () => Loss([x, y]));
        var autograd = GradientCheck.AutogradGradients([x, y], Loss);

        var vsNumeric = GradientCheck.Compare(["x", "y"], [dx, dy], numeric);
        var vsAutograd = GradientCheck.Compare(["x", "y"], [dx, dy], autograd);
        Assert.All(vsNumeric, r => Assert.True(r.MaxRelativeError < 1e-8, r.ToString()));
        Assert.All(vsAutograd, r => Assert.True(r.MaxRelativeError < 1e-12, r.ToString()));
        foreach (var t in numeric.Concat(autograd)) t.Dispose();
    }

    [Fact]
    public void Run_ReportsALargeError_ForAWrongGradient()
    {
        using var x = tensor(new[] { 0.3, -1.2 });
        using var y = tensor(new[] { 0.7, 2.0 });
        using var dx = x.cos().mul(y.square());
        using var wrongDy = x.sin().mul(y);   // missing the factor 2

        var results = GradientCheck.Run([("x", x), ("y", y)], [dx, wrongDy], () => Loss([x, y]).item<double>());

        Assert.Equal(["x", "y"], results.Select(r => r.Name));
        Assert.True(results[0].MaxRelativeError < 1e-8);
        Assert.True(results[1].MaxRelativeError > 0.1);
        Assert.True(results[1].MaxAbsoluteError > 0.1);
    }

    [Fact]
    public void NumericAndAutogradGradients_LeaveTheParametersAsTheyWere()
    {
        using var x = tensor(new[] { 0.1, 0.2, 0.3 });
        using var before = x.clone();

        foreach (var g in GradientCheck.NumericGradients([x], () => x.square().sum())) g.Dispose();
        foreach (var g in GradientCheck.AutogradGradients([x], p => p[0].square().sum())) g.Dispose();

        Assert.True(x.allclose(before, rtol: 0, atol: 0));
        Assert.False(x.requires_grad);
    }

    [Fact]
    public void NumericGradients_OfFloat32Parameters_Throw()
    {
        using var x = ones(3);

        var error = Assert.Throws<ArgumentException>(() => GradientCheck.NumericGradients([x], () => x.sum()));

        Assert.Contains("float64", error.Message);
    }
}
