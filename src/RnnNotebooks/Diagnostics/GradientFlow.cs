using RnnNotebooks.Models;
using static TorchSharp.torch;

namespace RnnNotebooks.Diagnostics;

/// <summary>How the gradient of a loss changes as it flows back through the steps of a recurrent network.</summary>
/// <remarks>Introduced in 01-vanilla-rnn.</remarks>
public static class GradientFlow
{
    /// <summary>
    /// <c>‖∂L/∂h_t‖</c> against the distance <c>d</c> between step <c>t</c> and the loss, where the loss scores
    /// only the last step of each sequence: element <c>d</c> is the norm at <c>d</c> steps before the last
    /// input. Over several sequences it is the geometric mean (the mean on a log scale, where these norms
    /// live).
    /// </summary>
    /// <param name="rnn">The model, not changed.</param>
    /// <param name="sequences">Id sequences of equal length <c>steps + 1</c>: the inputs, then the target of the last one.</param>
    /// <returns><c>steps</c> norms, index = distance from the loss. A norm that underflows to 0 is reported as 1e-300.</returns>
    public static double[] HiddenNormsByDistance(ScratchRnn rnn, IReadOnlyList<int[]> sequences)
    {
        ArgumentNullException.ThrowIfNull(rnn);
        ArgumentNullException.ThrowIfNull(sequences);
        if (sequences.Count == 0 || sequences.Any(s => s.Length < 2 || s.Length != sequences[0].Length))
            throw new ArgumentException(
                "Give at least one sequence, all of the same length and at least two ids long (inputs, then one target).", nameof(sequences));
        var steps = sequences[0].Length - 1;
        var logSum = new double[steps];
        foreach (var sequence in sequences)
        {
            using var scope = NewDisposeScope();
            var targets = Enumerable.Repeat(ScratchRnn.IgnoreTarget, steps).ToArray();
            targets[^1] = sequence[^1];
            using var forward = rnn.Forward(sequence[..^1]);
            using var gradients = rnn.Backward(forward, targets);
            var norms = gradients.Hidden.to_type(ScalarType.Float64).norm(1).data<double>().ToArray();   // [steps]
            for (var d = 0; d < steps; d++) logSum[d] += Math.Log(Math.Max(norms[steps - 1 - d], 1e-300));
        }
        return [.. logSum.Select(s => Math.Exp(s / sequences.Count))];
    }
}
