using RnnNotebooks.Models;
using RnnNotebooks.Platform;
using TorchSharp;
using static TorchSharp.torch;

namespace RnnNotebooks.Decoding;

/// <summary>Generates tokens from a <see cref="LanguageModel"/>, one at a time, after a prompt.</summary>
/// <remarks>
/// The prompt is read in one call (it primes the state), then each new token is fed back in at batch 1. That
/// runs with oneDNN off (<see cref="TorchKernels.WithoutOneDnn"/>): its fused LSTM re-lays out the weights on
/// every call, which at one token per call costs several times more than the step itself. Models step through a
/// copy of their weights laid out for batch 1 (<c>GenerationStep</c>, for LSTM, GRU and RNN cells: one contiguous
/// product per layer, the state updated in place, the first layer's input product tabulated per token for long
/// outputs), which computes what <see cref="LanguageModel.Step"/> computes with less work per token.
/// Introduced in 03-language-modeling.
/// </remarks>
public static class TextGeneration
{
    // Preparing the fast step copies the weights (2–4 ms for a 2×256 LSTM on the loaded 2-core machine) and
    // saves ~0.1 ms per token there, so it pays from a few dozen tokens on; shorter outputs step the model directly.
    internal const int FastStepMinTokens = 32;

    /// <summary>
    /// Continues <paramref name="prompt"/> by <paramref name="length"/> tokens and returns only the new ones.
    /// Runs in eval mode under <c>no_grad</c> and restores the model's mode.
    /// </summary>
    /// <param name="model">The language model.</param>
    /// <param name="prompt">Token ids to start from; must not be empty.</param>
    /// <param name="length">Tokens to generate.</param>
    /// <param name="options">Greedy, temperature, top-k.</param>
    /// <param name="random">Draws the samples (unused when greedy); e.g. <c>new Random(seed)</c>.</param>
    public static int[] Generate(LanguageModel model, IReadOnlyList<int> prompt, int length, SamplingOptions options, Random random) =>
        Generate(model, prompt, length, options, random, fastStep: true);

    /// <summary><see cref="Generate(LanguageModel, IReadOnlyList{int}, int, SamplingOptions, Random)"/>, with the
    /// fast step switched off by <paramref name="fastStep"/> false (to check that both paths agree).</summary>
    internal static int[] Generate(LanguageModel model, IReadOnlyList<int> prompt, int length, SamplingOptions options, Random random,
        bool fastStep)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(prompt);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(random);
        options.Validate();
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        if (prompt.Count == 0)
            throw new ArgumentException("The prompt is empty: give at least one token to start from (e.g. a newline).", nameof(prompt));
        var vocab = model.Options.VocabSize;
        foreach (var id in prompt)
            if ((uint)id >= (uint)vocab)
                throw new ArgumentException($"Prompt token id {id} is outside the model's vocabulary of {vocab}.", nameof(prompt));

        var wasTraining = model.training;
        model.eval();
        // A batch-1 step is a few small products: a second intra-op thread costs more in wake-up and sync than it
        // saves (a 2×256 LSTM: 0.34 ms/token on 2 threads against 0.11 on 1, on 2 cores), whatever the caller chose
        // for training. The caller's count comes back afterwards.
        var callerThreads = torch.get_num_threads();
        if (callerThreads != 1) torch.set_num_threads(1);
        try
        {
            using var noGrad = no_grad();
            using var kernels = TorchKernels.WithoutOneDnn();
            var output = new int[length];
            RecurrentState? state;
            float[] logits;
            using (var scope = NewDisposeScope())
            {
                var ids = tensor(prompt.Select(i => (long)i).ToArray(), [1, prompt.Count]);
                var (all, next) = model.forward(ids, null);                      // [1, prompt, vocab]
                logits = all[0, -1].data<float>().ToArray();
                state = next;
                scope.Detach(state.H);
                if (state.C is not null) scope.Detach(state.C);
            }
            var fast = fastStep && length > FastStepMinTokens ? model.PrepareGenerationStep(length - 1) : null;
            try
            {
                if (fast is not null)
                {
                    fast.Load(state);
                    for (var i = 0; i < length; i++)
                    {
                        output[i] = Sampling.Choose(logits, options, random);
                        if (i < length - 1) logits = fast.Step(output[i]);
                    }
                    return output;
                }
                for (var i = 0; i < length; i++)
                {
                    var token = Sampling.Choose(logits, options, random);
                    output[i] = token;
                    if (i == length - 1) break;
                    using var scope = NewDisposeScope();
                    var (stepLogits, next) = model.Step(tensor(new long[] { token }, [1]), state);   // [1, vocab]
                    logits = stepLogits.data<float>().ToArray();
                    state.Dispose();
                    state = next;
                    scope.Detach(state.H);
                    if (state.C is not null) scope.Detach(state.C);
                }
            }
            finally
            {
                state.Dispose();
            }
            return output;
        }
        finally
        {
            model.train(wasTraining);
            if (callerThreads != 1) torch.set_num_threads(callerThreads);
        }
    }
}
