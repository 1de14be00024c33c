using RnnNotebooks.Platform;
using TorchSharp;
using static TorchSharp.torch;

namespace RnnNotebooks.Models;

/// <summary>How a <see cref="ScratchRnn"/> is created.</summary>
/// <param name="DType">Float64 (exact enough for gradient checks) or Float32.</param>
/// <param name="InitScale">
/// Standard deviation of the normal initial weights; biases start at zero. Small weights give near-uniform
/// predictions, so the first loss is close to ln(vocabulary size).
/// </param>
/// <remarks>Introduced in 01-vanilla-rnn.</remarks>
public sealed record ScratchRnnOptions(ScalarType DType = ScalarType.Float64, double InitScale = 0.01);

/// <summary>The update rule of <see cref="ScratchRnn.Step"/>.</summary>
/// <remarks>Introduced in 01-vanilla-rnn.</remarks>
public enum ScratchOptimizer
{
    /// <summary><c>θ ← θ − lr·g</c>.</summary>
    Sgd,
    /// <summary><c>G ← G + g²; θ ← θ − lr·g/√(G + 1e-8)</c>, with <c>G</c> kept per parameter element.</summary>
    Adagrad,
}

/// <summary>One parameter update of a <see cref="ScratchRnn"/>.</summary>
/// <param name="LearningRate">Step size.</param>
/// <param name="Optimizer">SGD or Adagrad.</param>
/// <param name="ClipNorm">If set, all gradients are scaled together so their global L2 norm is at most this.</param>
/// <param name="ClipValue">If set, every gradient element is clamped to ±this (after norm clipping).</param>
/// <remarks>Introduced in 01-vanilla-rnn.</remarks>
public sealed record ScratchStepOptions(
    double LearningRate = 0.1,
    ScratchOptimizer Optimizer = ScratchOptimizer.Adagrad,
    double? ClipNorm = 5.0,
    double? ClipValue = null);

/// <summary>
/// What <see cref="ScratchRnn.Forward"/> computed for one sequence; <see cref="ScratchRnn.Backward"/> reads it.
/// Owns its tensors.
/// </summary>
/// <param name="Inputs">The input ids, one per step.</param>
/// <param name="H0">The initial hidden state <c>[hidden]</c> (a copy).</param>
/// <param name="Hidden">The hidden state after every step, <c>[steps, hidden]</c>.</param>
/// <param name="Logits">Unnormalised next-character scores, <c>[steps, vocab]</c>.</param>
/// <param name="FinalHidden">The last hidden state <c>[hidden]</c>, to carry into the next window.</param>
/// <remarks>Introduced in 01-vanilla-rnn.</remarks>
public sealed record ScratchRnnForward(int[] Inputs, Tensor H0, Tensor Hidden, Tensor Logits, Tensor FinalHidden) : IDisposable
{
    /// <inheritdoc />
    public void Dispose()
    {
        H0.Dispose();
        Hidden.Dispose();
        Logits.Dispose();
        FinalHidden.Dispose();
    }
}

/// <summary>
/// Gradients of the mean loss from <see cref="ScratchRnn.Backward"/>, one per parameter, plus the gradients
/// with respect to the hidden states. Owns its tensors.
/// </summary>
/// <param name="Wxh">∂L/∂W_xh <c>[hidden, vocab]</c>.</param>
/// <param name="Whh">∂L/∂W_hh <c>[hidden, hidden]</c>.</param>
/// <param name="Bh">∂L/∂b_h <c>[hidden]</c>.</param>
/// <param name="Why">∂L/∂W_hy <c>[vocab, hidden]</c>.</param>
/// <param name="By">∂L/∂b_y <c>[vocab]</c>.</param>
/// <param name="Hidden">∂L/∂h_t for every step <c>[steps, hidden]</c>: everything that reaches h_t, from its own
/// output and from all later steps. With only the last target scored (the others
/// <see cref="ScratchRnn.IgnoreTarget"/>) it shows how one loss term's gradient changes with distance.</param>
/// <param name="H0">∂L/∂h_0 <c>[hidden]</c>: what would flow into the previous window without truncation.</param>
/// <remarks>Introduced in 01-vanilla-rnn.</remarks>
public sealed record ScratchRnnGradients(Tensor Wxh, Tensor Whh, Tensor Bh, Tensor Why, Tensor By, Tensor Hidden, Tensor H0)
    : IDisposable
{
    /// <summary>The five parameter gradients in the order of <see cref="ScratchRnn.Parameters"/>.</summary>
    public IReadOnlyList<Tensor> Parameters => [Wxh, Whh, Bh, Why, By];

    /// <summary>L2 norm of the five parameter gradients taken together.</summary>
    public double GlobalNorm()
    {
        using var scope = NewDisposeScope();
        return Math.Sqrt(Parameters.Sum(g => g.mul(g).sum().ToDouble()));
    }

    /// <inheritdoc />
    public void Dispose()
    {
        foreach (var t in new[] { Wxh, Whh, Bh, Why, By, Hidden, H0 }) t.Dispose();
    }
}

/// <summary>Result of <see cref="ScratchRnn.TrainStep"/>.</summary>
/// <param name="Loss">Mean cross-entropy per predicted character, before the update.</param>
/// <param name="GradientNorm">Global gradient norm before clipping.</param>
/// <param name="FinalHidden">Last hidden state <c>[hidden]</c>, to pass as h0 of the next window; the caller owns it.</param>
/// <remarks>Introduced in 01-vanilla-rnn.</remarks>
public sealed record ScratchTrainStep(double Loss, double GradientNorm, Tensor FinalHidden);

/// <summary>
/// A character-level Elman RNN language model with explicit parameter tensors and hand-written
/// backpropagation through time; no autograd:
/// <code>
/// h_t = tanh(W_xh x_t + W_hh h_{t-1} + b_h)
/// o_t = W_hy h_t + b_y
/// </code>
/// with <c>x_t</c> the one-hot input character and <c>o_t</c> the scores of the next one.
/// </summary>
/// <remarks>
/// Weights are stored as PyTorch stores them (<c>W_xh</c> is <c>[hidden, vocab]</c> like <c>weight_ih_l0</c>),
/// so they copy one-to-one into <see cref="RnnLanguageModel"/>.
/// <para>Truncated BPTT is left to the caller: run <see cref="Forward"/> and <see cref="Backward"/> on a
/// window, carry <see cref="ScratchRnnForward.FinalHidden"/> into the next window as its h0, and treat it
/// as a constant there (gradients stop at the window's start). Passing the next window's
/// <see cref="ScratchRnnGradients.H0"/> as <c>dFinalHidden</c> instead gives untruncated gradients.</para>
/// Introduced in 01-vanilla-rnn.
/// </remarks>
public sealed class ScratchRnn : IDisposable
{
    /// <summary>A target id that is not scored: the loss is the mean over the other steps.</summary>
    public const int IgnoreTarget = -1;

    /// <summary>The names of <see cref="Parameters"/>, as in the equations.</summary>
    public static IReadOnlyList<string> ParameterNames { get; } = ["W_xh", "W_hh", "b_h", "W_hy", "b_y"];

    Tensor[]? adagradMemory;

    /// <summary>A model with small random weights (see <see cref="ScratchRnnOptions"/>), drawn from torch's generator.</summary>
    public ScratchRnn(int vocabSize, int hiddenSize, ScratchRnnOptions? options = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(vocabSize, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(hiddenSize, 1);
        options ??= new ScratchRnnOptions();
        VocabSize = vocabSize;
        HiddenSize = hiddenSize;
        DType = options.DType;
        using var scope = NewDisposeScope();
        using var initScale = options.InitScale.ToScalar();
        Wxh = randn(hiddenSize, vocabSize, dtype: DType).mul_(initScale);
        Whh = randn(hiddenSize, hiddenSize, dtype: DType).mul_(initScale);
        Bh = zeros(hiddenSize, dtype: DType);
        Why = randn(vocabSize, hiddenSize, dtype: DType).mul_(initScale);
        By = zeros(vocabSize, dtype: DType);
        // Owned by the model, not by whatever dispose scope the caller has open.
        scope.Detach(Wxh, Whh, Bh, Why, By);
    }

    /// <summary>Number of characters in and out.</summary>
    public int VocabSize { get; }

    /// <summary>Size of the hidden state.</summary>
    public int HiddenSize { get; }

    /// <summary>Element type of every tensor of the model.</summary>
    public ScalarType DType { get; }

    /// <summary>Input-to-hidden weights <c>[hidden, vocab]</c>; column <c>c</c> is what character <c>c</c> adds.</summary>
    public Tensor Wxh { get; }

    /// <summary>Hidden-to-hidden weights <c>[hidden, hidden]</c>.</summary>
    public Tensor Whh { get; }

    /// <summary>Hidden bias <c>[hidden]</c>.</summary>
    public Tensor Bh { get; }

    /// <summary>Hidden-to-output weights <c>[vocab, hidden]</c>.</summary>
    public Tensor Why { get; }

    /// <summary>Output bias <c>[vocab]</c>.</summary>
    public Tensor By { get; }

    /// <summary>
    /// The five parameter tensors with their names, in a fixed order (<see cref="ParameterNames"/>). They are
    /// the model's own tensors: changing them in place changes the model.
    /// </summary>
    public IReadOnlyList<(string Name, Tensor Value)> Parameters =>
        [("W_xh", Wxh), ("W_hh", Whh), ("b_h", Bh), ("W_hy", Why), ("b_y", By)];

    /// <summary>Runs the model over <paramref name="inputs"/> from <paramref name="h0"/> (zeros if null).</summary>
    public ScratchRnnForward Forward(int[] inputs, Tensor? h0 = null)
    {
        CheckIds(inputs, nameof(inputs), allowIgnore: false);
        using var scope = NewDisposeScope();
        var start = h0 is null ? zeros(HiddenSize, dtype: DType) : CheckHidden(h0, nameof(h0)).to_type(DType).clone();
        var (hidden, logits) = Run(Wxh, Whh, Bh, Why, By, OneHot(inputs, VocabSize, DType), start);
        var final = hidden.select(0, -1).clone();
        scope.MoveToOuter(start, hidden, logits, final);
        return new ScratchRnnForward(inputs, start, hidden, logits, final);
    }

    /// <summary>
    /// Mean softmax cross-entropy per scored step (natural log, nats per character), ignoring steps whose
    /// target is <see cref="IgnoreTarget"/>.
    /// </summary>
    public double Loss(ScratchRnnForward forward, int[] targets)
    {
        CheckTargets(forward, targets);
        using var scope = NewDisposeScope();
        return MeanCrossEntropy(forward.Logits, targets).ToDouble();
    }

    /// <summary><see cref="Forward"/> then <see cref="Loss(ScratchRnnForward, int[])"/>.</summary>
    public double Loss(int[] inputs, int[] targets, Tensor? h0 = null)
    {
        using var forward = Forward(inputs, h0);
        return Loss(forward, targets);
    }

    /// <summary>
    /// The loss of <see cref="Loss(int[], int[], Tensor?)"/> computed from the given parameter tensors
    /// (<c>[W_xh, W_hh, b_h, W_hy, b_y]</c>) with ordinary tensor operations, so that autograd can
    /// differentiate it. Returns a scalar tensor.
    /// </summary>
    public static Tensor LossOf(IReadOnlyList<Tensor> parameters, int[] inputs, int[] targets, Tensor? h0 = null)
    {
        if (parameters.Count != 5)
            throw new ArgumentException(
                $"Expected the five tensors [{string.Join(", ", ParameterNames)}], got {parameters.Count}.", nameof(parameters));
        var (wxh, whh, bh, why, by) = (parameters[0], parameters[1], parameters[2], parameters[3], parameters[4]);
        if (inputs.Length != targets.Length)
            throw new ArgumentException($"Expected one target per input ({inputs.Length}), got {targets.Length}.", nameof(targets));
        var vocab = (int)wxh.shape[1];
        if (inputs.Concat(targets.Where(t => t != IgnoreTarget)).Any(id => id < 0 || id >= vocab))
            throw new ArgumentOutOfRangeException(nameof(inputs), $"Ids must lie in 0…{vocab - 1}, the columns of W_xh.");
        using var scope = NewDisposeScope();
        var start = h0 ?? zeros(wxh.shape[0], dtype: wxh.dtype);
        var (_, logits) = Run(wxh, whh, bh, why, by, OneHot(inputs, vocab, wxh.dtype), start);
        return scope.MoveToOuter(MeanCrossEntropy(logits, targets));
    }

    /// <summary>
    /// Backpropagation through time over the steps of <paramref name="forward"/>: gradients of
    /// <see cref="Loss(ScratchRnnForward, int[])"/> for all five parameters and for every hidden state.
    /// </summary>
    /// <param name="forward">The forward pass to differentiate.</param>
    /// <param name="targets">The next-character ids, one per step (or <see cref="IgnoreTarget"/>).</param>
    /// <param name="dFinalHidden">
    /// Gradient arriving at the last hidden state from beyond this window, <c>[hidden]</c>; null (the
    /// truncated case) means nothing arrives.
    /// </param>
    public ScratchRnnGradients Backward(ScratchRnnForward forward, int[] targets, Tensor? dFinalHidden = null)
    {
        CheckTargets(forward, targets);
        using var scope = NewDisposeScope();
        var steps = targets.Length;
        var scored = targets.Count(t => t != IgnoreTarget);

        // Softmax cross-entropy: ∂L/∂o_t = (softmax(o_t) − onehot(y_t)) / scored, zero for ignored steps.
        var mask = tensor(targets.Select(t => t == IgnoreTarget ? 0.0 : 1.0).ToArray(), dtype: DType).unsqueeze(1);
        var y = OneHot(targets.Select(t => t == IgnoreTarget ? 0 : t).ToArray(), VocabSize, DType).mul_(mask);
        using var scoredSteps = ((double)scored).ToScalar();
        var dLogits = forward.Logits.softmax(1).mul_(mask).sub_(y).div_(scoredSteps);   // [steps, vocab]

        var dWhy = dLogits.t().matmul(forward.Hidden);                               // [vocab, hidden]
        var dBy = dLogits.sum(dim: 0);
        var fromOutput = dLogits.matmul(Why).unbind(0);                              // steps × [hidden]
        var hs = forward.Hidden.unbind(0);

        var dHidden = new Tensor[steps];
        var dPre = new Tensor[steps];
        var whhT = Whh.t();
        var dNext = dFinalHidden is null ? zeros(HiddenSize, dtype: DType) : CheckHidden(dFinalHidden, nameof(dFinalHidden)).to_type(DType);
        for (var t = steps - 1; t >= 0; t--)
        {
            dHidden[t] = fromOutput[t].add(dNext, Scalars.One);
            // tanh' = 1 − h²
            dPre[t] = dHidden[t].mul(hs[t].mul(hs[t]).neg_().add_(Scalars.One, Scalars.One));
            dNext = whhT.matmul(dPre[t]);
        }

        var dA = stack(dPre);                                                        // [steps, hidden]
        var previous = cat([forward.H0.unsqueeze(0), forward.Hidden.narrow(0, 0, steps - 1)]);  // [steps, hidden]: h_{t-1}
        var gradients = new ScratchRnnGradients(
            Wxh: dA.t().matmul(OneHot(forward.Inputs, VocabSize, DType)),
            Whh: dA.t().matmul(previous),
            Bh: dA.sum(dim: 0),
            Why: dWhy,
            By: dBy,
            Hidden: stack(dHidden),
            H0: dNext);
        scope.MoveToOuter(gradients.Wxh, gradients.Whh, gradients.Bh, gradients.Why, gradients.By, gradients.Hidden, gradients.H0);
        return gradients;
    }

    /// <summary>
    /// Updates the parameters in place from <paramref name="gradients"/> (which are not changed), after
    /// clipping. Returns the global gradient norm before clipping.
    /// </summary>
    public double Step(ScratchRnnGradients gradients, ScratchStepOptions options)
    {
        using var scope = NewDisposeScope();
        var norm = gradients.GlobalNorm();
        var scale = options.ClipNorm is { } maxNorm && norm > maxNorm ? maxNorm / norm : 1.0;
        var parameters = new[] { Wxh, Whh, Bh, Why, By };
        var grads = gradients.Parameters;
        if (options.Optimizer == ScratchOptimizer.Adagrad)
            adagradMemory ??= parameters.Select(p => scope.Detach(zeros_like(p))).ToArray();
        for (var i = 0; i < parameters.Length; i++)
        {
            using var scaleScalar = scale.ToScalar();
            var g = grads[i].mul(scaleScalar);
            if (options.ClipValue is { } maxValue)
                using (Scalar low = (-maxValue).ToScalar(), high = maxValue.ToScalar()) g = g.clamp(low, high);
            switch (options.Optimizer)
            {
                case ScratchOptimizer.Sgd:
                    using (var step = (-options.LearningRate).ToScalar()) parameters[i].add_(g, alpha: step);
                    break;
                case ScratchOptimizer.Adagrad:
                    using (Scalar tiny = 1e-8.ToScalar(), step = (-options.LearningRate).ToScalar())
                    {
                        adagradMemory![i].addcmul_(g, g, Scalars.One);
                        parameters[i].addcdiv_(g, adagradMemory[i].add(tiny, Scalars.One).sqrt(), step);
                    }
                    break;
                default:
                    throw new ArgumentOutOfRangeException(nameof(options), options.Optimizer, "Unknown optimizer.");
            }
        }
        return norm;
    }

    /// <summary>
    /// Forward, loss, backward and one update on a window. Gradients stop at <paramref name="h0"/>
    /// (truncated BPTT); carry the returned <see cref="ScratchTrainStep.FinalHidden"/> into the next window.
    /// </summary>
    public ScratchTrainStep TrainStep(int[] inputs, int[] targets, Tensor? h0, ScratchStepOptions options)
    {
        using var forward = Forward(inputs, h0);
        var loss = Loss(forward, targets);
        using var gradients = Backward(forward, targets);
        var norm = Step(gradients, options);
        return new ScratchTrainStep(loss, norm, forward.FinalHidden.clone());
    }

    /// <summary>
    /// Generates <paramref name="length"/> ids after feeding <paramref name="seed"/>, each drawn from the
    /// softmax of the scores divided by <paramref name="temperature"/>, or the most likely one when the
    /// temperature is 0.
    /// </summary>
    /// <param name="seed">The first input id(s); the output does not repeat them.</param>
    /// <param name="length">How many ids to generate.</param>
    /// <param name="temperature">0 for greedy; below 1 sharper, above 1 flatter.</param>
    /// <param name="random">Source of randomness; required unless the temperature is 0.</param>
    /// <param name="h0">Initial hidden state <c>[hidden]</c>, zeros if null.</param>
    public int[] Sample(IReadOnlyList<int> seed, int length, double temperature = 1.0, Random? random = null, Tensor? h0 = null)
    {
        CheckIds([.. seed], nameof(seed), allowIgnore: false);
        if (seed.Count == 0) throw new ArgumentException("Give at least one seed id to start from.", nameof(seed));
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        ArgumentOutOfRangeException.ThrowIfNegative(temperature);
        if (temperature > 0 && random is null)
            throw new ArgumentNullException(nameof(random), "Sampling at a temperature above 0 needs a Random (seed it for repeatable text).");

        using var scope = NewDisposeScope();
        var h = h0 is null ? zeros(HiddenSize, dtype: DType) : CheckHidden(h0, nameof(h0)).to_type(DType);
        var output = new int[length];
        var input = seed[0];
        for (var n = 1 - seed.Count; n < length; n++)
        {
            using var stepScope = NewDisposeScope();
            var previous = h;
            h = Cell(Wxh.select(1, input).add(Bh, Scalars.One), Whh, h);
            previous.Dispose();
            if (n < 0)
            {
                input = seed[n + seed.Count];
            }
            else
            {
                var scores = Why.matmul(h).add_(By, Scalars.One);                    // [vocab]
                input = temperature == 0 ? (int)scores.argmax().item<long>() : Draw(scores, temperature, random!);
                output[n] = input;
            }
            stepScope.MoveToOuter(h);
        }
        return output;
    }

    /// <summary>Largest absolute eigenvalue of <see cref="Whh"/>.</summary>
    public double SpectralRadius()
    {
        using var scope = NewDisposeScope();
        return linalg.eigvals(Whh.to_type(ScalarType.Float64)).abs().max().item<double>();
    }

    /// <summary>Rescales <see cref="Whh"/> in place so its spectral radius becomes <paramref name="radius"/>.</summary>
    /// <exception cref="InvalidOperationException">W_hh has only zero eigenvalues, so no scaling can reach the radius.</exception>
    public void ScaleSpectralRadius(double radius)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(radius);
        var current = SpectralRadius();
        if (current < 1e-12)
            throw new InvalidOperationException(
                $"W_hh has spectral radius {current:g3} (all eigenvalues zero); scaling cannot give it radius {radius}. " +
                "Re-initialise W_hh with random values first.");
        using var factor = (radius / current).ToScalar();
        Whh.mul_(factor);
    }

    /// <inheritdoc />
    public void Dispose()
    {
        foreach (var t in new[] { Wxh, Whh, Bh, Why, By }) t.Dispose();
        foreach (var t in adagradMemory ?? []) t.Dispose();
    }

    static (Tensor Hidden, Tensor Logits) Run(Tensor wxh, Tensor whh, Tensor bh, Tensor why, Tensor by, Tensor x, Tensor h0)
    {
        var fromInput = x.matmul(wxh.t()).add_(bh, Scalars.One).unbind(0);                    // steps × [hidden]
        var hs = new Tensor[fromInput.Length];
        var h = h0;
        for (var t = 0; t < hs.Length; t++) hs[t] = h = Cell(fromInput[t], whh, h);
        var hidden = stack(hs);                                                  // [steps, hidden]
        return (hidden, hidden.matmul(why.t()).add_(by, Scalars.One));                        // [steps, vocab]
    }

    static Tensor Cell(Tensor fromInput, Tensor whh, Tensor hPrevious) => whh.matmul(hPrevious).add_(fromInput, Scalars.One).tanh_();

    static Tensor MeanCrossEntropy(Tensor logits, int[] targets)
    {
        var scored = Enumerable.Range(0, targets.Length).Where(t => targets[t] != IgnoreTarget).ToArray();
        if (scored.Length == 0)
            throw new ArgumentException($"Every target is {nameof(IgnoreTarget)}; at least one step must be scored.", nameof(targets));
        var rows = tensor(scored.Select(t => (long)t).ToArray());
        var ids = tensor(scored.Select(t => (long)targets[t]).ToArray());
        return logits.log_softmax(1).index_select(0, rows).gather(1, ids.unsqueeze(1)).mean().neg();
    }

    static Tensor OneHot(int[] ids, int size, ScalarType dtype) =>
        nn.functional.one_hot(tensor(ids.Select(i => (long)i).ToArray()), size).to_type(dtype);   // [steps, size]

    static int Draw(Tensor scores, double temperature, Random random)
    {
        using var t = temperature.ToScalar();
        var probabilities = scores.to_type(ScalarType.Float64).div(t).softmax(0).data<double>().ToArray();
        var u = random.NextDouble();
        var cumulative = 0.0;
        for (var i = 0; i < probabilities.Length; i++)
        {
            cumulative += probabilities[i];
            if (u < cumulative) return i;
        }
        return probabilities.Length - 1;
    }

    void CheckIds(int[] ids, string name, bool allowIgnore)
    {
        ArgumentNullException.ThrowIfNull(ids, name);
        if (ids.Length == 0) throw new ArgumentException("The sequence is empty; give at least one id.", name);
        for (var i = 0; i < ids.Length; i++)
        {
            if (allowIgnore && ids[i] == IgnoreTarget) continue;
            if (ids[i] < 0 || ids[i] >= VocabSize)
                throw new ArgumentOutOfRangeException(name, ids[i],
                    $"Id at position {i} is {ids[i]}; this model's vocabulary has ids 0…{VocabSize - 1}" +
                    (allowIgnore ? $" (or {IgnoreTarget} to skip a step)." : "."));
        }
    }

    void CheckTargets(ScratchRnnForward forward, int[] targets)
    {
        CheckIds(targets, nameof(targets), allowIgnore: true);
        if (targets.Length != forward.Inputs.Length)
            throw new ArgumentException(
                $"Expected one target per input step ({forward.Inputs.Length}), got {targets.Length}. " +
                "Targets are the inputs shifted by one character.", nameof(targets));
    }

    Tensor CheckHidden(Tensor h, string name)
    {
        if (h.shape.Length != 1 || h.shape[0] != HiddenSize)
            throw new ArgumentException(
                $"Expected a hidden state of shape [{HiddenSize}], got [{string.Join(", ", h.shape)}].", name);
        return h;
    }
}
