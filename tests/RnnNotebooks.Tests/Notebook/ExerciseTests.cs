using RnnNotebooks.Notebook;
using static TorchSharp.torch;

namespace RnnNotebooks.Tests.Notebook;

public sealed class ExerciseTests
{
    static Tensor Unanswered() => throw new NotImplementedException();

    [Fact]
    public void CheckCode_StubStillThrowingNotImplemented_IsNotAnsweredYet()
    {
        var r = Exercise.CheckTensor("stub", Unanswered, ones(2), 1e-6, "hint");
        Assert.Null(r.Correct);
        Assert.Contains("not answered yet", r.Message);
    }

    [Fact]
    public void CheckTensor_RightAnswer_IsRight_WrongValues_AndWrongShape_AreWrong()
    {
        Assert.True(Exercise.CheckTensor("right", () => ones(2, 3) * 2, full(2, 3, 2.0), 1e-6, "h").Correct);
        var wrong = Exercise.CheckTensor("values", () => ones(2, 3), full(2, 3, 2.0), 1e-6, "h");
        Assert.False(wrong.Correct);
        Assert.Contains("largest difference", wrong.Message);
        var shape = Exercise.CheckTensor("shape", () => ones(3, 2), full(2, 3, 2.0), 1e-6, "h");
        Assert.False(shape.Correct);
        Assert.Contains("[3, 2]", shape.Message);
    }

    [Fact]
    public void CheckCode_OtherException_IsAWrongAnswerNamingIt_NotAnError()
    {
        var r = Exercise.CheckCode<int>("throws", () => throw new InvalidOperationException("boom"), _ => null, "h");
        Assert.False(r.Correct);
        Assert.Contains("InvalidOperationException", r.Message);
        Assert.Contains("boom", r.Message);
    }

    [Fact]
    public void CheckCode_JudgeSaysWhatIsWrong()
    {
        var r = Exercise.CheckCode("judge", () => 3, v => v == 4 ? null : $"got {v}, not 4.", "add one");
        Assert.False(r.Correct);
        Assert.StartsWith("got 3, not 4.", r.Message);
        Assert.True(Exercise.CheckCode("judge", () => 4, v => v == 4 ? null : "no", "h").Correct);
    }
}
