using RnnNotebooks.Audio;
using RnnNotebooks.Speech;
using RnnNotebooks.Tests.Models;
using RnnNotebooks.Text;
using RnnNotebooks.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace RnnNotebooks.Tests.Speech;

// Compares the process-wide live-tensor count, which tests running beside it would move.
[Collection(RnnNotebooks.Tests.Training.TorchGlobalState.Name)]
public sealed class SpeechEnsembleTests : IDisposable
{
    readonly string dir = Directory.CreateTempSubdirectory("asr-ensemble").FullName;

    public SpeechEnsembleTests() => SingleThreadedTorch.Ensure();

    public void Dispose() => Directory.Delete(dir, recursive: true);

    /// <summary>An untrained tiny recognizer saved under <paramref name="name"/>, its blank made unlikely so that even
    /// untrained it spells letters (different ones for different seeds).</summary>
    string Saved(string name, int seed, FeatureOptions? features = null)
    {
        Seeds.Set(seed);
        using var recognizer = SpeechRecognizer.Create(features ?? new FeatureOptions(Mfcc: 13), new AcousticModelOptions(ConvChannels: 8, HiddenSize: 8));
        using (no_grad())
        {
            var bias = recognizer.Model.named_parameters().Single(p => p.name == "output.bias").parameter;
            bias[Vocabulary.Blank] = tensor(-3f);
        }
        var path = Path.Combine(dir, name);
        recognizer.Save(path, null, TrainingState.Start(new TrainerOptions()));
        return path;
    }

    /// <summary>Σ over members of log P(text | clip), each from its own CTC loss: the score the ensemble gives text.</summary>
    static double TotalLogLikelihood(IEnumerable<SpeechRecognizer> members, AudioClip clip, string text)
    {
        var total = 0.0;
        foreach (var m in members)
        {
            using var scope = NewDisposeScope();
            var logProbs = m.LogProbabilities(clip);                                       // [T', C]
            var target = m.Characters.Encode(text).Select(l => (long)l).ToArray();
            total -= nn.functional.ctc_loss(logProbs.unsqueeze(1), tensor(target).unsqueeze(0), tensor(new[] { logProbs.shape[0] }),
                tensor(new[] { (long)target.Length }), reduction: nn.Reduction.Sum).item<float>();
        }
        return total;
    }

    [Fact]
    public void Ensemble_PicksTheProposalAllMembersFindMostLikely()
    {
        var dirs = new[] { Saved("a", 1), Saved("b", 2), Saved("c", 3) };
        var singles = dirs.Select(SpeechRecognizer.Load).ToList();
        try
        {
            using var ensemble = SpeechRecognizer.LoadEnsemble(dirs);
            Assert.Equal(3, ensemble.Members.Count);
            var differed = 0;
            foreach (var clip in TinyVoice.Clips())
            {
                var (transcript, proposals, scores) = ensemble.EnsembleChoice(clip, CtcDecoding.Greedy);
                // Each member proposes what it transcribes alone.
                Assert.Equal(singles.Select(s => s.Transcribe(clip, CtcDecoding.Greedy)), proposals);
                Assert.All(proposals, p => Assert.NotEqual("", p));
                if (proposals.Distinct().Count() > 1) differed++;
                // Every proposal is scored by every member; the winner has the highest total.
                foreach (var p in proposals.Distinct())
                    Assert.Equal(TotalLogLikelihood(singles, clip, p), scores[p], 3);
                Assert.Equal(scores.Values.Max(), scores[transcript]);
                Assert.Equal(transcript, ensemble.Transcribe(clip, CtcDecoding.Greedy));
            }
            Assert.True(differed > 0, "the members never disagreed, so nothing was chosen");
        }
        finally { foreach (var s in singles) s.Dispose(); }
    }

    [Fact]
    public void EnsembleVotes_PicksWhatMostMembersProposed_TheLikelihoodBreakingTies()
    {
        // Model "a" twice and "b" once: where a and b disagree, a's proposal has two votes.
        var a = Saved("a", 1);
        var b = Saved("b", 2);
        using var ensemble = SpeechRecognizer.LoadEnsemble([b, a, a]);
        ensemble.EnsembleVotes = true;
        using var onlyA = SpeechRecognizer.Load(a);
        var overruled = 0;
        foreach (var clip in TinyVoice.Clips())
        {
            var (transcript, proposals, scores) = ensemble.EnsembleChoice(clip, CtcDecoding.Greedy);
            Assert.Equal(onlyA.Transcribe(clip, CtcDecoding.Greedy), transcript);
            if (proposals[0] != transcript && scores[proposals[0]] > scores[transcript]) overruled++;
        }
        // Somewhere b's proposal was likelier in total and still lost the vote, so the vote, not the likelihood, decided.
        Assert.True(overruled > 0, "no clip where the vote overruled the likelihood; the test shows nothing");
    }

    [Fact]
    public void TranscribeAll_OnSeveralCores_GivesWhatTranscribeGivesClipByClip()
    {
        using var ensemble = SpeechRecognizer.LoadEnsemble([Saved("a", 1), Saved("b", 2), Saved("c", 3)]);
        var clips = TinyVoice.Clips().Concat(TinyVoice.Clips().Select(c => c.WithSpeed(1.1))).ToList();
        using var voice = ensemble.SpeakerStatistics(clips);
        foreach (var speaker in new[] { null, voice })
        {
            var together = ensemble.TranscribeAll(clips, CtcDecoding.Lexicon, _ => speaker);
            Assert.Equal(clips.Select(c => ensemble.Transcribe(c, CtcDecoding.Lexicon, speaker)), together);
            Assert.Equal(clips.Select(c => ensemble.EnsembleChoice(c, CtcDecoding.Lexicon, speaker).Transcript), together);
        }
        using var single = SpeechRecognizer.Load(Path.Combine(dir, "a"));
        Assert.Equal(clips.Select(c => single.Transcribe(c, CtcDecoding.Greedy)), single.TranscribeAll(clips, CtcDecoding.Greedy));
    }

    [Fact]
    public void Ensemble_OfOneModelTwice_TranscribesAsTheModelDoes()
    {
        var a = Saved("a", 4);
        using var single = SpeechRecognizer.Load(a);
        using var twice = SpeechRecognizer.LoadEnsemble([a, a]);
        foreach (var clip in TinyVoice.Clips())
            Assert.Equal(single.Transcribe(clip, CtcDecoding.Lexicon), twice.Transcribe(clip, CtcDecoding.Lexicon));
    }

    [Fact]
    public void LoadEnsemble_ReadsADirectoryOfModels_InOrder_AndASingleDirectoryAsOneModel()
    {
        var parent = Path.Combine(dir, "ensemble");
        Directory.CreateDirectory(parent);
        foreach (var (name, seed) in new[] { ("model-2", 2), ("model-1", 1) })
            Directory.Move(Saved(name, seed), Path.Combine(parent, name));
        using var ensemble = SpeechRecognizer.LoadEnsemble([parent]);
        using var first = SpeechRecognizer.Load(Path.Combine(parent, "model-1"));
        Assert.Equal(2, ensemble.Members.Count);
        var clip = TinyVoice.Clips()[0];
        using (var a = ensemble.LogProbabilities(clip))
        using (var b = first.LogProbabilities(clip))
            Assert.True(a.allclose(b, rtol: 0, atol: 0), "the first member is model-1");

        using var one = SpeechRecognizer.LoadEnsemble([Path.Combine(parent, "model-2")]);
        Assert.Single(one.Members);
    }

    [Fact]
    public void LoadEnsemble_RefusesMismatchedOrMissingModels_AndAnEnsembleCannotBeSavedOrAdapted()
    {
        var a = Saved("a", 1);
        var otherFeatures = Saved("b", 2, new FeatureOptions(Mfcc: 12));
        var e = Assert.Throws<ArgumentException>(() => SpeechRecognizer.LoadEnsemble([a, otherFeatures]));
        Assert.Contains(otherFeatures, e.Message);
        Assert.Contains("features", e.Message);
        var missing = Path.Combine(dir, "nothing-here");
        var notFound = Assert.Throws<FileNotFoundException>(() => SpeechRecognizer.LoadEnsemble([a, missing]));
        Assert.Contains(missing, notFound.Message);
        Assert.Throws<ArgumentException>(() => SpeechRecognizer.LoadEnsemble([]));

        using var ensemble = SpeechRecognizer.LoadEnsemble([a, Saved("c", 3)]);
        Assert.Throws<InvalidOperationException>(() => ensemble.Save(Path.Combine(dir, "x"), null, TrainingState.Start(new TrainerOptions())));
        var adapt = Assert.Throws<ArgumentException>(() => SpeakerAdaptation.Adapt(ensemble, TinyVoice.Clips()));
        Assert.Contains("ensemble", adapt.Message);
    }

    [Fact]
    public void Ensemble_LeavesNoTensorsBehind()
    {
        using var ensemble = SpeechRecognizer.LoadEnsemble([Saved("a", 1), Saved("b", 2)]);
        var clips = TinyVoice.Clips();
        long Live(int transcriptions)
        {
            for (var i = 0; i < transcriptions; i++) ensemble.Transcribe(clips[i % clips.Length]);
            ensemble.TranscribeAll(clips);
            GC.Collect();
            GC.WaitForPendingFinalizers();   // tensors of earlier tests that only the finalizer frees
            return Tensor.TotalCount;
        }
        var before = Live(2);
        Assert.Equal(before, Live(30));
    }
}
