using TorchSharp;

namespace RnnNotebooks.Training;

/// <summary>One call that makes a run repeatable: seeds torch and the library's own random streams.</summary>
/// <remarks>
/// <see cref="Set"/> seeds
/// <list type="bullet">
/// <item>torch's default CPU generator (<c>torch.random.manual_seed</c>): weight initialisation, dropout,
/// <c>randn</c>, <c>randperm</c>, …;</item>
/// <item>every CUDA device's generator (<c>torch.cuda.manual_seed_all</c>), when CUDA is available;</item>
/// <item><see cref="Random"/>, the process-wide <see cref="System.Random"/> that library code uses, and the
/// base of every stream handed out by <see cref="CreateRandom"/>.</item>
/// </list>
/// It cannot seed anything else: a <c>new Random()</c> in your own code, or <see cref="System.Random.Shared"/>.
/// What remains nondeterministic: TorchSharp 0.107 exposes neither <c>use_deterministic_algorithms</c> nor
/// <c>backends.cudnn.deterministic</c>, so some CUDA kernels may differ from run to run; on the CPU a run is
/// bit-for-bit repeatable for a fixed thread count (<see cref="Threads"/>), because parallel reductions
/// split their work by thread count. <see cref="Set"/> turns TF32 off on CUDA so results do not depend on
/// the GPU generation.
/// Introduced in 00-getting-started.
/// </remarks>
public static class Seeds
{
    static readonly object Gate = new();
    static int? current;
    static Random random = new();

    /// <summary>The seed of the last <see cref="Set"/>, or null if none was set in this process.</summary>
    public static int? Current
    {
        get { lock (Gate) return current; }
    }

    /// <summary>
    /// The process-wide random stream, restarted by every <see cref="Set"/>. Unseeded until the first
    /// <see cref="Set"/>. Not thread-safe: a component that runs on its own thread, or whose order of use
    /// should not depend on what ran before it, takes its own stream from <see cref="CreateRandom"/>.
    /// </summary>
    public static Random Random
    {
        get { lock (Gate) return random; }
    }

    /// <summary>Seeds torch (CPU and CUDA) and <see cref="Random"/> with <paramref name="seed"/>.</summary>
    public static void Set(int seed)
    {
        lock (Gate)
        {
            torch.random.manual_seed(seed);
            if (torch.cuda.is_available())
            {
                torch.cuda.manual_seed_all(seed);
                torch.backends.cuda.matmul.allow_tf32 = false;
                torch.backends.cudnn.allow_tf32 = false;
            }
            random = new Random(seed);
            current = seed;
        }
    }

    /// <summary>
    /// Makes <paramref name="seed"/> current again without touching torch's generators (whose exact state a
    /// checkpoint restores): <see cref="CreateRandom"/> gives the streams of the saved run, and
    /// <see cref="Random"/> restarts from the seed (its position is not saved).
    /// </summary>
    internal static void Restore(int seed)
    {
        lock (Gate)
        {
            random = new Random(seed);
            current = seed;
        }
    }

    /// <summary>
    /// A new random stream derived from the current seed and <paramref name="offset"/>: the same seed and
    /// offset always give the same stream, whatever else has drawn from <see cref="Random"/>. Use a distinct
    /// offset per component (e.g. the epoch number for a shuffle, so a resumed run shuffles the same way).
    /// Before any <see cref="Set"/> the stream is unseeded.
    /// </summary>
    public static Random CreateRandom(int offset)
    {
        var seed = Current;
        return seed is null ? new Random() : new Random(Mix(seed.Value, offset));
    }

    /// <summary>A SplitMix64 finaliser over (seed, offset), so nearby offsets give unrelated streams.</summary>
    static int Mix(int seed, int offset)
    {
        unchecked
        {
            var z = (((ulong)(uint)seed << 32) | (uint)offset) + 0x9E3779B97F4A7C15UL;
            z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
            z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
            z ^= z >> 31;
            return (int)(z & 0x7FFF_FFFF);
        }
    }
}
