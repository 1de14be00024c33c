using RnnNotebooks.Models;
using RnnNotebooks.Text;
using RnnNotebooks.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace RnnNotebooks.Tests.Models;

public class ScratchRnnTrainingTests
{
    public ScratchRnnTrainingTests() => SingleThreadedTorch.Ensure();

    const string Period = "hello world ";

    static (Vocabulary Vocabulary, int[] Ids) RepeatedText(int copies)
    {
        var vocabulary = Vocabulary.OfCharacters(Period);
        return (vocabulary, vocabulary.Encode(string.Concat(Enumerable.Repeat(Period, copies))));
    }

    [Fact]
    public void Fit_OnARepeatedString_LowersTheLossAndReportsEveryWindow()
    {
        manual_seed(0);
        var (vocabulary, ids) = RepeatedText(20);
        using var rnn = new ScratchRnn(vocabulary.Size, 24, new ScratchRnnOptions(InitScale: 0.1));
        var before = ScratchRnnTraining.Evaluate(rnn, ids);
        var reports = new List<TrainingProgress>();
        // The first update creates Adagrad's memory, which the model keeps; count live tensors after it.
        ScratchRnnTraining.Fit(rnn, ids, new ScratchTextTrainingOptions(Window: 16, MaxWindows: 1));
        var liveBefore = DisposeScopeManager.Statistics.ThreadTotalLiveCount;

        var run = ScratchRnnTraining.Fit(rnn, ids,
            new ScratchTextTrainingOptions(Window: 16, Epochs: 30, Step: new ScratchStepOptions(0.1), ReportEvery: 100), reports.Add);

        var perEpoch = (ids.Length - 1) / 16;
        Assert.Equal(perEpoch * 30, run.Losses.Count);
        Assert.Equal(run.Losses.Count, run.GradientNorms.Count);
        Assert.False(run.StoppedOnNonFiniteLoss);
        Assert.Equal(liveBefore, DisposeScopeManager.Statistics.ThreadTotalLiveCount);
        Assert.Equal(run.Losses.Count, reports[^1].Step);
        Assert.Equal(run.Losses.Count, reports[^1].TotalSteps);
        Assert.Equal(Math.Log(vocabulary.Size), before, 0.05);
        Assert.True(ScratchRnnTraining.Evaluate(rnn, ids) < 0.1, "the repeated string should be learned");
    }

    [Fact]
    public void Fit_WithMaxWindows_StopsThere()
    {
        manual_seed(1);
        var (vocabulary, ids) = RepeatedText(10);
        using var rnn = new ScratchRnn(vocabulary.Size, 8);

        var run = ScratchRnnTraining.Fit(rnn, ids, new ScratchTextTrainingOptions(Window: 8, Epochs: 5, MaxWindows: 7));

        Assert.Equal(7, run.Losses.Count);
    }

    [Fact]
    public void Fit_WhenTheLossBecomesNonFinite_StopsAndSaysSo()
    {
        manual_seed(2);
        var (vocabulary, ids) = RepeatedText(10);
        using var rnn = new ScratchRnn(vocabulary.Size, 8);
        rnn.Why.fill_(double.NaN);

        var run = ScratchRnnTraining.Fit(rnn, ids, new ScratchTextTrainingOptions(Window: 8, Epochs: 2));

        Assert.True(run.StoppedOnNonFiniteLoss);
        Assert.Single(run.Losses);
    }

    [Fact]
    public void Evaluate_EqualsTheLossOverTheWholeText_WhateverTheWindow()
    {
        manual_seed(3);
        var (vocabulary, ids) = RepeatedText(5);
        using var rnn = new ScratchRnn(vocabulary.Size, 8, new ScratchRnnOptions(InitScale: 0.5));

        var whole = rnn.Loss(ids[..^1], ids[1..]);

        Assert.Equal(whole, ScratchRnnTraining.Evaluate(rnn, ids, window: 7), 10);
        Assert.Equal(whole, ScratchRnnTraining.Evaluate(rnn, ids, window: 1000), 10);
    }

    [Fact]
    public void Fit_TextShorterThanAWindow_ThrowsSayingWhatItNeeds()
    {
        using var rnn = new ScratchRnn(3, 4);

        var e = Assert.Throws<ArgumentException>(() => ScratchRnnTraining.Fit(rnn, [0, 1, 2], new ScratchTextTrainingOptions(Window: 8)));

        Assert.Contains("at least 9", e.Message);
    }
}
