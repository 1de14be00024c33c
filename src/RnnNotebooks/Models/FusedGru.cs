using TorchSharp;
using static TorchSharp.torch;

namespace RnnNotebooks.Models;

/// <summary>
/// A GRU layer stack for training on the CPU, with the backward pass through time written by hand: the same
/// arithmetic as <c>nn.GRU</c> (same weights, same gate order r, z, n, same results to rounding), arranged so that
/// every matrix product takes the fast path of the BLAS underneath.
/// </summary>
/// <remarks>
/// <para>
/// Why: libtorch's CPU GRU runs a GRU cell per time step, and its step product <c>h·W_hhᵀ</c> (batch 32, hidden 256:
/// [32 × 256]·[256 × 768]) reaches MKL as a product with a transposed operand. For these shapes MKL's transposed
/// path is slow and gains little or nothing from a second thread: <c>rnn bench --threads 1,2 --only "gemm GRU"</c>
/// on the course's idle 2-core AMD EPYC gave 91–96 GFLOP/s on 1 thread and 61–107 on 2 in that layout, against 108
/// and 153–160 with <c>W_hhᵀ</c> stored contiguously (two runs, 2026-11-26). Autograd also
/// accumulates <c>∂L/∂W_hh</c> with one thin product per step.
/// </para>
/// <para>
/// How: the input projections <c>W_ih·x + b_ih</c> of all steps are one product (done by autograd, outside the
/// recurrence). The recurrence is one custom autograd function per layer. Its forward multiplies by a contiguous
/// copy of <c>W_hhᵀ</c> (made once per call) and keeps the gates; its backward walks back through time with one
/// product by <c>W_hh</c> (already the fast layout) and a few element-wise operations per step, then forms
/// <c>∂L/∂W_hh</c> and <c>∂L/∂b_hh</c> with one large product and one sum over all steps. The derivation is lesson
/// 02's GRU cell: with <c>h' = n + z ⊙ (h − n)</c>, <c>n = tanh(a_n + r ⊙ g_n)</c>, <c>r = σ(a_r + g_r)</c>,
/// <c>z = σ(a_z + g_z)</c> (<c>a = W_ih·x + b_ih</c>, <c>g = W_hh·h + b_hh</c>):
/// <c>∂a_n = ∂h' ⊙ (1 − z) ⊙ (1 − n²)</c>, <c>∂a_z = ∂h' ⊙ (h − n) ⊙ z(1 − z)</c>,
/// <c>∂a_r = ∂a_n ⊙ g_n ⊙ r(1 − r)</c>, <c>∂g = [∂a_r, ∂a_z, ∂a_n ⊙ r]</c>, <c>∂h = ∂h' ⊙ z + ∂g·W_hh</c>.
/// </para>
/// <para>
/// <see cref="LanguageModel"/> and <see cref="Speech.AcousticModel"/> (bidirectional: <see cref="ForwardBidirectional"/>)
/// use it when training a GRU on the CPU (<see cref="Platform.TorchKernels.FusedGru"/>;
/// <c>RNN_FUSED_GRU=0</c> switches back to <c>nn.GRU</c>). Evaluation and generation keep <c>nn.GRU</c>. Introduced
/// for the performance work of <c>rnn bench</c>; the tests check it against <c>nn.GRU</c> with the same weights and
/// against central differences.
/// </para>
/// </remarks>
public static class FusedGru
{
    /// <summary>
    /// Runs a stack of GRU layers over a time-major input, with gradients for the input, the initial state and
    /// every weight.
    /// </summary>
    /// <param name="input">Input <c>[steps, batch, features]</c>.</param>
    /// <param name="h0">Initial state <c>[layers, batch, hidden]</c>, or null for zeros.</param>
    /// <param name="weights">Per layer: <c>W_ih [3H, in]</c>, <c>W_hh [3H, H]</c>, <c>b_ih [3H]</c>, <c>b_hh [3H]</c>, as in <c>nn.GRU</c>.</param>
    /// <param name="dropout">Dropout on the outputs of every layer but the last (as <c>nn.GRU</c>'s <c>dropout</c>).</param>
    /// <param name="training">Whether dropout applies.</param>
    /// <returns>The top layer's outputs <c>[steps, batch, hidden]</c> and the last state of every layer <c>[layers, batch, hidden]</c>.</returns>
    public static (Tensor Output, Tensor State) Forward(Tensor input, Tensor? h0,
        IReadOnlyList<(Tensor WeightIh, Tensor WeightHh, Tensor BiasIh, Tensor BiasHh)> weights, double dropout = 0, bool training = false)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(weights);
        if (weights.Count == 0) throw new ArgumentException("Expected the weights of at least one layer.", nameof(weights));
        if (input.dim() != 3) throw new ArgumentException($"Expected a time-major input [steps, batch, features], got [{string.Join(", ", input.shape)}].", nameof(input));
        var (steps, batch) = (input.shape[0], input.shape[1]);
        var hidden = weights[0].WeightHh.shape[1];
        if (steps == 0) throw new ArgumentException("The input has no time steps.", nameof(input));
        if (h0 is not null && !h0.shape.SequenceEqual(new[] { (long)weights.Count, batch, hidden }))
            throw new ArgumentException($"Expected an initial state [{weights.Count}, {batch}, {hidden}], got [{string.Join(", ", h0.shape)}].", nameof(h0));

        using var scope = NewDisposeScope();
        var x = input;
        var last = new Tensor[weights.Count];
        for (var layer = 0; layer < weights.Count; layer++)
        {
            var (wih, whh, bih, bhh) = weights[layer];
            if (x.shape[2] != wih.shape[1])
                throw new ArgumentException($"Layer {layer}: W_ih expects {wih.shape[1]} features, the input has {x.shape[2]}.", nameof(weights));
            var projected = nn.functional.linear(x, wih, bih);                                 // [steps, batch, 3H]
            var start = h0 is null ? zeros(batch, hidden, dtype: input.dtype, device: input.device) : h0[layer];
            x = GruRecurrence.apply(projected, start, whh, bhh);                               // [steps, batch, H]
            last[layer] = x[-1];
            if (layer < weights.Count - 1 && dropout > 0 && training) x = nn.functional.dropout(x, dropout, training: true);
        }
        var state = stack(last);
        return (x.MoveToOuterDisposeScope(), state.MoveToOuterDisposeScope());
    }

    /// <summary>
    /// Runs a stack of bidirectional GRU layers over a padded, time-major batch, with gradients for the input and
    /// every weight: what <c>nn.GRU(…, bidirectional: true)</c> computes over a packed sequence, from zero states.
    /// </summary>
    /// <param name="input">Input <c>[steps, batch, features]</c>; frames at or past an utterance's length are padding.</param>
    /// <param name="lengths">True length of every utterance (<c>[batch]</c>, int64, each in 1…steps).</param>
    /// <param name="forward">Per layer, the forward direction's weights (<see cref="WeightsOf"/>).</param>
    /// <param name="backward">Per layer, the backward direction's weights (<see cref="WeightsOf"/> with <c>reverse: true</c>).</param>
    /// <param name="dropout">Dropout on the outputs of every layer but the last (as <c>nn.GRU</c>'s <c>dropout</c>).</param>
    /// <param name="training">Whether dropout applies.</param>
    /// <returns><c>[steps, batch, 2·hidden]</c>: forward direction, then backward, as <c>nn.GRU</c> lays them out.
    /// Frames past an utterance's length hold values computed from padding; read only the frames before it.</returns>
    /// <remarks>
    /// The backward direction runs forward over every utterance reversed within its own length (frame <c>t</c> ↔
    /// <c>length − 1 − t</c>; padding stays where it is), so it starts at the utterance's last real frame, as a packed
    /// sequence does, and the results are put back in order by the same permutation. In both directions the padding
    /// comes after the real frames, and a recurrence never carries anything backwards in time, so no real frame sees
    /// it. Used by <see cref="Speech.AcousticModel"/> for training (introduced in 05-speech-recognition).
    /// </remarks>
    public static Tensor ForwardBidirectional(Tensor input, Tensor lengths,
        IReadOnlyList<(Tensor WeightIh, Tensor WeightHh, Tensor BiasIh, Tensor BiasHh)> forward,
        IReadOnlyList<(Tensor WeightIh, Tensor WeightHh, Tensor BiasIh, Tensor BiasHh)> backward,
        double dropout = 0, bool training = false)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(lengths);
        ArgumentNullException.ThrowIfNull(forward);
        ArgumentNullException.ThrowIfNull(backward);
        if (forward.Count == 0 || forward.Count != backward.Count)
            throw new ArgumentException($"Expected the weights of the same number (≥ 1) of layers for both directions, got {forward.Count} and {backward.Count}.", nameof(backward));
        if (input.dim() != 3) throw new ArgumentException($"Expected a time-major input [steps, batch, features], got [{string.Join(", ", input.shape)}].", nameof(input));
        var (steps, batch) = (input.shape[0], input.shape[1]);
        if (steps == 0) throw new ArgumentException("The input has no time steps.", nameof(input));
        long[] lengthValues;
        using (NewDisposeScope())
            lengthValues = lengths.cpu().to(ScalarType.Int64).data<long>().ToArray();
        if (lengthValues.Length != batch || lengthValues.Any(n => n < 1 || n > steps))
            throw new ArgumentException($"Expected {batch} lengths in 1…{steps}, got [{string.Join(", ", lengthValues)}].", nameof(lengths));

        using var scope = NewDisposeScope();
        // Row t·batch + b of the flattened input ↔ row t'·batch + b, t' = length − 1 − t inside the utterance.
        var order = new long[steps * batch];
        for (var t = 0; t < steps; t++)
            for (var b = 0; b < batch; b++)
                order[t * batch + b] = (t < lengthValues[b] ? lengthValues[b] - 1 - t : t) * batch + b;
        var reversal = tensor(order, device: input.device);
        Tensor Reversed(Tensor x) => x.reshape(steps * batch, x.shape[2]).index_select(0, reversal).view(steps, batch, x.shape[2]);

        var y = input;
        for (var layer = 0; layer < forward.Count; layer++)
        {
            if (layer > 0 && dropout > 0 && training) y = nn.functional.dropout(y, dropout, training: true);
            var (ahead, behind) = (forward[layer], backward[layer]);
            Check(y, ahead, layer, nameof(forward));
            Check(y, behind, layer, nameof(backward));
            if (!ahead.WeightHh.shape.SequenceEqual(behind.WeightHh.shape))
                throw new ArgumentException($"Layer {layer}: the directions' W_hh differ in shape ([{string.Join(", ", ahead.WeightHh.shape)}] " +
                    $"and [{string.Join(", ", behind.WeightHh.shape)}]).", nameof(backward));
            // The input projections of all steps (autograd's), then both recurrences side by side (one function).
            var both = BidirectionalRecurrence.apply(nn.functional.linear(y, ahead.WeightIh, ahead.BiasIh),
                nn.functional.linear(Reversed(y), behind.WeightIh, behind.BiasIh),
                ahead.WeightHh, ahead.BiasHh, behind.WeightHh, behind.BiasHh);                 // [2, steps, batch, H]
            y = cat([both[0], Reversed(both[1])], 2);
        }
        return y.MoveToOuterDisposeScope();

        static void Check(Tensor x, (Tensor WeightIh, Tensor WeightHh, Tensor BiasIh, Tensor BiasHh) w, int layer, string direction)
        {
            if (x.shape[2] != w.WeightIh.shape[1])
                throw new ArgumentException($"Layer {layer} ({direction}): W_ih expects {w.WeightIh.shape[1]} features, the input has {x.shape[2]}.", direction);
        }
    }

    /// <summary>The weights of every layer of <paramref name="gru"/>, in the order <see cref="Forward"/> takes them.</summary>
    /// <param name="gru">An <c>nn.GRU</c>.</param>
    /// <param name="layers">Its number of layers.</param>
    /// <param name="reverse">The backward direction's weights (<c>…_reverse</c>) of a bidirectional GRU.</param>
    public static IReadOnlyList<(Tensor WeightIh, Tensor WeightHh, Tensor BiasIh, Tensor BiasHh)> WeightsOf(nn.Module gru, int layers, bool reverse = false)
    {
        ArgumentNullException.ThrowIfNull(gru);
        var p = gru.named_parameters().ToDictionary(n => n.name, n => (Tensor)n.parameter);
        var suffix = reverse ? "_reverse" : "";
        var result = new (Tensor, Tensor, Tensor, Tensor)[layers];
        for (var l = 0; l < layers; l++)
        {
            if (!p.ContainsKey($"weight_ih_l{l}{suffix}") || !p.ContainsKey($"bias_ih_l{l}{suffix}"))
                throw new ArgumentException($"The GRU has no weights or biases for layer {l}{(reverse ? " in the backward direction" : "")} (a GRU made without biases{(reverse ? ", or one direction only," : "")} is not supported).", nameof(gru));
            result[l] = (p[$"weight_ih_l{l}{suffix}"], p[$"weight_hh_l{l}{suffix}"], p[$"bias_ih_l{l}{suffix}"], p[$"bias_hh_l{l}{suffix}"]);
        }
        return result;
    }

    /// <summary>
    /// One layer's recurrence as an autograd function: inputs <c>a [steps, batch, 3H]</c> (the input projections),
    /// <c>h0 [batch, H]</c>, <c>W_hh [3H, H]</c>, <c>b_hh [3H]</c>; output every step's state <c>[steps, batch, H]</c>.
    /// </summary>
    sealed class GruRecurrence : autograd.SingleTensorFunction<GruRecurrence>
    {
        public override string Name => nameof(GruRecurrence);

        public override Tensor forward(autograd.AutogradContext ctx, params object[] vars)
        {
            var (a, h0, whh, bhh) = ((Tensor)vars[0], (Tensor)vars[1], (Tensor)vars[2], (Tensor)vars[3]);
            var (y, rz, n, gn) = StepsForward(a, h0, whh, bhh);
            // TorchSharp takes the saved tensors after forward returns, so they must outlive this call; the
            // caller's scope disposes these handles, the autograd graph keeps its own references.
            using var scope = NewDisposeScope();
            scope.Attach([y, rz, n, gn]);
            ctx.save_for_backward([h0, whh, y.MoveToOuterDisposeScope(), rz.MoveToOuterDisposeScope(), n.MoveToOuterDisposeScope(), gn.MoveToOuterDisposeScope()]);
            return y;
        }

        public override List<Tensor> backward(autograd.AutogradContext ctx, Tensor gradOutput)
        {
            using var scope = NewDisposeScope();
            var saved = ctx.get_saved_variables();                                            // fresh handles, owned by this scope
            var (dA, dH0, dWhh, dBhh) = StepsBackward(saved[0], saved[1], saved[2], saved[3], saved[4], saved[5], gradOutput);
            scope.Attach([dA, dH0, dWhh, dBhh]);
            return [dA.MoveToOuterDisposeScope(), dH0.MoveToOuterDisposeScope(), dWhh.MoveToOuterDisposeScope(), dBhh.MoveToOuterDisposeScope()];
        }
    }

    /// <summary>
    /// Both directions of one bidirectional layer as one autograd function, so that their recurrences, which do not
    /// depend on each other, run side by side on two threads in the forward pass and in the backward pass (autograd
    /// would run two functions' backward passes one after the other). Inputs: <c>a</c> of each direction
    /// <c>[steps, batch, 3H]</c> (the backward direction's already reversed), <c>W_hh</c> and <c>b_hh</c> of each,
    /// from zero states; output <c>[2, steps, batch, H]</c>, each direction in its own time order. Every operation is
    /// the one <see cref="GruRecurrence"/> does, so the results are the same to the last bit.
    /// </summary>
    sealed class BidirectionalRecurrence : autograd.SingleTensorFunction<BidirectionalRecurrence>
    {
        public override string Name => nameof(BidirectionalRecurrence);

        public override Tensor forward(autograd.AutogradContext ctx, params object[] vars)
        {
            var a = new[] { (Tensor)vars[0], (Tensor)vars[1] };
            var whh = new[] { (Tensor)vars[2], (Tensor)vars[4] };
            var bhh = new[] { (Tensor)vars[3], (Tensor)vars[5] };
            var results = new (Tensor Y, Tensor Rz, Tensor N, Tensor Gn)[2];
            using var scope = NewDisposeScope();
            var h0 = zeros(a[0].shape[1], whh[0].shape[1], dtype: a[0].dtype, device: a[0].device);
            try
            {
                SideBySide(d => results[d] = StepsForward(a[d], h0, whh[d], bhh[d]));
            }
            finally
            {
                foreach (var r in results) if (r.Y is not null) scope.Attach([r.Y, r.Rz, r.N, r.Gn]);
            }
            var saved = new List<Tensor> { h0.MoveToOuterDisposeScope() };
            for (var d = 0; d < 2; d++)
                saved.AddRange([whh[d], results[d].Y.MoveToOuterDisposeScope(), results[d].Rz.MoveToOuterDisposeScope(),
                    results[d].N.MoveToOuterDisposeScope(), results[d].Gn.MoveToOuterDisposeScope()]);
            ctx.save_for_backward(saved);
            return stack([results[0].Y, results[1].Y]).MoveToOuterDisposeScope();
        }

        public override List<Tensor> backward(autograd.AutogradContext ctx, Tensor gradOutput)
        {
            using var scope = NewDisposeScope();
            var s = ctx.get_saved_variables();                                                // fresh handles, owned by this scope
            var grads = gradOutput.unbind(0);
            var results = new (Tensor DA, Tensor DH0, Tensor DWhh, Tensor DBhh)[2];
            try
            {
                SideBySide(d => results[d] = StepsBackward(s[0], s[1 + 5 * d], s[2 + 5 * d], s[3 + 5 * d], s[4 + 5 * d], s[5 + 5 * d], grads[d]));
            }
            finally
            {
                foreach (var r in results) if (r.DA is not null) scope.Attach([r.DA, r.DH0, r.DWhh, r.DBhh]);
            }
            return [results[0].DA.MoveToOuterDisposeScope(), results[1].DA.MoveToOuterDisposeScope(),
                results[0].DWhh.MoveToOuterDisposeScope(), results[0].DBhh.MoveToOuterDisposeScope(),
                results[1].DWhh.MoveToOuterDisposeScope(), results[1].DBhh.MoveToOuterDisposeScope()];
        }
    }

    /// <summary>Runs <paramref name="direction"/>(0) and (1) on two threads when the machine has two cores or more
    /// (<see cref="BidirectionalThreads"/>), else one after the other. Each worker works without gradients (a custom
    /// function's own arithmetic is not recorded) in its own dispose scope; what it returns must leave that scope.</summary>
    static void SideBySide(Action<int> direction)
    {
        if (!BidirectionalThreads) { direction(0); direction(1); return; }
        Parallel.For(0, 2, new ParallelOptions { MaxDegreeOfParallelism = 2 }, d =>
        {
            using var noGrad = no_grad();
            direction(d);
        });
    }

    /// <summary>The environment variable that, set to 0, makes <see cref="BidirectionalThreads"/> false.</summary>
    public const string BidirectionalThreadsVariable = "RNN_BIGRU_THREADS";

    /// <summary>Whether <see cref="ForwardBidirectional"/> runs its two directions on two threads: true when the
    /// machine has more than one core, unless <c>RNN_BIGRU_THREADS=0</c>. Same results either way; settable, for
    /// measuring.</summary>
    public static bool BidirectionalThreads { get; set; } =
        Environment.ProcessorCount > 1 && Environment.GetEnvironmentVariable(BidirectionalThreadsVariable) != "0";

    /// <summary>One direction's recurrence, step by step: every state <c>y</c>, and the gates r, z (<c>rz</c>), the
    /// candidate <c>n</c> and <c>g_n</c> that the backward pass needs; all outside every dispose scope.</summary>
    static (Tensor Y, Tensor Rz, Tensor N, Tensor Gn) StepsForward(Tensor a, Tensor h0, Tensor whh, Tensor bhh)
    {
        var (steps, hidden) = (a.shape[0], whh.shape[1]);
        using var scope = NewDisposeScope();
        using var one = 1.0f.ToScalar();                                                   // explicit alphas: see backward
        var whhT = whh.t().contiguous();                                                   // see the remarks: MKL's fast layout
        var outputs = new Tensor[steps];
        var rz = new Tensor[steps];
        var n = new Tensor[steps];
        var gn = new Tensor[steps];
        var h = h0;
        var aS = a.unbind(0);
        for (var t = 0; t < steps; t++)
        {
            using var stepScope = NewDisposeScope();
            var at = aS[t];
            var g = addmm(bhh, h, whhT, 1, 1);                                             // [batch, 3H]
            var gates = at.narrow(1, 0, 2 * hidden).add(g.narrow(1, 0, 2 * hidden), one).sigmoid_();
            gn[t] = g.narrow(1, 2 * hidden, hidden).MoveToOuterDisposeScope();
            n[t] = at.narrow(1, 2 * hidden, hidden).addcmul(gates.narrow(1, 0, hidden), gn[t], one).tanh_().MoveToOuterDisposeScope();
            h = n[t].lerp(h, gates.narrow(1, hidden, hidden)).MoveToOuterDisposeScope();   // n + z ⊙ (h − n)
            rz[t] = gates.MoveToOuterDisposeScope();
            outputs[t] = h;
        }
        return (stack(outputs).DetachFromDisposeScope(), stack(rz).DetachFromDisposeScope(),
            stack(n).DetachFromDisposeScope(), stack(gn).DetachFromDisposeScope());
    }

    /// <summary>One direction's backward pass through time: <c>∂L/∂a</c>, <c>∂L/∂h0</c>, <c>∂L/∂W_hh</c>,
    /// <c>∂L/∂b_hh</c> from the forward pass's saved tensors and <c>∂L/∂y</c>; all outside every dispose scope.</summary>
    static (Tensor DA, Tensor DH0, Tensor DWhh, Tensor DBhh) StepsBackward(Tensor h0, Tensor whh, Tensor y, Tensor rz, Tensor n,
        Tensor gn, Tensor gradOutput)
    {
        using var scope = NewDisposeScope();
        // add passes its alpha and r(1 − r) is r − r·r, not square(): an implicit Scalar can be freed by the
        // finalizer mid-call (Platform.Scalars; square() killed a 30-epoch acoustic-model run).
        var one = Platform.Scalars.One;
        var (steps, batch, hidden) = (y.shape[0], y.shape[1], y.shape[2]);
        var hPrev = cat([h0.unsqueeze(0), y[..(int)(steps - 1)]]);                         // [steps, batch, H]
        var (hs, rzs, ns, gns, dys) = (hPrev.unbind(0), rz.unbind(0), n.unbind(0), gn.unbind(0), gradOutput.unbind(0));
        var dGs = new Tensor[steps];
        var dAs = new Tensor[steps];
        var carry = zeros(batch, hidden, dtype: y.dtype, device: y.device);
        // One step at a time, on small tensors that stay in cache; each step's temporaries are freed at once.
        for (var t = steps - 1; t >= 0; t--)
        {
            using var stepScope = NewDisposeScope();
            var d = dys[t].add(carry, one);                                                // ∂L/∂h' at step t
            var r = rzs[t].narrow(1, 0, hidden);
            var z = rzs[t].narrow(1, hidden, hidden);
            var dz = d.mul(z);                                                             // the path through z ⊙ h
            var dn = d.sub(dz);                                                            // ∂h' ⊙ (1 − z)
            var an = dn.sub(dn.mul(ns[t]).mul_(ns[t]));                                    // ⊙ (1 − n²): ∂a_n
            var ar = an.mul(gns[t]).mul_(r.sub(r.mul(r)));                                 // ⊙ g_n ⊙ r(1 − r): ∂a_r
            var az = hs[t].sub(ns[t]).mul_(d).mul_(z.sub(z.mul(z)));                       // (h − n) ⊙ z(1 − z): ∂a_z
            var dg = cat([ar, az, an.mul(r)], 1);                                          // ∂g = [∂a_r, ∂a_z, ∂a_n ⊙ r]
            dAs[t] = cat([ar, az, an], 1).MoveToOuterDisposeScope();
            carry = addmm(dz, dg, whh, 1, 1).MoveToOuterDisposeScope();                    // ∂L/∂h at step t − 1
            dGs[t] = dg.MoveToOuterDisposeScope();
        }
        var dG = stack(dGs).view(steps * batch, 3 * hidden);
        var dA = stack(dAs);
        var dWhh = dG.t().mm(hPrev.view(steps * batch, hidden));
        var dBhh = dG.sum(dim: 0L);
        return (dA.DetachFromDisposeScope(), carry.DetachFromDisposeScope(), dWhh.DetachFromDisposeScope(), dBhh.DetachFromDisposeScope());
    }
}
