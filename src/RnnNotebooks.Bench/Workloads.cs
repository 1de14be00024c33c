using RnnNotebooks.Models;

namespace RnnNotebooks.Benchmarks;

/// <summary>
/// One benchmark workload. <c>train</c>: a character language-model step (embedding → recurrent layers →
/// linear, cross-entropy, backward, Adam) on <c>Batch × Steps</c> tokens. <c>generate</c>: one token at a time
/// at batch 1, the hidden state carried, as text generation does. <c>gemm</c>: a float32 matrix product
/// (<c>Hidden × Hidden</c>), the machine's reference rate. <c>seq2seq</c>: a training step of lesson 04's
/// translation model (<see cref="Translation.Seq2Seq"/>: bidirectional GRU encoder, additive attention, GRU
/// decoder with teacher forcing, masked cross-entropy, clipping, Adam) on a padded batch whose sources and targets
/// are at most <c>Steps</c> tokens; <c>Vocab</c> is the target vocabulary. <c>ctc</c>: a training step of lesson 05's
/// <see cref="Speech.AcousticModel"/> (convolutions, bidirectional GRU, log_softmax, CTC loss, clipping, Adam) on
/// <c>Batch</c> utterances of at most <c>Steps</c> feature frames; <c>Vocab</c> is the number of classes.
/// <c>SourceVocab</c> and <c>Embedding</c> size the seq2seq model; <c>Features</c> (per frame) and <c>Channels</c>
/// (of the convolutions) the ctc one. A <c>gemm-steps</c> workload with <c>PreTransposed</c> multiplies by a
/// contiguous copy of <c>W_hhᵀ</c> (what <see cref="Models.FusedGru"/> does) instead of the transposed view
/// <c>nn.GRU</c> uses. A <c>generate</c> workload with <c>Library</c> times
/// <see cref="Decoding.TextGeneration.Generate(LanguageModel, IReadOnlyList{int}, int, Decoding.SamplingOptions, Random)"/>
/// (greedy, prompt and preparation included) instead of a loop over <see cref="LanguageModel.Step"/>.
/// </summary>
public sealed record BenchWorkload(string Name, string Kind, RecurrentCell Cell, int Vocab, int Hidden, int Layers,
    int Batch, int Steps, bool OneDnn = true, bool Scratch = false,
    int SourceVocab = 0, int Embedding = 0, int Features = 0, int Channels = 0, bool Library = false,
    bool PreTransposed = false)
{
    /// <summary>Floating-point operations of one step (train) or one token (generate), forward and backward;
    /// NaN for the seq2seq and ctc steps, whose mix of layers a single count would misdescribe.</summary>
    public double FlopsPerStep
    {
        get
        {
            if (Kind == "gemm") return 2.0 * Hidden * Hidden * Hidden;
            // A GRU training step's products that cannot be batched over time: per layer and step, h·W_hhᵀ
            // [batch × H]·[H × 3H] forward and ∂g·W_hh [batch × 3H]·[3H × H] backward.
            if (Kind == "gemm-steps") return Layers * Steps * 2 * (2.0 * Batch * Hidden * 3 * Hidden);
            if (Kind is "seq2seq" or "ctc") return double.NaN;
            var gates = Cell switch { RecurrentCell.Lstm => 4, RecurrentCell.Gru => 3, _ => 1 };
            // Per token and layer: the gate matrices times [input; hidden] (embedding size = hidden here).
            var recurrent = 2.0 * gates * Hidden * (Hidden + Hidden) * Layers;
            var readout = 2.0 * Hidden * Vocab;
            var forward = (recurrent + readout) * Batch * Steps;
            return Kind == "train" ? 3 * forward : forward;   // backward ≈ twice the forward
        }
    }

    /// <summary>Tokens (train: all; seq2seq: real target tokens, end token included; ctc: real input frames) one
    /// measured step covers.</summary>
    public long TokensPerStep => Kind switch
    {
        "train" => (long)Batch * Steps,
        "seq2seq" => TargetLengths.Sum(),
        "ctc" => FrameLengths.Sum(),
        _ => 1,
    };

    // Padded batches whose rows differ in length, so that masking and packing do real work; both engines get these
    // exact lengths (the PyTorch side receives them in its spec).

    /// <summary>seq2seq: source lengths, end token included (the longest is <c>Steps</c>).</summary>
    public IReadOnlyList<int> SourceLengths => Kind == "seq2seq" ? Rows(i => Steps - i % 3) : [];

    /// <summary>seq2seq: target lengths, end token included (the longest is <c>Steps</c>).</summary>
    public IReadOnlyList<int> TargetLengths => Kind == "seq2seq" ? Rows(i => Steps - (i + 1) % 4) : [];

    /// <summary>ctc: feature frames of each utterance (the longest is <c>Steps</c>).</summary>
    public IReadOnlyList<int> FrameLengths => Kind == "ctc" ? Rows(i => Steps - i % 8 * Math.Max(1, Steps / 60)) : [];

    /// <summary>ctc: transcript labels of each utterance (about one per 12 frames, as spoken digit words give).</summary>
    public IReadOnlyList<int> LabelLengths => Kind == "ctc" ? Rows(i => Math.Max(2, Steps / 12) + i % 3) : [];

    int[] Rows(Func<int, int> length) => [.. Enumerable.Range(0, Batch).Select(length)];

    /// <summary>The workloads of the full benchmark (tiny shapes when <paramref name="tiny"/>).</summary>
    public static IReadOnlyList<BenchWorkload> All(bool tiny)
    {
        int v = 65, b = tiny ? 4 : 32, t = tiny ? 16 : 128;
        int Size(int full) => tiny ? Math.Max(16, full / 8) : full;
        BenchWorkload Train(RecurrentCell cell, int hidden) =>
            new($"train {cell.ToString().ToUpperInvariant()} 2x{Size(hidden)}", "train", cell, v, Size(hidden), 2, b, t);
        // Lesson 04: fra→eng with sentences of at most 10 words (vocabularies 13,487 / 7,685 at minimum frequency
        // 2), embedding and hidden 256, batch 64. Lesson 05: batches of 16 connected digit strings of ~2.4 s at
        // 100 frames/s, 40 log-mel features, 17 classes, the acoustic model's default sizes.
        var seq2seq = tiny
            ? new BenchWorkload("seq2seq attention step 16", "seq2seq", RecurrentCell.Gru, 60, 16, 1, 4, 6, SourceVocab: 50, Embedding: 16)
            : new BenchWorkload("seq2seq attention step 256", "seq2seq", RecurrentCell.Gru, 7685, 256, 1, 64, 11, SourceVocab: 13487, Embedding: 256);
        var ctc = tiny
            ? new BenchWorkload("ctc acoustic step 16", "ctc", RecurrentCell.Gru, 17, 16, 2, 4, 40, Features: 40, Channels: 16)
            : new BenchWorkload("ctc acoustic step 128", "ctc", RecurrentCell.Gru, 17, 128, 2, 16, 240, Features: 40, Channels: 128);
        BenchWorkload Generate(bool oneDnn) =>
            new($"generate LSTM 2x{Size(256)} (oneDNN {(oneDnn ? "on" : "off")})", "generate", RecurrentCell.Lstm, v, Size(256), 2, 1, 1, oneDnn);
        IEnumerable<BenchWorkload> all =
        [
            new($"gemm {Size(1024)}", "gemm", RecurrentCell.Lstm, 0, Size(1024), 0, 0, 0),
            new($"gemm GRU per-step {b}x{Size(256)}x{3 * Size(256)}", "gemm-steps", RecurrentCell.Gru, 0, Size(256), 2, b, t),
            new($"gemm GRU per-step {b}x{Size(256)}x{3 * Size(256)} (W_hhT contiguous)", "gemm-steps", RecurrentCell.Gru, 0, Size(256), 2, b, t,
                PreTransposed: true),
            Train(RecurrentCell.Lstm, 128), Train(RecurrentCell.Lstm, 256), Train(RecurrentCell.Lstm, 512),
            Train(RecurrentCell.Gru, 256), Train(RecurrentCell.Rnn, 256),
            Train(RecurrentCell.Lstm, 256) with { Name = $"train scratch LSTM 2x{Size(256)}", Scratch = true },
            seq2seq, ctc,
            Generate(oneDnn: true), Generate(oneDnn: false),
            // What a learner's call costs: TextGeneration picks the kernels and the step itself.
            Generate(oneDnn: false) with { Name = $"generate LSTM 2x{Size(256)} (TextGeneration)", Library = true },
        ];
        return all.DistinctBy(w => w.Name).ToList();
    }
}
