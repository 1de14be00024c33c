using RnnNotebooks.Platform;
using TorchSharp;
using static TorchSharp.torch;

namespace RnnNotebooks.Diagnostics;

/// <summary>How far one analytic gradient is from a reference gradient.</summary>
/// <param name="Name">The parameter's name.</param>
/// <param name="MaxRelativeError">
/// <c>max|a − r| / max(max(|a| + |r|), floor)</c>: the largest difference relative to the size of the gradient,
/// so elements that are zero in both do not blow it up.
/// </param>
/// <param name="MaxAbsoluteError"><c>max|a − r|</c>.</param>
/// <remarks>Introduced in 01-vanilla-rnn.</remarks>
public sealed record GradientCheckResult(string Name, double MaxRelativeError, double MaxAbsoluteError);

/// <summary>
/// Checks hand-written gradients against central differences and against autograd. Works for any scalar loss
/// of a list of float64 parameter tensors.
/// </summary>
/// <remarks>Introduced in 01-vanilla-rnn.</remarks>
public static class GradientCheck
{
    /// <summary>
    /// Compares <paramref name="analytic"/> with central-difference gradients of <paramref name="loss"/>,
    /// one result per parameter.
    /// </summary>
    /// <param name="parameters">Named float64 tensors that <paramref name="loss"/> reads; perturbed in place and restored.</param>
    /// <param name="analytic">The gradients to check, in the order of <paramref name="parameters"/>.</param>
    /// <param name="loss">The scalar loss at the current parameter values.</param>
    /// <param name="eps">Half the finite-difference step.</param>
    public static IReadOnlyList<GradientCheckResult> Run(
        IReadOnlyList<(string Name, Tensor Value)> parameters, IReadOnlyList<Tensor> analytic, Func<double> loss, double eps = 1e-6)
    {
        var numeric = NumericGradients([.. parameters.Select(p => p.Value)], loss, eps);
        try
        {
            return Compare([.. parameters.Select(p => p.Name)], analytic, numeric);
        }
        finally
        {
            foreach (var t in numeric) t.Dispose();
        }
    }

    /// <summary>
    /// Central differences <c>(L(θ + ε) − L(θ − ε)) / 2ε</c> for every element of every parameter. The
    /// caller owns the returned tensors (float64, shaped like the parameters).
    /// </summary>
    /// <remarks>
    /// Costs two loss evaluations per parameter element. Float64 only: in float32 the rounding error of the
    /// difference, about 1e-7·|L|/ε, swamps the gradient.
    /// </remarks>
    public static IReadOnlyList<Tensor> NumericGradients(IReadOnlyList<Tensor> parameters, Func<double> loss, double eps = 1e-6)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(eps);
        foreach (var p in parameters)
        {
            if (p.dtype != ScalarType.Float64)
                throw new ArgumentException(
                    $"Numeric gradients need float64 parameters, got {p.dtype}: in float32 the finite differences are " +
                    "mostly rounding error. Build the model with float64 (or convert with .to_type(ScalarType.Float64)).",
                    nameof(parameters));
            if (!p.is_contiguous())
                throw new ArgumentException("Parameters must be contiguous tensors, as they are perturbed in place.", nameof(parameters));
        }

        var result = new List<Tensor>();
        using var noGrad = no_grad();
        foreach (var p in parameters)
        {
            var numeric = new double[p.numel()];
            using var flat = p.view(-1);
            for (var i = 0; i < numeric.Length; i++)
            {
                using var element = flat[i];
                var original = element.item<double>();
                try
                {
                    using (var up = (original + eps).ToScalar()) element.fill_(up);
                    var plus = Evaluate(loss);
                    using (var down = (original - eps).ToScalar()) element.fill_(down);
                    var minus = Evaluate(loss);
                    numeric[i] = (plus - minus) / (2 * eps);
                }
                finally
                {
                    using var back = original.ToScalar();
                    element.fill_(back);
                }
            }
            result.Add(tensor(numeric, p.shape, ScalarType.Float64));
        }
        return result;
    }

    /// <inheritdoc cref="NumericGradients(IReadOnlyList{Tensor}, Func{double}, double)"/>
    public static IReadOnlyList<Tensor> NumericGradients(IReadOnlyList<Tensor> parameters, Func<Tensor> loss, double eps = 1e-6) =>
        NumericGradients(parameters, () => loss().item<double>(), eps);

    /// <summary>
    /// Gradients of <paramref name="loss"/> by autograd, at the values of <paramref name="parameters"/>.
    /// <paramref name="loss"/> receives copies that require gradients and must compute from them; the
    /// parameters themselves are not touched. The caller owns the returned tensors.
    /// </summary>
    public static IReadOnlyList<Tensor> AutogradGradients(IReadOnlyList<Tensor> parameters, Func<IReadOnlyList<Tensor>, Tensor> loss)
    {
        using var scope = NewDisposeScope();
        using var grad = enable_grad();
        var copies = parameters.Select(p => p.detach().clone().requires_grad_(true)).ToArray();
        var value = loss(copies);
        if (value.numel() != 1)
            throw new ArgumentException($"The loss must be a scalar, got shape [{string.Join(", ", value.shape)}].", nameof(loss));
        value.backward();
        var gradients = copies
            .Select((c, i) => c.grad?.detach().clone() ?? zeros_like(parameters[i]))
            .ToArray();
        scope.MoveToOuter(gradients);
        return gradients;
    }

    /// <summary>Compares each analytic gradient with its reference (numeric or autograd).</summary>
    /// <param name="names">Parameter names, for the results.</param>
    /// <param name="analytic">Gradients to check.</param>
    /// <param name="reference">Gradients believed correct, same order and shapes.</param>
    /// <param name="floor">Smallest gradient size used as denominator, so that an all-zero gradient compares absolutely.</param>
    public static IReadOnlyList<GradientCheckResult> Compare(
        IReadOnlyList<string> names, IReadOnlyList<Tensor> analytic, IReadOnlyList<Tensor> reference, double floor = 1e-8)
    {
        if (names.Count != analytic.Count || analytic.Count != reference.Count)
            throw new ArgumentException(
                $"Expected as many names, analytic and reference gradients; got {names.Count}, {analytic.Count} and {reference.Count}.");
        using var scope = NewDisposeScope();
        var results = new List<GradientCheckResult>();
        for (var i = 0; i < names.Count; i++)
        {
            if (!analytic[i].shape.SequenceEqual(reference[i].shape))
                throw new ArgumentException(
                    $"{names[i]}: analytic gradient has shape [{string.Join(", ", analytic[i].shape)}], reference " +
                    $"[{string.Join(", ", reference[i].shape)}]; they must match the parameter's shape.");
            var a = analytic[i].to_type(ScalarType.Float64);
            var r = reference[i].to_type(ScalarType.Float64);
            var absolute = a.numel() == 0 ? 0.0 : a.sub(r).abs().max().item<double>();
            var size = a.numel() == 0 ? 0.0 : a.abs().add(r.abs(), Scalars.One).max().item<double>();
            results.Add(new GradientCheckResult(names[i], absolute / Math.Max(size, floor), absolute));
        }
        return results;
    }

    static double Evaluate(Func<double> loss)
    {
        using var scope = NewDisposeScope();
        return loss();
    }
}
