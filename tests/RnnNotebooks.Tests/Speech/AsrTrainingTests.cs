using RnnNotebooks.Audio;
using RnnNotebooks.Speech;
using RnnNotebooks.Tests.Audio;
using RnnNotebooks.Tests.Models;
using RnnNotebooks.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace RnnNotebooks.Tests.Speech;

// Compares the process-wide live-tensor count, which tests running beside it would move.
[Collection(RnnNotebooks.Tests.Training.TorchGlobalState.Name)]
public sealed class AsrTrainingTests : IDisposable
{
    readonly string dir = Directory.CreateTempSubdirectory("asr-split").FullName;

    public AsrTrainingTests() => SingleThreadedTorch.Ensure();

    public void Dispose() => Directory.Delete(dir, recursive: true);

    // Recordings 0–24 hold a constant +0.25, recordings 25–49 a constant −0.25: a string's sign tells its half.
    List<DigitRecording> SignedRecordings(string speaker, int upTo = 50)
    {
        var list = new List<DigitRecording>();
        for (var i = 0; i < upTo; i++)
        {
            var path = Path.Combine(dir, $"{i % 10}_{speaker}_{i}.wav");
            WavFile.Write(path, new AudioClip(Enumerable.Repeat(i < 25 ? 0.25f : -0.25f, 800).ToArray(), 8000));
            list.Add(new DigitRecording(i % 10, speaker, i, path));
        }
        return list;
    }

    [Fact]
    public void Score_CountsCharacterAndWordErrorsOfGivenHypotheses()
    {
        var strings = new[] { new DigitString(new AudioClip([0f], 8000), [1, 2], "a"), new DigitString(new AudioClip([0f], 8000), [3], "a") };

        var e = AsrTraining.Score(strings, ["one too", "three"]);

        Assert.Equal(1.0 / 12, e.Cer, 9);   // one substitution ('w' → 'o') in 7 + 5 reference characters
        Assert.Equal(1.0 / 3, e.Wer, 9);
        Assert.Throws<ArgumentException>(() => AsrTraining.Score(strings, ["one two"]));
    }

    [Fact]
    public void Splits_PutEveryIndexInExactlyOnePart_TestFiveValidationFiveTrainingForty()
    {
        var parts = Enumerable.Range(0, 50).Select(i => new DigitRecording(3, "alice", i, $"3_alice_{i}.wav"))
            .Select(r => (r.IsOfficialTest ? 1 : 0) + (AsrTraining.IsValidation(r) ? 2 : 0) + (AsrTraining.IsTraining(r) ? 4 : 0))
            .ToList();

        Assert.All(parts, p => Assert.Contains(p, new[] { 1, 2, 4 }));
        Assert.Equal(5, parts.Count(p => p == 1));
        Assert.Equal(5, parts.Count(p => p == 2));
        Assert.Equal(40, parts.Count(p => p == 4));
    }

    /// <summary>Two speakers' "digits" as tones (pitch by digit, shifted by speaker), recordings 5–13: 5–9 validate,
    /// 10–13 train.</summary>
    List<DigitRecording> ToneRecordings()
    {
        var list = new List<DigitRecording>();
        foreach (var (speaker, shift) in new[] { ("ann", 1.0), ("bo", 1.2) })
            for (var digit = 0; digit < 10; digit++)
                for (var i = 5; i < 14; i++)
                {
                    var path = Path.Combine(dir, $"{digit}_{speaker}_{i}.wav");
                    WavFile.Write(path, new AudioClip(ResamplerTests.Tone((300 + 150 * digit) * shift, 8000, 0.25), 8000));
                    list.Add(new DigitRecording(digit, speaker, i, path));
                }
        return list;
    }

    static AsrTrainingOptions TinyOptions(TimeSpan? budget = null) => new(StringsPerEpoch: 24, Epochs: 3, BatchSize: 8,
        ValidationStrings: 4, Seed: 5, TimeBudget: budget, SpecAugment: new SpecAugmentOptions(MaxFrequencyWidth: 2),
        Strings: DigitStringOptions.Augmented with { SpeedPerturbation = 0.2, MaxDigits = 3 },
        Features: new FeatureOptions(Mfcc: 13), Model: new AcousticModelOptions(ConvChannels: 8, HiddenSize: 8));

    [Fact]
    public void Train_SameSeedTwice_GivesTheSameLossCurve_WithTheNextBatchesBuiltAhead()
    {
        var recordings = ToneRecordings();
        IReadOnlyList<double> Losses()
        {
            var (recognizer, state, optimizer) = AsrTraining.Train(recordings, ["ann", "bo"], TinyOptions());
            using (recognizer) optimizer.Dispose();
            Assert.True(state.History.Epochs.Count == 3, state.History.StopMessage);
            return state.History.Losses;
        }

        var first = Losses();
        Assert.Equal(9, first.Count);                                  // 3 epochs of 24 strings in batches of 8
        var before = Tensor.TotalCount;                                // after the first run's one-time caches
        Assert.Equal(first, Losses());
        // No batch outlives its step: 9 steps of 4-tensor batches would leave 36 or more. What a run may leave is the
        // 8 tensors TorchSharp 0.107's nn.GRU keeps past Dispose (creating and disposing the model alone leaves them).
        Assert.InRange(Tensor.TotalCount - before, 0, 8);
    }

    [Fact]
    public void SavePrepared_LoadPrepared_RoundTrips_TheRecognizerAndItsHistory()
    {
        var (recognizer, state, optimizer) = AsrTraining.Train(ToneRecordings(), ["ann", "bo"], TinyOptions());
        optimizer.Dispose();
        var prepared = Path.Combine(dir, "prepared");
        var clip = new AudioClip(ResamplerTests.Tone(440, 8000, 0.3), 8000);
        using (recognizer)
        {
            AsrTraining.SavePrepared(recognizer, state, prepared);
            var (loaded, loadedState) = AsrTraining.LoadPrepared(prepared);
            using (loaded)
            using (var scope = NewDisposeScope())
            {
                Assert.True(recognizer.LogProbabilities(clip).allclose(loaded.LogProbabilities(clip)));
                Assert.Equal(state.Step, loadedState.Step);
                Assert.Equal(state.History.Losses, loadedState.History.Losses);
                Assert.Equal(state.History.Series("val_cer"), loadedState.History.Series("val_cer"));
            }
        }
        Assert.Throws<FileNotFoundException>(() => AsrTraining.LoadPrepared(Path.Combine(dir, "missing")));
    }

    [Fact]
    public void Train_ReportsEveryNewBest_WithTheWeightsItEndsWith()
    {
        var calls = new List<(int Epoch, double Cer)>();
        var saved = Path.Combine(dir, "best-so-far");
        var options = TinyOptions() with { Epochs = 4 };
        var (recognizer, state, optimizer) = AsrTraining.Train(ToneRecordings(), ["ann", "bo"], options,
            newBest: (r, epoch, cer) =>
            {
                calls.Add((epoch, cer));
                r.Save(saved, null, TrainingState.Start(new TrainerOptions(options.Epochs)));
            });
        using (recognizer)
        {
            optimizer.Dispose();
            // Called exactly at the epochs whose validation CER is below every earlier one.
            var expected = new List<(int, double)>();
            var lowest = double.PositiveInfinity;
            foreach (var (e, i) in state.History.Epochs.Select((e, i) => (e, i)))
                if (e.Metrics["val_cer"] < lowest) expected.Add((i + 1, lowest = e.Metrics["val_cer"]));
            Assert.Equal(4, state.History.Epochs.Count);
            Assert.Equal(expected, calls);

            // What the last call saved is the model training returned (it keeps the best weights).
            using var loaded = SpeechRecognizer.Load(saved);
            var kept = recognizer.Model.state_dict();
            foreach (var (name, weight) in loaded.Model.state_dict())
                Assert.True(weight.allclose(kept[name], rtol: 0, atol: 0), $"{name} differs from the kept weights");
        }
    }

    [Fact]
    [Trait("Category", "Slow")]
    public void Train_IntoAFolder_FollowsTheSameRun_SavesItsOptions_ResumesThemAndRefusesOthers()
    {
        var recordings = ToneRecordings();
        var options = TinyOptions() with { Epochs = 2 };
        var (plain, plainState, plainOptimizer) = AsrTraining.Train(recordings, ["ann", "bo"], options);
        using (plain) plainOptimizer.Dispose();
        var output = Path.Combine(dir, "run");

        var first = AsrTraining.Train(recordings, ["bo", "ann"], options, output);
        using (first.Recognizer) first.Optimizer.Dispose();

        Assert.False(first.Resumed);
        Assert.Equal(plainState.History.Losses, first.State.History.Losses);
        Assert.Equal(plainState.History.Epochs.Select(e => e.Metrics["val_cer"]), first.State.History.Epochs.Select(e => e.Metrics["val_cer"]));
        Assert.Equal(["ann", "bo"], RunFolder.ReadOptions<AsrTrainingOptions>(output)!.Speakers);

        var logs = new List<string>();
        var again = AsrTraining.Train(recordings, ["ann", "bo"], options with { Epochs = 3 }, output, log: logs.Add);
        using (again.Recognizer) again.Optimizer.Dispose();
        Assert.True(again.Resumed);
        Assert.Contains(logs, l => l.StartsWith("resuming", StringComparison.Ordinal));
        Assert.Equal(3, again.State.Epoch);

        var files = Directory.GetFiles(output).ToDictionary(f => f, File.ReadAllBytes);
        var refused = Assert.Throws<InvalidOperationException>(() => AsrTraining.Train(recordings, ["ann"], options, output));
        Assert.Contains("speakers", refused.Message);
        Assert.Throws<InvalidOperationException>(() => AsrTraining.Train(recordings, ["ann", "bo"], options with { LearningRate = 0.01 }, output));
        Assert.All(files, f => Assert.Equal(f.Value, File.ReadAllBytes(f.Key)));
    }

    [Fact]
    public void Train_StoppedByTheTimeBudget_ReturnsWhileTheNextEpochIsBeingBuilt()
    {
        var (recognizer, state, optimizer) = AsrTraining.Train(ToneRecordings(), ["ann", "bo"], TinyOptions(TimeSpan.FromMilliseconds(1)));
        using (recognizer) optimizer.Dispose();
        Assert.Equal(StopReason.TimeBudget, state.History.StopReason);
    }

    [Fact]
    public void Batches_FromStringsBuiltAhead_EqualTheBatchesBuiltInPlace()
    {
        var recordings = ToneRecordings();
        var options = TinyOptions();
        using var recognizer = SpeechRecognizer.Create(options.Features, options.Model, ["ann", "bo"]);
        var builder = new DigitStringBuilder(recordings.Where(AsrTraining.IsTraining), options.Strings);
        using var scope = torch.NewDisposeScope();

        var inPlace = AsrTraining.Batches(recognizer, builder, options, epoch: 2).ToList();
        var (strings, random) = AsrTraining.EpochStrings(builder, options, epoch: 2);
        var ahead = new List<SpeechBatch>();
        foreach (var b in Prefetch.Ahead(AsrTraining.Batches(recognizer, strings, random, options), b => b.Tensors)) ahead.Add(b);

        Assert.Equal(3, inPlace.Count);
        Assert.Equal(inPlace.Select(b => b.Transcripts), ahead.Select(b => b.Transcripts));
        foreach (var (x, y) in inPlace.Zip(ahead))
        {
            Assert.Equal(x.Features.shape, y.Features.shape);
            Assert.Equal(x.Features.data<float>().ToArray(), y.Features.data<float>().ToArray());
            Assert.Equal(x.Lengths.data<long>().ToArray(), y.Lengths.data<long>().ToArray());
            Assert.Equal(x.Targets.data<long>().ToArray(), y.Targets.data<long>().ToArray());
        }
        Assert.NotEqual(inPlace.Select(b => b.Transcripts),
            AsrTraining.Batches(recognizer, builder, options, epoch: 1).Select(b => b.Transcripts));
    }
}
