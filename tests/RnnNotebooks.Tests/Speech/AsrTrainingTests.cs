using RnnNotebooks.Audio;
using RnnNotebooks.Speech;
using RnnNotebooks.Tests.Audio;
using RnnNotebooks.Tests.Models;
using RnnNotebooks.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace RnnNotebooks.Tests.Speech;

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
    public void SpeakerSplitStrings_AdaptOnRecordingsBelow25_ScoreTheOthers_NeverShared()
    {
        var recordings = SignedRecordings("alice");
        var (adaptOn, score) = AsrTraining.SpeakerSplitStrings(recordings, "alice");

        Assert.Equal(25, adaptOn.Sum(s => s.Digits.Count));   // 25 recordings a side, each once
        Assert.Equal(25, score.Sum(s => s.Digits.Count));
        Assert.Equal(3, AsrTraining.SpeakerSplitStrings(recordings, "alice", count: 3).Score.Count);
        Assert.All(adaptOn, s => Assert.True(s.Audio.Samples.Max() > 0.2f && s.Audio.Samples.Min() >= 0f));
        Assert.All(score, s => Assert.True(s.Audio.Samples.Min() < -0.2f && s.Audio.Samples.Max() <= 0f));
        Assert.Equal(adaptOn.Select(s => s.Transcript), AsrTraining.SpeakerSplitStrings(recordings, "alice").AdaptOn.Select(s => s.Transcript));

        Assert.Contains("Speakers: alice", Assert.Throws<ArgumentException>(() => AsrTraining.SpeakerSplitStrings(recordings, "bob")).Message);
        var onlyEarly = SignedRecordings("carol", upTo: 20);
        Assert.Contains("below and from 25", Assert.Throws<ArgumentException>(() => AsrTraining.SpeakerSplitStrings(onlyEarly, "carol")).Message);
    }

    [Fact]
    public void EvaluateAdaptationOnNewRecordings_ScoresBeforeAndAfter_AndPutsTheWeightsBack()
    {
        Seeds.Set(21);
        using var recognizer = SpeechRecognizer.Create(new FeatureOptions(Mfcc: 13), new AcousticModelOptions(ConvChannels: 8, HiddenSize: 8));
        recognizer.BeamWidth = 2;
        DigitString Say(double hz, int digit) => new(new AudioClip(ResamplerTests.Tone(hz, 8000, 0.4), 8000), [digit], "voice");
        var adaptOn = new[] { Say(300, 1), Say(500, 2), Say(800, 3), Say(1200, 4) };
        var score = new[] { Say(400, 5), Say(900, 6) };
        var options = new SpeakerAdaptationOptions(Rounds: 1, Epochs: 5, LearningRate: 1e-2, Keep: 1, BatchSize: 2);
        Dictionary<string, torch.Tensor> before;
        using (torch.no_grad()) before = recognizer.Model.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.clone());

        var (unadapted, adapted) = AsrTraining.EvaluateAdaptationOnNewRecordings(recognizer, adaptOn, score, options, examples: 2);

        foreach (var (name, w) in recognizer.Model.state_dict()) Assert.True(w.allclose(before[name], rtol: 0, atol: 0), name);
        using var stats = recognizer.SpeakerStatistics(adaptOn.Select(s => s.Audio));   // the adaptation strings' statistics only
        Assert.Equal(score.Select(s => (s.Transcript, recognizer.Transcribe(s.Audio, CtcDecoding.Lexicon, stats))), unadapted.Examples);
        SpeakerAdaptation.Adapt(recognizer, [.. adaptOn.Select(s => s.Audio)], stats, options);
        Assert.Equal(score.Select(s => (s.Transcript, recognizer.Transcribe(s.Audio, CtcDecoding.Lexicon, stats))), adapted.Examples);
        Assert.Equal(adaptOn.Sum(s => s.Audio.Seconds) + score.Sum(s => s.Audio.Seconds), adapted.AudioSeconds, 6);

        var twoVoices = adaptOn.Append(Say(600, 7) with { Speaker = "other" }).ToList();
        Assert.Contains("one voice at a time", Assert.Throws<ArgumentException>(() =>
            AsrTraining.EvaluateAdaptationOnNewRecordings(recognizer, twoVoices, score, options)).Message);
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
            Assert.Equal(3, state.History.Epochs.Count);
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
    public void Train_AverageBest_EndsWithTheMeanOfTheBestEpochsWeights_AsValidatedOnesSavedShow()
    {
        var epochs = Path.Combine(dir, "epochs");
        var options = TinyOptions() with { Epochs = 4, AverageBest = 2 };
        var (recognizer, state, optimizer) = AsrTraining.Train(ToneRecordings(), ["ann", "bo"], options,
            validated: (r, epoch, cer) => r.Save(Path.Combine(epochs, $"{epoch}"), null, TrainingState.Start(new TrainerOptions(options.Epochs))));
        using (recognizer)
        {
            optimizer.Dispose();
            // The two lowest validation CERs (earlier first on ties), averaged from the weights saved after them.
            var two = state.History.Epochs.Select((e, i) => (Cer: e.Metrics["val_cer"], Epoch: i + 1))
                .OrderBy(x => x.Cer).ThenBy(x => x.Epoch).Take(2).Select(x => Path.Combine(epochs, $"{x.Epoch}")).ToList();
            Assert.Equal(4, Directory.GetDirectories(epochs).Length);
            using var expected = SpeechRecognizer.LoadAverage(two);
            var got = recognizer.Model.state_dict();
            foreach (var (name, weight) in expected.Model.state_dict())
                Assert.True(weight.allclose(got[name], rtol: 1e-6, atol: 1e-7), $"{name} is not the mean of epochs {string.Join(", ", two)}");
            using var single = SpeechRecognizer.Load(two[0]);
            Assert.False(single.Model.state_dict()["output.weight"].allclose(got["output.weight"], rtol: 1e-6, atol: 1e-7),
                "the result is the best epoch alone, not an average");
        }
        Assert.Throws<ArgumentException>(() => AsrTraining.Train(ToneRecordings(), ["ann", "bo"], TinyOptions() with { AverageBest = 0 }));
    }

    [Fact]
    public void Train_DecayFraction_EndsOnTheClosingCosine()
    {
        // 3 epochs of 24 strings in batches of 8: 9 updates (0-8).
        double LastRate(AsrTrainingOptions options)
        {
            var (recognizer, state, optimizer) = AsrTraining.Train(ToneRecordings(), ["ann", "bo"], options);
            using (recognizer) using (optimizer)
            {
                Assert.Equal(9, state.Step);
                return optimizer.ParamGroups.First().LearningRate;
            }
        }
        var lr = TinyOptions().LearningRate;
        // Two thirds: the cosine runs over updates 3-8 from the rate as it stands (no plateau cuts here), so update 8
        // used Cosine(lr, 5/6).
        Assert.Equal(LearningRates.Cosine(lr, 5.0 / 6), LastRate(TinyOptions() with { DecayFraction = 2.0 / 3, PlateauPatience = 0 }), 12);
        // All of training: from update 0, before any validation could cut the rate; the cosine wins over plateau cuts.
        Assert.Equal(LearningRates.Cosine(lr, 8.0 / 9), LastRate(TinyOptions() with { DecayFraction = 1, PlateauPatience = 1 }), 12);
        Assert.Equal(lr, LastRate(TinyOptions() with { PlateauPatience = 0 }));   // 0: the rate is left alone
        Assert.Throws<ArgumentException>(() => AsrTraining.Train(ToneRecordings(), ["ann", "bo"], TinyOptions() with { DecayFraction = 1.5 }));
    }

    [Fact]
    public void Train_Cycles_RestartsTheRate_AndSkipsPlateauCuts()
    {
        // 3 epochs of 24 strings in batches of 8: 9 updates (0-8); 3 cycles of 3 updates.
        var lr = TinyOptions().LearningRate;
        var (recognizer, state, optimizer) = AsrTraining.Train(ToneRecordings(), ["ann", "bo"],
            TinyOptions() with { Cycles = 3, PlateauPatience = 1 });
        using (recognizer) using (optimizer)
        {
            Assert.Equal(9, state.Step);
            // Update 8 is the last of the third cycle, whatever the validations did (patience 1 would have halved it).
            Assert.Equal(LearningRates.Cosine(lr, 2.0 / 3), optimizer.ParamGroups.First().LearningRate, 12);
        }
        Assert.Throws<ArgumentException>(() => AsrTraining.Train(ToneRecordings(), ["ann", "bo"], TinyOptions() with { Cycles = 4 }));
        Assert.Throws<ArgumentException>(() => AsrTraining.Train(ToneRecordings(), ["ann", "bo"], TinyOptions() with { Cycles = 3, DecayFraction = 0.5 }));
    }

    [Fact]
    public void Train_WithASpeakerAdversary_IsRepeatable_RecordsItsAccuracy_AndLeavesNoTensors()
    {
        var recordings = ToneRecordings();
        var options = TinyOptions() with { SpeakerAdversary = 1 };
        (IReadOnlyList<double> Losses, IReadOnlyList<double> Accuracy, IReadOnlyList<string> Weights) Run()
        {
            var (recognizer, state, optimizer) = AsrTraining.Train(recordings, ["ann", "bo"], options);
            using (recognizer) using (optimizer)
                return (state.History.Losses, [.. state.History.Epochs.Select(e => e.Metrics["speaker_acc"])],
                    [.. recognizer.Model.state_dict().Keys.Order(StringComparer.Ordinal)]);
        }

        var first = Run();
        GC.Collect();
        GC.WaitForPendingFinalizers();
        var before = Tensor.TotalCount;
        var second = Run();
        Assert.Equal(first.Losses, second.Losses);
        Assert.Equal(first.Accuracy, second.Accuracy);
        Assert.Equal(3, first.Accuracy.Count);
        Assert.All(first.Accuracy, a => Assert.InRange(a, 0, 1));
        // The adversary trains nothing that is saved: the recognizer's weights are the acoustic model's alone.
        Assert.Equal(first.Weights, second.Weights);
        Assert.DoesNotContain(first.Weights, k => !(k.StartsWith("conv") || k.StartsWith("rnn.") || k.StartsWith("output.")));
        // And it changes the training: not the losses of the same recipe without it.
        var (plain, plainState, plainOptimizer) = AsrTraining.Train(recordings, ["ann", "bo"], TinyOptions());
        using (plain) plainOptimizer.Dispose();
        Assert.NotEqual(plainState.History.Losses, first.Losses);
        GC.Collect();
        GC.WaitForPendingFinalizers();
        // 9 steps of 5-tensor batches and the adversary's weights would leave dozens; the 8 are nn.GRU's (above).
        Assert.InRange(Tensor.TotalCount - before, 0, 8 + 8);

        Assert.Contains("SpeakerAdversary", Assert.Throws<ArgumentException>(() => AsrTraining.Train(recordings, ["ann", "bo"],
            options with { SpeakerAdversary = -1 })).Message);
        Assert.Contains("MixSpeakers", Assert.Throws<ArgumentException>(() => AsrTraining.Train(recordings, ["ann", "bo"],
            options with { Strings = options.Strings! with { MixSpeakers = 0.5 } })).Message);
        Assert.Contains("two training voices", Assert.Throws<ArgumentException>(() => AsrTraining.Train(recordings, ["ann"], options)).Message);
    }

    [Fact]
    public void Train_OnMixedStrings_Runs_AndRefusesSpeakerNormalisation()
    {
        var recordings = ToneRecordings();
        var options = TinyOptions() with { Strings = TinyOptions().Strings! with { MixSpeakers = 0.5 } };
        var (recognizer, state, optimizer) = AsrTraining.Train(recordings, ["ann", "bo"], options);
        using (recognizer) optimizer.Dispose();
        Assert.Equal(9, state.History.Losses.Count);
        Assert.All(state.History.Losses, l => Assert.True(double.IsFinite(l)));
        Assert.Contains("MixSpeakers", Assert.Throws<ArgumentException>(() => AsrTraining.Train(recordings, ["ann", "bo"],
            options with { SpeakerNormalization = true })).Message);
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

    [Fact]
    public void Batches_WithMelBandMasks_HideMelFiltersBeforeTheDct_NotCepstralCoefficients()
    {
        var recordings = ToneRecordings();
        var options = TinyOptions();
        using var recognizer = SpeechRecognizer.Create(options.Features, options.Model, ["ann", "bo"]);
        var builder = new DigitStringBuilder(recordings.Where(AsrTraining.IsTraining), options.Strings);
        var (strings, _) = AsrTraining.EpochStrings(builder, options, epoch: 0);
        using var scope = torch.NewDisposeScope();
        // The order of the batches is drawn first, so the same generator seed puts the same strings in each batch.
        List<SpeechBatch> Batches(SpecAugmentOptions? masks) =>
            [.. AsrTraining.Batches(recognizer, strings, new Random(77), options with { SpecAugment = masks })];
        var melMasks = new SpecAugmentOptions(FrequencyMasks: 2, MaxFrequencyWidth: 8, TimeMasks: 0, MelBands: true);

        var plain = Batches(null);
        var mel = Batches(melMasks);
        var cepstral = Batches(melMasks with { MelBands = false, MaxFrequencyWidth = 3 });
        Assert.Equal(mel.Select(b => b.Transcripts), Batches(melMasks).Select(b => b.Transcripts));
        int melChanged = 0, cepstralChanged = 0;
        for (var b = 0; b < plain.Count; b++)
        {
            Assert.Equal(plain[b].Transcripts, mel[b].Transcripts);
            var lengths = plain[b].Lengths.data<long>().ToArray();
            for (var i = 0; i < lengths.Length; i++)
            {
                var valid = TensorIndex.Slice(0, lengths[i]);
                var reference = plain[b].Features[i, valid];                        // [frames, 13]
                var columnsChanged = (Tensor masked) => masked[i, valid].ne(reference).any(0);
                // A mel band flattened before the DCT moves every cepstral coefficient of the utterance...
                var byMel = columnsChanged(mel[b].Features).sum().ToInt64();
                if (byMel > 0)
                {
                    melChanged++;
                    Assert.InRange(byMel, 10, 13);
                }
                // ...a cepstral mask zeroes a few coefficients and leaves the rest.
                var changed = columnsChanged(cepstral[b].Features);
                var byCepstral = changed.sum().ToInt64();
                if (byCepstral == 0) continue;
                cepstralChanged++;
                Assert.InRange(byCepstral, 1, 6);
                Assert.True(cepstral[b].Features[i, valid].index_select(1, changed.nonzero().squeeze(1)).eq(0).all().item<bool>());
            }
        }
        Assert.InRange(melChanged, strings.Count / 2, strings.Count);
        Assert.InRange(cepstralChanged, strings.Count / 2, strings.Count);
    }
}
