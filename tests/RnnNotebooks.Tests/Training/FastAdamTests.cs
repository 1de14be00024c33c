using RnnNotebooks.Training;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace RnnNotebooks.Tests.Training;

[Collection(TorchGlobalState.Name)]
public class FastAdamTests
{
    static (Sequential Model, Tensor X, Tensor Y) Problem(int seed)
    {
        torch.manual_seed(seed);
        var model = nn.Sequential(nn.Linear(6, 16), nn.Tanh(), nn.Linear(16, 3));
        return (model, randn(40, 6), randn(40, 3));
    }

    static void Train(nn.Module<Tensor, Tensor> model, optim.Optimizer optimizer, Tensor x, Tensor y, int steps)
    {
        for (var i = 0; i < steps; i++)
        {
            using var scope = NewDisposeScope();
            optimizer.zero_grad();
            nn.functional.mse_loss(model.call(x), y).backward();
            optimizer.step();
        }
    }

    [Theory]
    [InlineData(0.0, false)]
    [InlineData(0.05, false)]
    [InlineData(0.0, true)]
    public void Steps_FollowTorchSharpsAdam(double weightDecay, bool maximize)
    {
        var (reference, x, y) = Problem(3);
        var (fast, _, _) = Problem(3);                      // the same initial weights
        using (x) using (y) using (reference) using (fast)
        {
            using var torchAdam = optim.Adam(reference.parameters(), lr: 0.01, weight_decay: weightDecay, maximize: maximize);
            using var fastAdam = new FastAdam(fast.parameters(), lr: 0.01, weight_decay: weightDecay, maximize: maximize);
            var start = fast.parameters().Select(p => p.detach().clone()).ToList();

            Train(reference, torchAdam, x, y, 60);
            Train(fast, fastAdam, x, y, 60);

            foreach (var (r, f) in reference.parameters().Zip(fast.parameters()))
                Assert.True(r.allclose(f, rtol: 1e-4, atol: 1e-6), $"max difference {(r - f).abs().max().item<float>()}");
            // ... and they did move: 60 steps at 0.01 is far more than the tolerance.
            Assert.Contains(fast.parameters().Zip(start), pair => (pair.First - pair.Second).abs().max().item<float>() > 0.1f);
            foreach (var p in start) p.Dispose();
        }
    }

    [Fact]
    public void Checkpoints_MoveBetweenFastAdamAndTorchSharpsAdam()
    {
        var dir = Directory.CreateTempSubdirectory("fastadam-");
        try
        {
            var (a, x, y) = Problem(5);
            var (b, _, _) = Problem(6);                     // different weights, overwritten by the load
            var (c, _, _) = Problem(5);                     // continues without a checkpoint
            using (x) using (y) using (a) using (b) using (c)
            {
                using var fast = new FastAdam(a.parameters(), lr: 0.02);
                Train(a, fast, x, y, 10);
                Checkpoint.Save(dir.FullName, a, fast, TrainingState.Start(new TrainerOptions()));

                using var loaded = optim.Adam(b.parameters(), lr: 0.02);
                Checkpoint.Load(dir.FullName, b, loaded);
                using var uninterrupted = new FastAdam(c.parameters(), lr: 0.02);
                Train(c, uninterrupted, x, y, 10);

                // Resuming with torch's Adam continues the same run: the moments and step count came across.
                Train(b, loaded, x, y, 10);
                Train(c, uninterrupted, x, y, 10);
                foreach (var (p, q) in b.parameters().Zip(c.parameters()))
                    Assert.True(p.allclose(q, rtol: 1e-4, atol: 1e-6));
            }
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    [Fact]
    public void Steps_LeaveNoTensorsBehind()
    {
        var (model, x, y) = Problem(7);
        using (x) using (y) using (model)
        {
            using var adam = new FastAdam(model.parameters());
            Train(model, adam, x, y, 2);                    // creates the gradients and the scratch buffers
            var live = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
            Train(model, adam, x, y, 200);
            Assert.Equal(live, DisposeScopeManager.Statistics.ThreadTotalLiveCount);
        }
    }
}
