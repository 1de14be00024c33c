using TorchSharp;

namespace RnnNotebooks.Training;

/// <summary>Learning-rate schedules, and setting an optimizer's rate.</summary>
/// <remarks>Introduced in 03-language-modeling, for budgeted command-line runs.</remarks>
public static class LearningRates
{
    /// <summary>
    /// Cosine decay: <paramref name="baseRate"/> at progress 0, falling smoothly to
    /// <paramref name="floor"/> × <paramref name="baseRate"/> at progress 1 (progress is clamped to [0, 1]).
    /// With a time budget, progress is the fraction of the budget used, so the rate reaches its floor just as
    /// the budget runs out — the usual way to get the most out of a fixed amount of training.
    /// </summary>
    public static double Cosine(double baseRate, double progress, double floor = 0.0)
    {
        if (baseRate <= 0 || !double.IsFinite(baseRate)) throw new ArgumentOutOfRangeException(nameof(baseRate), baseRate, "The base rate must be positive.");
        if (floor is < 0 or > 1) throw new ArgumentOutOfRangeException(nameof(floor), floor, "The floor is a fraction of the base rate, in [0, 1].");
        var p = double.IsNaN(progress) ? 0 : Math.Clamp(progress, 0, 1);
        return baseRate * (floor + (1 - floor) * 0.5 * (1 + Math.Cos(Math.PI * p)));
    }

    /// <summary>
    /// Hold, then decay: <paramref name="baseRate"/> for the first 1 − <paramref name="decayFraction"/> of the
    /// budget, then a cosine fall to zero over the rest. The model learns at full speed for most of the budget and
    /// still ends with the small steps that settle it into a minimum; a plain cosine spends half the budget at less
    /// than half the rate, which costs a model that is far from converged.
    /// </summary>
    public static double HoldThenCosine(double baseRate, double progress, double decayFraction = 0.3)
    {
        if (decayFraction is <= 0 or > 1 || double.IsNaN(decayFraction))
            throw new ArgumentOutOfRangeException(nameof(decayFraction), decayFraction, "The decay fraction is the share of the budget spent decaying, in (0, 1].");
        var p = double.IsNaN(progress) ? 0 : Math.Clamp(progress, 0, 1);
        var start = 1 - decayFraction;
        return p <= start ? Cosine(baseRate, 0) : Cosine(baseRate, (p - start) / decayFraction);
    }

    /// <summary>Sets the learning rate of every parameter group of <paramref name="optimizer"/>.</summary>
    public static void Set(torch.optim.Optimizer optimizer, double rate)
    {
        ArgumentNullException.ThrowIfNull(optimizer);
        foreach (var group in optimizer.ParamGroups) group.LearningRate = rate;
    }
}
