using RnnNotebooks.Audio;
using RnnNotebooks.Speech;
using RnnNotebooks.Tests.Audio;
using RnnNotebooks.Training;

namespace RnnNotebooks.Tests.Speech;

/// <summary>A tiny untrained recognizer and one made-up "voice" for tests that adapt or vote.</summary>
static class TinyVoice
{
    /// <summary>13 MFCCs, 8 conv channels, 8 hidden units, beam width 2; seeded.</summary>
    public static SpeechRecognizer Recognizer(int seed)
    {
        Seeds.Set(seed);
        var recognizer = SpeechRecognizer.Create(new FeatureOptions(Mfcc: 13), new AcousticModelOptions(ConvChannels: 8, HiddenSize: 8));
        recognizer.BeamWidth = 2;
        return recognizer;
    }

    /// <summary>Tones of different pitch, 0.4 s each at 8 kHz, as a few strings of one voice.</summary>
    public static AudioClip[] Clips() =>
        [.. new[] { 300.0, 450, 600, 800, 1100, 1500 }.Select(hz => new AudioClip(ResamplerTests.Tone(hz, 8000, 0.4), 8000))];
}
