using TorchSharp;
using static TorchSharp.torch;

namespace RnnNotebooks.Tasks;

/// <summary>
/// A batch of the adding problem. Owns its tensors.
/// </summary>
/// <param name="Inputs">
/// <c>[batch, length, 2]</c> float32: channel 0 holds a value drawn uniformly from [0, 1) at every step,
/// channel 1 is 1 at the two marked steps and 0 elsewhere.
/// </param>
/// <param name="Targets"><c>[batch]</c> float32: the sum of the two marked values.</param>
/// <param name="First">The first marked step of every sequence, in <c>[0, length/2)</c>.</param>
/// <param name="Second">The second marked step of every sequence, in <c>[length/2, length)</c>.</param>
/// <remarks>Introduced in 02-lstm-and-gru.</remarks>
public sealed record AddingBatch(Tensor Inputs, Tensor Targets, int[] First, int[] Second) : IDisposable
{
    /// <summary>Sequences in the batch.</summary>
    public int Count => First.Length;

    /// <summary>Steps per sequence.</summary>
    public int Length => (int)Inputs.shape[1];

    /// <inheritdoc />
    public void Dispose()
    {
        Inputs.Dispose();
        Targets.Dispose();
    }
}

/// <summary>
/// The adding problem (Hochreiter and Schmidhuber, 1997; in the form of Le, Jaitly and Hinton, 2015): read a
/// sequence of random values, two of them marked, and output their sum after the last step. One mark lies in
/// the first half of the sequence, the other in the second half, so the model must hold the first value for at
/// least <c>length/2</c> steps while ignoring everything unmarked.
/// </summary>
/// <remarks>
/// Predicting the mean (1) always gives a mean squared error of 1/6 (the variance of a sum of two uniform
/// values); remembering only the second value gives 1/12. <see cref="Tolerance"/> defines a correct answer,
/// as in the original paper.
/// Introduced in 02-lstm-and-gru.
/// </remarks>
public static class AddingProblem
{
    /// <summary>An answer within this of the target counts as correct (Hochreiter and Schmidhuber used 0.04).</summary>
    public const double Tolerance = 0.04;

    /// <summary>Mean squared error of always answering 1, the mean of the target: Var(U₁ + U₂) = 1/6.</summary>
    public const double ChanceMse = 1.0 / 6.0;

    /// <summary>
    /// Draws <paramref name="count"/> sequences of <paramref name="length"/> steps from <paramref name="random"/>
    /// alone, so the same seed gives the same batch whatever torch's generator holds.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">count &lt; 1 or length &lt; 2.</exception>
    public static AddingBatch Generate(int count, int length, Random random)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(length, 2);
        ArgumentNullException.ThrowIfNull(random);
        var half = length / 2;
        var data = new float[count * length * 2];
        var targets = new float[count];
        var first = new int[count];
        var second = new int[count];
        for (var b = 0; b < count; b++)
        {
            var row = b * length * 2;
            for (var t = 0; t < length; t++) data[row + 2 * t] = random.NextSingle();
            first[b] = random.Next(0, half);
            second[b] = random.Next(half, length);
            data[row + 2 * first[b] + 1] = 1;
            data[row + 2 * second[b] + 1] = 1;
            targets[b] = data[row + 2 * first[b]] + data[row + 2 * second[b]];
        }
        return new AddingBatch(tensor(data, [count, length, 2]), tensor(targets, [count]), first, second);
    }

    /// <summary>Fraction of <paramref name="predictions"/> within <see cref="Tolerance"/> of <paramref name="targets"/> (both <c>[batch]</c>).</summary>
    public static double Accuracy(Tensor predictions, Tensor targets)
    {
        if (!predictions.shape.SequenceEqual(targets.shape))
            throw new ArgumentException(
                $"Predictions have shape [{string.Join(", ", predictions.shape)}], targets [{string.Join(", ", targets.shape)}]; " +
                "they must match (one number per sequence).", nameof(predictions));
        using var scope = NewDisposeScope();
        using var tolerance = Tolerance.ToScalar();
        return predictions.sub(targets).abs().le(tolerance).to_type(ScalarType.Float64).mean().item<double>();
    }
}
