using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace RnnNotebooks.Speech;

/// <summary>
/// Speaker-adversarial training with a gradient-reversal layer (Ganin and Lempitsky, 2015; for speech, speaker-invariant
/// training): a small classifier learns to tell the training speakers apart from every frame of the acoustic model's
/// recurrent output, while the gradient that reaches the acoustic model from it is reversed and scaled by
/// <see cref="Scale"/>. The classifier gets better at naming the voice; the acoustic model is pushed to make frames from
/// which the voice cannot be named, so that what it passes to its output layer says which letter, not who. Used only in
/// training; the saved recognizer has no trace of it.
/// </summary>
/// <remarks>Introduced in 05-speech-recognition.</remarks>
public sealed class SpeakerAdversary : nn.Module
{
    private readonly Linear hidden;
    private readonly Linear output;

    /// <summary>A classifier of <paramref name="speakers"/> voices over frames of <paramref name="inputSize"/> numbers,
    /// with one hidden layer of <paramref name="hiddenSize"/> ReLU units.</summary>
    /// <param name="inputSize">Size of a frame of the acoustic model's recurrent output (2 × its hidden size).</param>
    /// <param name="speakers">How many training voices (at least 2).</param>
    /// <param name="hiddenSize">Hidden units of the classifier.</param>
    public SpeakerAdversary(int inputSize, int speakers, int hiddenSize = 128) : base(nameof(SpeakerAdversary))
    {
        if (inputSize < 1 || hiddenSize < 1)
            throw new ArgumentException($"inputSize and hiddenSize must be positive, got {inputSize} and {hiddenSize}.");
        if (speakers < 2)
            throw new ArgumentException($"A speaker adversary needs at least 2 training voices to tell apart, got {speakers}.", nameof(speakers));
        Speakers = speakers;
        hidden = nn.Linear(inputSize, hiddenSize);
        output = nn.Linear(hiddenSize, speakers);
        RegisterComponents();
    }

    /// <summary>How many voices the classifier tells apart.</summary>
    public int Speakers { get; }

    /// <summary>λ: the reversed gradient that reaches the acoustic model is this times the classifier's (0 = the
    /// classifier learns but the acoustic model is not pushed).</summary>
    public double Scale { get; set; }

    /// <summary>The usual warm-up of λ (Ganin and Lempitsky): 2 / (1 + e^(−10·p)) − 1 for training progress p in [0, 1],
    /// rising from 0 to 0.99, so the acoustic model is left alone while the classifier has nothing to say.</summary>
    /// <param name="progress">Fraction of the planned updates done (clamped to [0, 1]).</param>
    public static double Ramp(double progress) => 2 / (1 + Math.Exp(-10 * Math.Clamp(progress, 0, 1))) - 1;

    /// <summary>The identity going forward; going backward, the gradient times −<paramref name="scale"/>.</summary>
    /// <param name="x">Any tensor.</param>
    /// <param name="scale">λ ≥ 0.</param>
    public static Tensor ReverseGradient(Tensor x, double scale)
    {
        ArgumentNullException.ThrowIfNull(x);
        if (!(scale >= 0)) throw new ArgumentOutOfRangeException(nameof(scale), scale, "The reversal scale must be 0 or more.");
        using var scope = NewDisposeScope();
        // (1 + λ)·stop_gradient(x) − λ·x: the value of x (to rounding), and −λ times the gradient into x.
        using Scalar keep = (1 + scale).ToScalar(), reverse = scale.ToScalar();
        return x.detach().mul(keep).sub(x.mul(reverse)).MoveToOuterDisposeScope();
    }

    /// <summary>Speaker logits <c>[batch, frames, speakers]</c> of frames <c>[batch, frames, inputSize]</c>.</summary>
    public Tensor Logits(Tensor frames)
    {
        ArgumentNullException.ThrowIfNull(frames);
        using var scope = NewDisposeScope();
        return output.call(nn.functional.relu(hidden.call(frames))).MoveToOuterDisposeScope();
    }

    /// <summary>The classifier's cross-entropy, averaged over the real frames (those before each length) of
    /// <paramref name="frames"/> <c>[batch, frames, inputSize]</c>, each labelled with its utterance's speaker
    /// (<paramref name="speakers"/>, int64 <c>[batch]</c>, 0 … <see cref="Speakers"/> − 1), after reversing the
    /// gradient into <paramref name="frames"/> with <see cref="Scale"/>.</summary>
    /// <exception cref="ArgumentException">Shapes that do not match, or a speaker index out of range.</exception>
    public (Tensor Loss, double Accuracy) Loss(Tensor frames, Tensor lengths, Tensor speakers)
    {
        ArgumentNullException.ThrowIfNull(frames);
        ArgumentNullException.ThrowIfNull(lengths);
        ArgumentNullException.ThrowIfNull(speakers);
        if (frames.dim() != 3 || lengths.shape.Length != 1 || speakers.shape.Length != 1
            || lengths.shape[0] != frames.shape[0] || speakers.shape[0] != frames.shape[0])
            throw new ArgumentException($"Expected frames [batch, frames, size] with lengths and speakers [batch]; got " +
                $"[{string.Join(", ", frames.shape)}], [{string.Join(", ", lengths.shape)}] and [{string.Join(", ", speakers.shape)}].");
        using var scope = NewDisposeScope();
        var ids = speakers.cpu().to(ScalarType.Int64).data<long>().ToArray();
        if (ids.Any(s => s < 0 || s >= Speakers))
            throw new ArgumentException($"Speaker indices must be in 0…{Speakers - 1}, got {string.Join(", ", ids)}.", nameof(speakers));
        var count = frames.shape[1];
        var lens = lengths.cpu().to(ScalarType.Int64).data<long>().Select(n => Math.Clamp(n, 0, count)).ToArray();
        // The real frames, one row each, and their speakers.
        var rows = tensor(lens.SelectMany((n, b) => Enumerable.Range(0, (int)n).Select(t => b * count + t)).ToArray());
        var flat = ReverseGradient(frames, Scale).reshape(-1, frames.shape[2]).index_select(0, rows);
        var labels = tensor(lens.SelectMany((n, b) => Enumerable.Repeat(ids[b], (int)n)).ToArray());
        var logits = Logits(flat);
        var loss = nn.functional.cross_entropy(logits, labels);
        double accuracy;
        using (no_grad())
            accuracy = logits.argmax(1).eq(labels).to(ScalarType.Float64).mean().item<double>();
        return (loss.MoveToOuterDisposeScope(), accuracy);
    }
}
