using RnnNotebooks.Platform;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace RnnNotebooks.Training;

/// <summary>
/// Adam (Kingma &amp; Ba, 2015) exactly as TorchSharp's <see cref="Adam"/> defines it — same options, same state,
/// same saved format — with a step that allocates nothing.
/// </summary>
/// <remarks>
/// <para>
/// TorchSharp's step computes the denominator <c>√v̂ + ε</c> into two new tensors per parameter
/// (<c>sqrt</c>, then a division by <c>√(1 − β₂ᵗ)</c>) that live until the step ends. For lesson 04's
/// 9.6-million-parameter translation model that is ~77 MB of fresh memory and one extra pass over it on every
/// step. Here each parameter keeps one scratch buffer, and the bias correction is folded into the scalars:
/// </para>
/// <code>
/// θ ← θ − (lr/(1 − β₁ᵗ)) · m / (√v / √(1 − β₂ᵗ) + ε)
///   = θ − (lr·√(1 − β₂ᵗ)/(1 − β₁ᵗ)) · m / (√v + ε·√(1 − β₂ᵗ))
/// </code>
/// <para>
/// The two are equal up to float rounding (a test compares them with torch's Adam over many steps). It has no
/// <c>amsgrad</c> (TorchSharp's Adam makes implicit Scalars, see <c>Platform.Scalars</c>; use it for amsgrad).
/// Checkpoints saved with either optimizer load into the other.
/// </para>
/// Introduced in the performance work (docs/benchmarks.md).
/// </remarks>
public sealed class FastAdam : Adam
{
    readonly Dictionary<IntPtr, Tensor> scratch = [];

    /// <summary>Adam over <paramref name="parameters"/>; the arguments mean what they mean for torch.optim.Adam.</summary>
    public FastAdam(IEnumerable<Parameter> parameters, double lr = 1e-3, double beta1 = 0.9, double beta2 = 0.999,
        double eps = 1e-8, double weight_decay = 0, bool amsgrad = false, bool maximize = false)
        : base(parameters, lr, beta1, beta2, eps, weight_decay, amsgrad, maximize)
    {
        if (amsgrad)
            throw new ArgumentException("FastAdam has no amsgrad variant; use torch.optim.Adam(…, amsgrad: true) for it.", nameof(amsgrad));
    }

    /// <summary>One Adam update of every parameter that has a gradient.</summary>
    public override Tensor step(Func<Tensor>? closure = null)
    {
        if (ParamGroups.OfType<ParamGroup>().Any(g => ((Options)g.Options).amsgrad == true))
            throw new InvalidOperationException("FastAdam has no amsgrad variant (a parameter group asks for it); use torch.optim.Adam for it.");
        return _step<ParamGroup>(group =>
        {
            var options = (Options)group.Options;
            double beta1 = options.beta1!.Value, beta2 = options.beta2!.Value, eps = options.eps!.Value;
            double decay = options.weight_decay!.Value, lr = options.LearningRate!.Value;
            var maximize = options.maximize!.Value;
            foreach (var param in group.Parameters)
            {
                var grad = param.grad;
                if (grad is null) continue;
                if (maximize) grad = grad.neg();
                using var decayScalar = decay.ToScalar();
                if (decay != 0) grad = grad.add(param, alpha: decayScalar);

                var state = (State)_state[param.Handle];
                state.step += 1;
                var correction1 = 1 - Math.Pow(beta1, state.step);
                var root2 = Math.Sqrt(1 - Math.Pow(beta2, state.step));

                // Every Scalar is made and disposed here, not left to the finalizer: TorchSharp 0.107 reads an
                // implicit Scalar's handle and then calls libtorch, so a finalizer run during that call can free the
                // Scalar while libtorch reads it (a rare crash, "Expected false to be true … toFloat"; see docs/troubleshooting.md).
                using Scalar b1 = beta1.ToScalar(), b2 = beta2.ToScalar(), oneMinusB1 = (1 - beta1).ToScalar(),
                    oneMinusB2 = (1 - beta2).ToScalar(), epsScaled = (eps * root2).ToScalar(), stepSize = (-lr * root2 / correction1).ToScalar();
                state.exp_avg.mul_(b1).add_(grad, alpha: oneMinusB1);
                state.exp_avg_sq.mul_(b2).addcmul_(grad, grad, value: oneMinusB2);
                var denominator = Scratch(param).copy_(state.exp_avg_sq).sqrt_().add_(epsScaled, Scalars.One);
                param.addcdiv_(state.exp_avg, denominator, value: stepSize);
            }
        }, closure);
    }

    Tensor Scratch(Parameter param)
    {
        if (!scratch.TryGetValue(param.Handle, out var buffer))
            scratch[param.Handle] = buffer = empty_like(param).DetachFromDisposeScope();
        return buffer;
    }

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            foreach (var buffer in scratch.Values) buffer.Dispose();
            scratch.Clear();
        }
        base.Dispose(disposing);
    }
}
