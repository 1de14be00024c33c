using System.Diagnostics.CodeAnalysis;
using RnnNotebooks.Data;

namespace RnnNotebooks.Tests.Data;

/// <summary>
/// Tests that need the course's real data: without it they are skipped with the reason, or fail where
/// <c>RNN_REQUIRE_SHARED_DATA=1</c> (CI sets it, so that data missing there is noticed rather than skipped).
/// </summary>
static class RequiredData
{
    /// <summary>The variable that turns missing data from a skip into a failure.</summary>
    public const string Variable = "RNN_REQUIRE_SHARED_DATA";

    static bool Required => Environment.GetEnvironmentVariable(Variable) == "1";

    /// <summary>The dataset's location; skips (or fails) the test when it is not present.</summary>
    public static DatasetLocation Dataset(string name)
    {
        var location = Datasets.Locate(name);
        if (!location.IsPresent)
            Missing($"{name} not found (searched: {string.Join("; ", location.Searched)}).");
        return location;
    }

    /// <summary>Skips the test, saying why, or fails it where the data is required.</summary>
    [DoesNotReturn]
    public static void Missing(string why)
    {
        Assert.False(Required, $"{why} {Variable}=1 says it must be there.");
        Assert.Skip($"{why} Set {Variable}=1 to make this a failure.");
    }
}
