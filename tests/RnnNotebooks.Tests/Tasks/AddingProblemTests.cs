using RnnNotebooks.Tasks;
using static TorchSharp.torch;

namespace RnnNotebooks.Tests.Tasks;

public class AddingProblemTests
{
    [Fact]
    public void Generate_SameSeed_GivesTheSameBatch()
    {
        using var a = AddingProblem.Generate(8, 20, new Random(3));
        using var b = AddingProblem.Generate(8, 20, new Random(3));
        using var c = AddingProblem.Generate(8, 20, new Random(4));

        Assert.True(a.Inputs.allclose(b.Inputs, rtol: 0, atol: 0));
        Assert.True(a.Targets.allclose(b.Targets, rtol: 0, atol: 0));
        Assert.Equal(a.First, b.First);
        Assert.False(a.Inputs.allclose(c.Inputs, rtol: 0, atol: 0));
    }

    [Fact]
    public void Generate_HasTheDocumentedShapes()
    {
        using var batch = AddingProblem.Generate(6, 11, new Random(1));

        Assert.Equal(new long[] { 6, 11, 2 }, batch.Inputs.shape);
        Assert.Equal(new long[] { 6 }, batch.Targets.shape);
        Assert.Equal(ScalarType.Float32, batch.Inputs.dtype);
        Assert.Equal((6, 11), (batch.Count, batch.Length));
    }

    [Fact]
    public void Generate_MarksOneStepInEachHalf_AndTargetsTheirSum()
    {
        using var batch = AddingProblem.Generate(50, 9, new Random(2));
        var x = batch.Inputs.data<float>().ToArray();
        var y = batch.Targets.data<float>().ToArray();

        for (var b = 0; b < 50; b++)
        {
            var marked = Enumerable.Range(0, 9).Where(t => x[(b * 9 + t) * 2 + 1] == 1).ToArray();
            Assert.Equal([batch.First[b], batch.Second[b]], marked);
            Assert.InRange(batch.First[b], 0, 3);                                      // first half: 0 … length/2 − 1
            Assert.InRange(batch.Second[b], 4, 8);
            Assert.Equal(x[(b * 9 + marked[0]) * 2] + x[(b * 9 + marked[1]) * 2], y[b], 6);
        }
        Assert.All(x.Where((_, i) => i % 2 == 0), v => Assert.InRange(v, 0f, 1f));
    }

    [Fact]
    public void ChanceMse_IsTheVarianceOfTheTarget()
    {
        using var batch = AddingProblem.Generate(20000, 4, new Random(5));

        Assert.Equal(AddingProblem.ChanceMse, batch.Targets.to_type(ScalarType.Float64).var().item<double>(), 2);
    }

    [Fact]
    public void Accuracy_CountsAnswersWithinTheTolerance()
    {
        using var targets = tensor(new[] { 1.0f, 0.5f, 1.5f, 0.2f });
        using var predictions = tensor(new[] { 1.03f, 0.45f, 1.0f, 0.2f });

        Assert.Equal(0.5, AddingProblem.Accuracy(predictions, targets));
    }
}
