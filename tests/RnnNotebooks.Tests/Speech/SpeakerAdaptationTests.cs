using RnnNotebooks.Audio;
using RnnNotebooks.Speech;
using RnnNotebooks.Tests.Audio;
using RnnNotebooks.Tests.Models;
using RnnNotebooks.Text;
using RnnNotebooks.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace RnnNotebooks.Tests.Speech;

// Compares the process-wide live-tensor count, which tests running beside it would move.
[Collection(RnnNotebooks.Tests.Training.TorchGlobalState.Name)]
public sealed class SpeakerAdaptationTests
{
    public SpeakerAdaptationTests() => SingleThreadedTorch.Ensure();

    static SpeechRecognizer Tiny(int seed) => TinyVoice.Recognizer(seed);

    static AudioClip[] Clips() => TinyVoice.Clips();

    static Dictionary<string, Tensor> Weights(SpeechRecognizer r)
    {
        using var noGrad = no_grad();
        return r.Model.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.clone());
    }

    // Mean CTC loss per character of the given transcripts, in eval mode.
    static double Loss(SpeechRecognizer r, IReadOnlyList<AudioClip> clips, IReadOnlyList<string> transcripts, FeatureStatistics stats)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        r.Model.eval();
        var batch = SpeechBatch.Create([.. clips.Select(c => r.Features(c, stats))], transcripts, r.Characters);
        return batch.Loss(r.Model).item<float>();
    }

    [Fact]
    public void PickConfident_KeepsTheLowestLosses_SkipsEmptyTranscripts_InIndexOrder()
    {
        string[] transcripts = ["one", "two", "", "four", "five", "six"];
        double[] losses = [0.5, 0.1, 0.0, 0.9, 0.3, double.PositiveInfinity];

        Assert.Equal([1, 4], SpeakerAdaptation.PickConfident(transcripts, losses, keep: 2.0 / 6));
        Assert.Equal([0, 1, 4], SpeakerAdaptation.PickConfident(transcripts, losses, keep: 0.5));
        Assert.Equal([0, 1, 3, 4], SpeakerAdaptation.PickConfident(transcripts, losses, keep: 1));   // empty and infinite left out
        Assert.Equal([1], SpeakerAdaptation.PickConfident(transcripts, losses, keep: 0.01));         // at least one
        Assert.Throws<ArgumentException>(() => SpeakerAdaptation.PickConfident(transcripts, [0.1], 0.5));
    }

    [Fact]
    public void PickBalanced_PassesOverStringsThatWouldOverfillAWord()
    {
        // 9 words, 3 distinct; keep 3 of the 7 strings, so each word's even share of the kept words is 3/7 · 9 / 3 ≈ 1.29.
        string[] transcripts = ["four four", "four", "two", "four two", "one", "four one", ""];
        double[] losses = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.0];

        // cap 1: at most 1.29 of each word, so "four four" and "four two" are passed over
        Assert.Equal([1, 2, 4], SpeakerAdaptation.PickBalanced(transcripts, losses, keep: 3.0 / 7, cap: 1));
        // cap 2: at most 2.57 of each, so "four" (a third "four") is passed over too
        Assert.Equal([0, 2, 4], SpeakerAdaptation.PickBalanced(transcripts, losses, keep: 3.0 / 7, cap: 2));
        // cap 3: at most 3.86 of each: the same as by confidence alone
        Assert.Equal([0, 1, 2], SpeakerAdaptation.PickBalanced(transcripts, losses, keep: 3.0 / 7, cap: 3));
        Assert.Equal(SpeakerAdaptation.PickConfident(transcripts, losses, 3.0 / 7), SpeakerAdaptation.PickBalanced(transcripts, losses, 3.0 / 7, 3));
        Assert.Empty(SpeakerAdaptation.PickBalanced(["", ""], [0.1, 0.2], keep: 1, cap: 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => SpeakerAdaptation.PickBalanced(transcripts, losses, 0.5, cap: 0.9));
        Assert.Throws<ArgumentOutOfRangeException>(() => new SpeakerAdaptationOptions(WordCap: 0.5).Validate());
    }

    [Fact]
    public void ZeroRounds_TranscribesLikeTheRecognizer_AndChangesNoWeight()
    {
        using var recognizer = Tiny(11);
        var clips = Clips();
        using var stats = recognizer.SpeakerStatistics(clips);
        var before = Weights(recognizer);

        var result = SpeakerAdaptation.Adapt(recognizer, clips, stats, new SpeakerAdaptationOptions(Rounds: 0));

        Assert.Empty(result.Rounds);
        Assert.Equal(clips.Select(c => recognizer.Transcribe(c, CtcDecoding.Lexicon, stats)), result.Transcripts);
        Assert.Equal(result.FirstPass, result.Transcripts);
        foreach (var (name, w) in recognizer.Model.state_dict()) Assert.True(w.allclose(before[name], rtol: 0, atol: 0), name);
    }

    static long LiveTensors()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();   // tensors of earlier tests that only the finalizer frees
        return Tensor.TotalCount;
    }

    [Fact]
    [Trait("Category", "Slow")]
    public void Adapting_LowersTheLossOfItsOwnFirstTranscripts_IsSeeded_AndLeavesNoTensorBehind()
    {
        var clips = Clips();
        var options = new SpeakerAdaptationOptions(Rounds: 2, Epochs: 10, LearningRate: 1e-2, Keep: 1, BatchSize: 3, Seed: 5,
            Layers: SpeakerAdaptationOptions.AllLayers);
        AdaptationResult Run(out double lossBefore, out double lossAfter, out long leaked)
        {
            using var recognizer = Tiny(12);
            using var stats = recognizer.SpeakerStatistics(clips);
            var firstPass = clips.Select(c => recognizer.Transcribe(c, CtcDecoding.Lexicon, stats)).ToList();
            lossBefore = Loss(recognizer, clips, firstPass, stats);
            // Every live tensor of the process, not this thread's: the GRU's directions train on two threads
            // (FusedGru.BidirectionalThreads), so a tensor can be made on one thread and freed on another.
            var live = LiveTensors();
            var result = SpeakerAdaptation.Adapt(recognizer, clips, stats, options);
            leaked = LiveTensors() - live;
            lossAfter = Loss(recognizer, clips, firstPass, stats);
            Assert.False(recognizer.Model.training);
            Assert.Equal(firstPass, result.FirstPass);
            return result;
        }

        var a = Run(out var before, out var after, out var leaked);
        var b = Run(out _, out var after2, out _);

        Assert.True(after < before * 0.8, $"loss of the first-pass transcripts {before:F3} → {after:F3}");
        Assert.Equal(2, a.Rounds.Count);
        Assert.All(a.Rounds, r => Assert.Equal(clips.Length, r.Kept));
        Assert.Equal(a.Transcripts, a.Rounds[^1].Transcripts);
        Assert.Equal(a.Rounds[0].Changed, a.Rounds[0].Transcripts.Zip(a.FirstPass).Count(p => p.First != p.Second));
        Assert.Equal(after, after2);                      // same seed, same adapted model
        Assert.Equal(a.Transcripts, b.Transcripts);
        Assert.Equal(0, leaked);
    }

    [Fact]
    public void Evaluate_WithAdaptation_ScoresTheAdaptedModel_ThenPutsTheWeightsBack()
    {
        using var recognizer = Tiny(13);
        var clips = Clips();
        var strings = clips.Select((c, i) => new DigitString(c, [i], "voice")).ToList();
        var options = new SpeakerAdaptationOptions(Rounds: 1, Epochs: 5, LearningRate: 1e-2, Keep: 1, BatchSize: 3);
        var before = Weights(recognizer);

        var evaluation = AsrTraining.Evaluate(recognizer, strings, CtcDecoding.Lexicon, examples: clips.Length, adaptation: options);

        foreach (var (name, w) in recognizer.Model.state_dict()) Assert.True(w.allclose(before[name], rtol: 0, atol: 0), name);
        using var stats = recognizer.SpeakerStatistics(clips);
        var adapted = SpeakerAdaptation.Adapt(recognizer, clips, stats, options);
        Assert.Equal(adapted.Transcripts, evaluation.Examples.Select(e => e.Hypothesis));
        Assert.NotEqual(adapted.Transcripts, adapted.FirstPass);   // else this test could not tell adapted from not
    }

    [Fact]
    public void AModelThatHearsNothing_IsLeftAsItIs()
    {
        using var recognizer = Tiny(15);
        using (no_grad()) recognizer.Model.state_dict()["output.bias"][Vocabulary.Blank].fill_(100);   // blank everywhere
        var before = Weights(recognizer);

        var result = SpeakerAdaptation.Adapt(recognizer, Clips(), null, new SpeakerAdaptationOptions(Rounds: 2));

        Assert.Empty(result.Rounds);
        Assert.All(result.Transcripts, t => Assert.Equal("", t));
        foreach (var (name, w) in recognizer.Model.state_dict()) Assert.True(w.allclose(before[name], rtol: 0, atol: 0), name);
        Assert.Empty(SpeakerAdaptation.PickConfident(["", ""], [0.1, 0.2], 1));
    }

    [Fact]
    public void Layers_AdaptOnlyTheNamedParameters_AndLeaveEveryParameterTrainable()
    {
        using var recognizer = Tiny(16);
        var before = Weights(recognizer);
        var options = new SpeakerAdaptationOptions(Rounds: 1, Epochs: 3, LearningRate: 1e-2, Keep: 1, Layers: ["conv1"]);

        SpeakerAdaptation.Adapt(recognizer, Clips(), null, options);

        foreach (var (name, w) in recognizer.Model.state_dict())
            Assert.True(name.StartsWith("conv1.", StringComparison.Ordinal) != w.allclose(before[name], rtol: 0, atol: 0), name);
        Assert.All(recognizer.Model.parameters(), p => Assert.True(p.requires_grad));

        var frontEnd = Weights(recognizer);   // by default only the convolutional front end adapts
        SpeakerAdaptation.Adapt(recognizer, Clips(), null, options with { Layers = null });
        foreach (var (name, w) in recognizer.Model.state_dict())
            Assert.True(name.StartsWith("conv", StringComparison.Ordinal) != w.allclose(frontEnd[name], rtol: 0, atol: 0), name);
        var e = Assert.Throws<ArgumentException>(() => SpeakerAdaptation.Adapt(recognizer, Clips(), null, options with { Layers = ["encoder"] }));
        Assert.Contains("conv1.weight", e.Message);
    }

    [Theory]
    [InlineData(-1, 1, 1e-3, 0.5, "Rounds")]
    [InlineData(1, 0, 1e-3, 0.5, "Epochs")]
    [InlineData(1, 1, 0.0, 0.5, "LearningRate")]
    [InlineData(1, 1, 1e-3, 0.0, "Keep")]
    [InlineData(1, 1, 1e-3, 1.5, "Keep")]
    public void BadOptions_NameTheSetting(int rounds, int epochs, double lr, double keep, string name)
    {
        using var recognizer = Tiny(14);
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => SpeakerAdaptation.Adapt(recognizer, Clips(), null,
            new SpeakerAdaptationOptions(Rounds: rounds, Epochs: epochs, LearningRate: lr, Keep: keep)));
        Assert.Equal(name, e.ParamName);
        Assert.Throws<ArgumentException>(() => SpeakerAdaptation.Adapt(recognizer, [], null));
    }
}
