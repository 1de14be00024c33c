using RnnNotebooks.Audio;
using RnnNotebooks.Speech;
using RnnNotebooks.Tests.Audio;
using RnnNotebooks.Tests.Models;
using RnnNotebooks.Training;

namespace RnnNotebooks.Tests.Speech;

public sealed class SpeedVotingTests
{
    public SpeedVotingTests() => SingleThreadedTorch.Ensure();

    static SpeechRecognizer Tiny(int seed) => TinyVoice.Recognizer(seed);

    static AudioClip[] Clips() => TinyVoice.Clips();

    // Frequency of a clean tone from its upward zero crossings, away from the ends.
    static double ToneFrequency(AudioClip clip)
    {
        var s = clip.Samples;
        var crossings = new List<int>();
        for (var i = 200; i < s.Length - 200; i++) if (s[i - 1] < 0 && s[i] >= 0) crossings.Add(i);
        return (crossings.Count - 1) * (double)clip.SampleRate / (crossings[^1] - crossings[0]);
    }

    [Fact]
    public void Vote_TakesTheMajority_TiesGoToTheSpeedNearestOne_ThenTheFirstListed()
    {
        double[] speeds = [0.8, 0.9, 1.0, 1.1, 1.2];
        Assert.Equal("one two", SpeedVoting.Vote(["one two", "one two", "one too", "one two", "won two"], speeds));
        // 2 : 2 : 1 — "b" was heard at 1.0 itself
        Assert.Equal("b", SpeedVoting.Vote(["a", "a", "b", "b", "c"], speeds));
        // 2 : 2 — "a" at 0.75 and "b" at 1.25 are equally near 1: the one listed first wins
        Assert.Equal("a", SpeedVoting.Vote(["c", "a", "d", "b", "b", "a"], [0.5, 0.75, 1.5, 1.25, 1.75, 0.25]));
        Assert.Equal("b", SpeedVoting.Vote(["b", "a"], [1.25, 0.75]));
        Assert.Equal("a", SpeedVoting.Vote(["a", "b"], [1.05, 0.95]));   // as near, whatever binary fractions say
        Assert.Equal("a", SpeedVoting.Vote(["a", "b"], [0.95, 1.05]));
        Assert.Equal("b", SpeedVoting.Vote(["b", "a", "a", "b"], [1.1, 0.7, 1.3, 1.2]));   // 0.1 from 1 beats 0.3
        Assert.Equal("", SpeedVoting.Vote(["", "", "x"], [0.9, 1.0, 1.1]));              // an empty transcript is a vote too
        Assert.Equal("only", SpeedVoting.Vote(["only"], [1.0]));
        Assert.Throws<ArgumentException>(() => SpeedVoting.Vote(["a", "b"], [1.0]));
        Assert.Throws<ArgumentException>(() => SpeedVoting.Vote([], []));
    }

    [Theory]
    [InlineData(new double[0], "at least one")]
    [InlineData(new[] { 1.0, 0.0 }, "0 is not a positive")]
    [InlineData(new[] { -0.9 }, "-0.9 is not a positive")]
    [InlineData(new[] { double.NaN }, "NaN is not a positive")]
    [InlineData(new[] { 0.9, 1.0, 0.9 }, "repeat")]
    public void BadSpeeds_AreRefusedNamingTheArgument(double[] speeds, string message)
    {
        var e = Assert.Throws<ArgumentException>(() => SpeedVoting.ValidateFactors(speeds, "speeds"));
        Assert.Contains(message, e.Message);
        Assert.StartsWith("speeds:", e.Message);
    }

    [Theory]
    [InlineData(1.25)]
    [InlineData(0.8)]
    public void WithSpeed_ScalesTheLengthDownAndEveryFrequencyUp(double factor)
    {
        var clip = new AudioClip(ResamplerTests.Tone(1000, 8000, 1.0), 8000);

        var played = clip.WithSpeed(factor);

        Assert.Equal(8000, played.SampleRate);
        Assert.InRange(played.Samples.Length, 8000 / factor - 1, 8000 / factor + 1);
        Assert.InRange(ToneFrequency(played), 1000 * factor - 3, 1000 * factor + 3);
        Assert.InRange(ToneFrequency(clip), 997, 1003);   // the original is untouched
    }

    [Fact]
    public void WithSpeed_One_IsACopy_AndABadFactorIsRefused()
    {
        var clip = new AudioClip(ResamplerTests.Tone(440, 8000, 0.1), 8000);
        var same = clip.WithSpeed(1);
        Assert.Equal(clip.Samples, same.Samples);
        Assert.NotSame(clip.Samples, same.Samples);
        Assert.Equal("factor", Assert.Throws<ArgumentOutOfRangeException>(() => clip.WithSpeed(0)).ParamName);
        Assert.Throws<ArgumentOutOfRangeException>(() => clip.WithSpeed(double.NaN));
    }

    [Fact]
    public void Transcribe_AtOneSpeed_IsPlainRecognition_OneVoiceOrEachAlone()
    {
        using var recognizer = Tiny(21);
        var clips = Clips();
        using var stats = recognizer.SpeakerStatistics(clips);

        var pooled = SpeedVoting.Transcribe(recognizer, clips, [1.0], CtcDecoding.Lexicon, oneVoice: true);
        var alone = SpeedVoting.Transcribe(recognizer, clips, [1.0], CtcDecoding.Greedy, oneVoice: false);

        Assert.Equal(clips.Select(c => recognizer.Transcribe(c, CtcDecoding.Lexicon, stats)), pooled.Transcripts);
        Assert.Equal(clips.Select(c => recognizer.Transcribe(c, CtcDecoding.Greedy)), alone.Transcripts);
    }

    [Fact]
    public void Transcribe_HearsEachSpeedWithItsOwnStatistics_AndVotesPerClip()
    {
        using var recognizer = Tiny(22);
        var clips = Clips();
        double[] speeds = [0.9, 1.0, 1.1];

        var live = TorchSharp.DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        var vote = SpeedVoting.Transcribe(recognizer, clips, speeds, CtcDecoding.Greedy);
        Assert.Equal(live, TorchSharp.DisposeScopeManager.Statistics.ThreadTotalLiveCount);   // no tensor left behind

        Assert.Equal(speeds, vote.Factors);
        for (var k = 0; k < speeds.Length; k++)
        {
            var played = clips.Select(c => c.WithSpeed(speeds[k])).ToList();
            using var stats = recognizer.SpeakerStatistics(played);
            Assert.Equal(played.Select(c => recognizer.Transcribe(c, CtcDecoding.Greedy, stats)), vote.BySpeed[k]);
        }
        for (var i = 0; i < clips.Length; i++)
            Assert.Equal(SpeedVoting.Vote([.. vote.BySpeed.Select(t => t[i])], speeds), vote.Transcripts[i]);
        Assert.Throws<ArgumentException>(() => SpeedVoting.Transcribe(recognizer, clips, [1.0, 1.0]));
    }

    [Fact]
    public void Evaluate_WithSpeeds_ScoresTheVote()
    {
        using var recognizer = Tiny(23);
        var clips = Clips();
        var strings = clips.Select((c, i) => new DigitString(c, [i], "voice")).ToList();
        double[] speeds = [0.85, 1.0, 1.15];

        var plain = AsrTraining.Evaluate(recognizer, strings, CtcDecoding.Greedy, examples: clips.Length);
        var one = AsrTraining.Evaluate(recognizer, strings, CtcDecoding.Greedy, examples: clips.Length, speeds: [1.0]);
        var voted = AsrTraining.Evaluate(recognizer, strings, CtcDecoding.Greedy, examples: clips.Length, speeds: speeds);

        Assert.Equal(plain.Examples, one.Examples);
        Assert.Equal(SpeedVoting.Transcribe(recognizer, clips, speeds, CtcDecoding.Greedy).Transcripts,
            voted.Examples.Select(e => e.Hypothesis));
        Assert.Throws<ArgumentException>(() => AsrTraining.Evaluate(recognizer, strings, speeds: [0.0]));
    }

    [Fact]
    public void Evaluate_WithAdaptationAndSpeeds_VotesWithTheAdaptedModel_ThenPutsTheWeightsBack()
    {
        var clips = Clips();
        var strings = clips.Select((c, i) => new DigitString(c, [i], "voice")).ToList();
        double[] speeds = [0.9, 1.0, 1.1];
        var options = new SpeakerAdaptationOptions(Rounds: 1, Epochs: 5, LearningRate: 1e-2, Keep: 1, BatchSize: 3);
        using var recognizer = Tiny(24);

        var evaluation = AsrTraining.Evaluate(recognizer, strings, examples: clips.Length, adaptation: options, speeds: speeds);

        var before = SpeedVoting.Transcribe(recognizer, clips, speeds).Transcripts;   // the weights were put back
        using var stats = recognizer.SpeakerStatistics(clips);
        SpeakerAdaptation.Adapt(recognizer, clips, stats, options);
        var after = SpeedVoting.Transcribe(recognizer, clips, speeds).Transcripts;
        Assert.Equal(after, evaluation.Examples.Select(e => e.Hypothesis));
        Assert.NotEqual(before, after);   // else this test could not tell adapted from not
    }
}
