using RnnNotebooks.Audio;
using RnnNotebooks.Speech;

namespace RnnNotebooks.Tests.Speech;

public sealed class AsrTrainingTests
{
    [Fact]
    public void Splits_PutEveryIndexInExactlyOnePart_TestFiveValidationFiveTrainingForty()
    {
        var parts = Enumerable.Range(0, 50).Select(i => new DigitRecording(3, "alice", i, $"3_alice_{i}.wav"))
            .Select(r => (r.IsOfficialTest ? 1 : 0) + (AsrTraining.IsValidation(r) ? 2 : 0) + (AsrTraining.IsTraining(r) ? 4 : 0))
            .ToList();

        Assert.All(parts, p => Assert.Contains(p, new[] { 1, 2, 4 }));
        Assert.Equal(5, parts.Count(p => p == 1));
        Assert.Equal(5, parts.Count(p => p == 2));
        Assert.Equal(40, parts.Count(p => p == 4));
    }
}
