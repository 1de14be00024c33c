using RnnNotebooks.Models;
using RnnNotebooks.Training;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace RnnNotebooks.Benchmarks;

/// <summary>The models the benchmark trains and steps: lesson 03's <see cref="LanguageModel"/> (embedding size =
/// hidden, no dropout), or, for <see cref="BenchWorkload.Scratch"/>, the same shape with lesson 02's from-scratch
/// <see cref="Models.SequenceRnn"/> as its recurrent layers.</summary>
static class BenchModels
{
    public static LanguageModel Create(BenchWorkload w) => new(new LanguageModelOptions(w.Vocab, w.Hidden, w.Layers, w.Cell));

    /// <summary>A model, the loss of one fixed random batch, and the optimizer settings its lesson trains with.</summary>
    public sealed class Trainable(nn.Module model, Func<Tensor> loss, double learningRate, double? clipGradNorm,
        params IDisposable[] owned) : IDisposable
    {
        public nn.Module Model { get; } = model;
        public Func<Tensor> Loss { get; } = loss;
        public double LearningRate { get; } = learningRate;
        public double? ClipGradNorm { get; } = clipGradNorm;

        public void Dispose()
        {
            foreach (var d in owned) d.Dispose();
            Model.Dispose();
        }
    }

    /// <summary>The model and batch of a training workload (train, seq2seq or ctc).</summary>
    public static Trainable ForTraining(BenchWorkload w)
    {
        switch (w.Kind)
        {
            case "seq2seq": return Seq2SeqStep(w);
            case "ctc": return CtcStep(w);
        }
        var inputs = randint(0, w.Vocab, [w.Batch, w.Steps]);
        var targets = randint(0, w.Vocab, [w.Batch, w.Steps]);
        Func<Tensor, Tensor> logits;
        nn.Module module;
        if (!w.Scratch)
        {
            var model = Create(w);
            (module, logits) = (model, ids => model.call(ids, null).Logits);
        }
        else
        {
            var scratch = new ScratchLanguageModel(w);
            (module, logits) = (scratch, scratch.call);
        }
        return new Trainable(module, () => nn.functional.cross_entropy(logits(inputs).reshape(-1, w.Vocab), targets.reshape(-1)),
            1e-3, null, inputs, targets);
    }

    /// <summary>Lesson 04's model and training settings (Adam 0.002, clipping at 1, dropout 0.2) on random sentences.</summary>
    static Trainable Seq2SeqStep(BenchWorkload w)
    {
        var model = new Translation.Seq2Seq(new Translation.Seq2SeqOptions(w.SourceVocab, w.Vocab, w.Embedding, w.Hidden,
            Translation.AttentionKind.Additive, Dropout: 0.2));
        var random = new Random(1);
        // Words only (ids past <pad> <bos> <eos> <unk>); Collate appends the end token, hence length − 1 words.
        long[] Words(int count, int vocab) => [.. Enumerable.Range(0, count).Select(_ => (long)random.Next(4, vocab))];
        var pairs = w.SourceLengths.Zip(w.TargetLengths,
            (s, t) => new Translation.EncodedPair(Words(s - 1, w.SourceVocab), Words(t - 1, w.Vocab))).ToList();
        var batch = Translation.TranslationBatch.Collate(pairs);
        return new Trainable(model, () => model.Loss(batch), 0.002, 1.0,
            batch.Source, batch.SourceLengths, batch.SourceMask, batch.TargetInput, batch.TargetOutput, batch.TargetMask);
    }

    /// <summary>Lesson 05's model and training settings (Adam 0.002, clipping at 5, dropout 0.15) on random features.</summary>
    static Trainable CtcStep(BenchWorkload w)
    {
        var model = new Speech.AcousticModel(new Speech.AcousticModelOptions(w.Features, w.Vocab, w.Channels, 2, w.Hidden, w.Layers,
            Models.RecurrentCell.Gru));
        var features = w.FrameLengths.Select(n => randn(n, w.Features)).ToList();
        var labels = w.LabelLengths.Select(n => randint(1, w.Vocab, [n])).ToList();   // any class but the blank (0)
        var batch = new Speech.SpeechBatch(nn.utils.rnn.pad_sequence(features, batch_first: true),
            tensor(w.FrameLengths.Select(n => (long)n).ToArray()), cat(labels, 0),
            tensor(w.LabelLengths.Select(n => (long)n).ToArray()), [.. w.LabelLengths.Select(_ => "")]);
        foreach (var t in features.Concat(labels)) t.Dispose();
        return new Trainable(model, () => batch.Loss(model), 0.002, 5.0, batch.Features, batch.Lengths, batch.Targets, batch.TargetLengths);
    }

    sealed class ScratchLanguageModel : nn.Module<Tensor, Tensor>
    {
        readonly Embedding embedding;
        readonly Models.SequenceRnn recurrent;
        readonly Linear readout;

        public ScratchLanguageModel(BenchWorkload w) : base(nameof(ScratchLanguageModel))
        {
            embedding = nn.Embedding(w.Vocab, w.Hidden);
            recurrent = new Models.SequenceRnn(new Models.SequenceRnnOptions(Models.RecurrentCell.Lstm, w.Hidden, w.Hidden, w.Layers));
            readout = nn.Linear(w.Hidden, w.Vocab);
            RegisterComponents();
        }

        public override Tensor forward(Tensor ids) =>
            readout.forward(recurrent.forward(embedding.forward(ids), null).Output);   // [batch, steps, vocab]
    }
}