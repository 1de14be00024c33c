using RnnNotebooks.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace RnnNotebooks.Tests.Training;

public sealed class WeightSnapshotTests
{
    [Fact]
    public void Restore_PutsTheCopiedWeightsBack_AsOftenAsAsked_ThenDisposeFreesTheCopies()
    {
        using var layer = nn.Linear(2, 1);
        var live = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        var snapshot = new WeightSnapshot(layer);
        float First()
        {
            using var scope = NewDisposeScope();
            return layer.parameters().First()[0, 0].item<float>();
        }
        var original = First();

        for (var value = 5f; value < 7f; value++)
        {
            using (NewDisposeScope())
            using (no_grad()) layer.parameters().First()[0, 0] = value;
            Assert.Equal(value, First());
            snapshot.Restore();
            Assert.Equal(original, First());
        }

        snapshot.Dispose();
        Assert.Throws<ObjectDisposedException>(snapshot.Restore);
        Assert.Equal(live, DisposeScopeManager.Statistics.ThreadTotalLiveCount);
    }
}
