namespace RnnNotebooks.Training;

/// <summary>Checks the training recipes' options records share: finite numbers in range, named by their property.</summary>
/// <remarks>Introduced in 03-language-modeling.</remarks>
public static class Recipe
{
    /// <summary>Throws unless <paramref name="value"/> is finite and above zero.</summary>
    public static void Positive(double value, string name)
    {
        if (!(double.IsFinite(value) && value > 0))
            throw new ArgumentOutOfRangeException(name, value, "Expected a finite number above 0.");
    }

    /// <summary>Throws unless <paramref name="value"/> is a probability in [0, 1).</summary>
    public static void Probability(double value, string name)
    {
        if (!(value is >= 0 and < 1))
            throw new ArgumentOutOfRangeException(name, value, "Expected a probability in [0, 1).");
    }

    /// <summary>Throws unless <paramref name="value"/> is a thread count under <see cref="Training.Threads.Requested"/>'s rule.</summary>
    public static void Threads(int value, string name)
    {
        try
        {
            Training.Threads.Requested(value);
        }
        catch (ArgumentOutOfRangeException e)
        {
            throw new ArgumentOutOfRangeException(name, value, e.Message.Split('\n')[0].Split(" (Parameter")[0]);
        }
    }
}
