using TorchSharp;

namespace RnnNotebooks.Tests.Models;

/// <summary>
/// The models under test are tiny: on a 2-core machine, intra-op threads of concurrently running tests only
/// spin against each other (one measurement: 0.5 s alone vs 10 s in parallel for the training test).
/// </summary>
static class SingleThreadedTorch
{
    internal static void Ensure()
    {
        if (torch.get_num_threads() != 1) torch.set_num_threads(1);
    }
}
