using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using RnnNotebooks.Audio;
using RnnNotebooks.Platform;
using RnnNotebooks.Speech;
using RnnNotebooks.Training;

namespace RnnNotebooks.Cli;

/// <summary><c>rnn asr train | eval | transcribe | adapt</c>: the lesson 05 speech recognizer from the command line.</summary>
static class AsrCommand
{
    public static Command Build() =>
        new("asr", "Train, evaluate and run the lesson 05 speech recognizer (CTC over FSDD digit strings).")
        {
            AsrTrainCommand.Build(), Eval(), Transcribe(), Adapt(),
        };

    internal static Option<string> Data() =>
        CliOptions.Text("--data", "the recordings: fsdd, or a folder of FSDD-named WAV files", "fsdd", helpName: "fsdd|DIR");

    internal static IReadOnlyList<DigitRecording> Recordings(string? data) =>
        data is null or "fsdd" ? SpokenDigits.List() : SpokenDigits.List(data);

    /// <summary><c>--threads</c>: null (automatic) for 0, else 1 to the core count.</summary>
    internal static int? Threads(int count, Option<int> option)
    {
        Cli.Check(() => Recipe.Threads(count, "Threads"), new Dictionary<string, Option> { ["Threads"] = option });
        return Training.Threads.Requested(count);
    }

    internal static Option<string[]> Checkpoints() => new("--checkpoint")
    {
        Description = "a trained model's folder; several (repeated, or a folder of `train --ensemble N`) decode as an ensemble",
        Required = true, Arity = ArgumentArity.OneOrMore, HelpName = "DIR",
    };

    internal static Option<string> Combine() => CliOptions.Choice("--combine",
        "an ensemble's transcript: likelihood (the highest summed CTC likelihood) or vote (the one most models proposed)", "likelihood", "vote");

    internal static Option<string> DecodingOption() => CliOptions.Choice("--decoding", "how the CTC output becomes digits", "lexicon", "greedy", "beam");

    internal static Option<double?> BalanceOption() => CliOptions.OptionalDouble("--balance",
        "with adaptation: pick the pseudo-labels class-balanced, no word above CAP times its even share (e.g. 1.25)");

    internal static CtcDecoding Decoding(string? name) => name switch
    {
        "greedy" => CtcDecoding.Greedy,
        "beam" => CtcDecoding.Beam,
        _ => CtcDecoding.Lexicon,
    };

    internal static double? CheckBalance(double? cap) =>
        cap is null or >= 1 ? cap
            : throw new UsageException($"--balance {cap}: expected a cap of at least 1 (times a word's even share of the pseudo-labels), e.g. 1.25.");

    internal static object Summary(AsrEvaluation e) => new
    {
        Cer = Math.Round(e.Cer, 4),
        Wer = Math.Round(e.Wer, 4),
        e.Utterances,
        RealTime = Math.Round(e.RealTimeFactor, 1),
        Examples = e.Examples.Select(x => new { x.Reference, x.Hypothesis }).ToList(),
    };

    static Command Eval()
    {
        var speaker = CliOptions.Text("--speaker", "the voice to score (its test strings)", required: true, helpName: "NAME");
        var data = Data();
        var strings = CliOptions.Int("--strings", "test strings to score", 200);
        var normalize = CliOptions.Choice("--normalize", "recognise with the speaker's pooled feature statistics, or each string alone", "speaker", "utterance");
        var command = new Command("eval", "CER and WER of a model (or an ensemble) on one speaker's digit strings, as JSON.") { speaker, data, strings, normalize };
        var d = AsrDecoder.AddTo(command);
        command.SetAction(p =>
        {
            var count = p.GetValue(strings);
            if (count < 1) throw new UsageException("--strings must be positive.");
            return Eval(p.GetValue(d.Checkpoints)!, p.GetValue(d.Combine)!, p.GetValue(speaker)!, Recordings(p.GetValue(data)), count,
                d.DecodingOf(p), p.GetValue(normalize) == "speaker", d.Adaptation(p), d.SpeedsOf(p), () => d.ApplyThreads(p));
        });
        return command;
    }

    static int Eval(IReadOnlyList<string> dirs, string combine, string speaker, IReadOnlyList<DigitRecording> recordings, int count,
        CtcDecoding decoding, bool perSpeaker, SpeakerAdaptationOptions? adaptation, IReadOnlyList<double>? speeds, Action applyThreads)
    {
        applyThreads();
        using var recognizer = LoadRecognizer(dirs, combine);
        var e = AsrTraining.Evaluate(recognizer, AsrTraining.SpeakerTestStrings(recordings, speaker, count), decoding,
            perSpeaker: perSpeaker, adaptation: adaptation, speeds: speeds);
        Console.WriteLine(JsonSerializer.Serialize(new
        {
            Speaker = speaker,
            Cer = Math.Round(e.Cer, 4),
            Wer = Math.Round(e.Wer, 4),
            e.Utterances,
            Heard = recognizer.Config.TrainedOn.Contains(speaker),
            Models = recognizer.Members.Count,
            Combine = recognizer.Members.Count > 1 ? (recognizer.EnsembleVotes ? "vote" : "likelihood") : null,
            Decoding = decoding,
            Normalize = perSpeaker ? "speaker" : "utterance",
            AdaptRounds = adaptation?.Rounds ?? 0,
            Balance = adaptation?.WordCap,
            Speeds = speeds,
            RealTime = Math.Round(e.RealTimeFactor, 1),
            Characters = e.Characters,
            Words = e.Words,
        }, Json.Options));
        return 0;
    }

    /// <summary>Loads the <c>--checkpoint</c> model(s) and applies <c>--combine likelihood|vote</c> (for ensembles).</summary>
    static SpeechRecognizer LoadRecognizer(IReadOnlyList<string> dirs, string combine)
    {
        var recognizer = SpeechRecognizer.LoadEnsemble(dirs);
        recognizer.EnsembleVotes = combine == "vote";
        return recognizer;
    }

    static Command Transcribe()
    {
        var each = CliOptions.Flag("--each", "normalise every file alone (default: all the files given, as one voice)");
        var files = new Argument<string[]>("FILE.wav") { Description = "8 or 16 kHz mono 16-bit PCM WAV files", Arity = ArgumentArity.OneOrMore };
        var command = new Command("transcribe", "Transcribe WAV files, one tab-separated line each; silence and noise get an empty transcript.") { each, files };
        var d = AsrDecoder.AddTo(command);
        command.SetAction(p =>
        {
            var adaptation = d.Adaptation(p);
            if (p.GetValue(each) && adaptation is not null)
                throw new UsageException("--adapt learns one voice from all the files given; it cannot be combined with --each.");
            var speeds = d.SpeedsOf(p);
            d.ApplyThreads(p);
            return Transcribe(p.GetValue(d.Checkpoints)!, p.GetValue(d.Combine)!, d.DecodingOf(p), p.GetValue(each), adaptation, speeds, p.GetValue(files)!);
        });
        return command;
    }

    static int Transcribe(IReadOnlyList<string> dirs, string combine, CtcDecoding decoding, bool each, SpeakerAdaptationOptions? adaptation,
        IReadOnlyList<double>? speeds, IReadOnlyList<string> files)
    {
        using var recognizer = LoadRecognizer(dirs, combine);
        var (clips, failed) = ReadClips(files);
        // Silence, steady noise and clicks get an empty transcript and a warning: given them, the model would still
        // name its likeliest digits. They are left out of the voice's statistics and of adaptation too.
        foreach (var c in clips.Where(c => !c.Activity.HasSpeech))
            Console.Error.WriteLine($"rnn asr: {c.File}: no speech ({NoSpeechReason(c.Activity)}); its transcript is left empty.");
        var heard = clips.Where(c => c.Activity.HasSpeech).ToList();
        // The files are taken as one voice and normalised with statistics over all of them (with one file that is
        // per-utterance normalisation); --each normalises every file alone, e.g. for files of different speakers.
        using var speaker = !each && heard.Count > 1 ? recognizer.SpeakerStatistics(heard.Select(c => c.Clip)) : null;
        var audio = heard.Select(c => c.Clip).ToList();
        if (adaptation is not null && audio.Count > 0)   // adapts the weights in place; the transcripts come below
            SpeakerAdaptation.Adapt(recognizer, audio, speaker, adaptation, decoding, r => ReportRound(r, heard.Count));
        var transcripts = speeds is not null
            ? SpeedVoting.Transcribe(recognizer, audio, speeds, decoding, oneVoice: speaker is not null).Transcripts
            : [.. audio.Select(c => recognizer.Transcribe(c, decoding, speaker))];
        var next = 0;
        foreach (var c in clips) Console.WriteLine($"{c.File}\t{(c.Activity.HasSpeech ? transcripts[next++] : "")}");
        return failed == 0 ? 0 : 1;
    }

    static string NoSpeechReason(VoiceActivityResult activity) => activity.Reason switch
    {
        "silent" => $"silent: the loudest moment is at {activity.PeakDb:F0} dBFS",
        "steady" => $"steady noise or hum: nothing rises more than {activity.RiseDb:F1} dB above the rest",
        _ => $"too short: only {activity.LoudSeconds * 1000:F0} ms stand out, less than a word",
    };

    static void ReportRound(AdaptationRound r, int files) =>
        Console.Error.WriteLine($"rnn asr: adaptation round {r.Round}: learned from {r.Kept} of {files} files, {r.Changed} transcripts changed");

    /// <summary>Silence added before and after every file that <c>transcribe</c> and <c>adapt</c> read.</summary>
    public const double EdgeSilenceSeconds = 0.15;

    /// <summary>Reads each WAV file, with <see cref="EdgeSilenceSeconds"/> of silence added at both ends, and whether
    /// it holds speech (<see cref="VoiceActivity"/>, judged on the file as it is); a file that cannot be read or is not
    /// 8 or 16 kHz mono 16-bit PCM is reported on stderr with its name and counted, and the others are still read.</summary>
    static (List<(string File, AudioClip Clip, VoiceActivityResult Activity)> Clips, int Failed) ReadClips(IEnumerable<string> files)
    {
        var failed = 0;
        var clips = new List<(string File, AudioClip Clip, VoiceActivityResult Activity)>();
        foreach (var file in files)
        {
            try
            {
                var clip = WavFile.Read(file);
                if (clip.SampleRate is not (8000 or 16000))
                    throw new InvalidDataException(
                        $"{file}: expected 8 or 16 kHz audio, got {clip.SampleRate} Hz. Resample it first, e.g. `ffmpeg -i IN -ar 8000 -ac 1 -c:a pcm_s16le OUT.wav`.");
                // Training strings start and end with up to 150 ms of silence, and the speaker statistics count it;
                // a recording cut tight to the word (as FSDD's are) is heard far better with that margin restored
                // (theo's 500 files, unheard: 79 % right as they are, 91 % padded).
                clips.Add((file, clip.WithSilence(EdgeSilenceSeconds), VoiceActivity.Detect(clip)));
            }
            catch (Exception e) when (e is IOException or InvalidDataException or UnauthorizedAccessException)
            {
                Console.Error.WriteLine($"rnn asr: {e.Message}");
                failed++;
            }
        }
        return (clips, failed);
    }

    static Command Adapt()
    {
        var checkpoint = CliOptions.Text("--checkpoint", "the model to adapt", required: true, helpName: "DIR");
        var output = CliOptions.Text("--out", "where the adapted model goes (not the --checkpoint folder)", required: true, helpName: "DIR");
        var rounds = CliOptions.Int("--rounds", "rounds of self-training", new SpeakerAdaptationOptions().Rounds);
        var balance = BalanceOption();
        var decoding = DecodingOption();
        var threads = CliOptions.Threads();
        var force = CliOptions.Flag("--force", "replace a model already in --out");
        var files = new Argument<string[]>("FILE.wav") { Description = "recordings of the voice to adapt to", Arity = ArgumentArity.OneOrMore };
        var command = new Command("adapt", "Adapt a model to the voice of the files, no transcripts needed, and save it to --out.")
        {
            checkpoint, output, rounds, balance, decoding, threads, force, files,
        };
        command.SetAction(p =>
        {
            var (dir, outDir) = (p.GetValue(checkpoint)!, p.GetValue(output)!);
            if (p.GetValue(rounds) < 1) throw new UsageException($"--rounds {p.GetValue(rounds)}: expected 1 or more rounds of self-training, e.g. 5.");
            var cap = CheckBalance(p.GetValue(balance));
            Training.Threads.Apply(Threads(p.GetValue(threads), threads));
            if (RealPath.Same(outDir, dir))
                throw new UsageException($"--out {outDir} leads to the --checkpoint folder {RealPath.Of(dir)}: give another --out, so the unadapted model is kept as it is.");
            if (!p.GetValue(force) && (RunFolder.HasCheckpoint(outDir) || Checkpoint.Has(outDir, SpeechRecognizer.ConfigFile)))
                throw new InvalidOperationException($"{outDir} (--out) already holds a speech model. Nothing was changed. Give another --out, " +
                    "or --force to replace it with the adapted one.");
            return Adapt(dir, outDir, p.GetValue(rounds), cap, Decoding(p.GetValue(decoding)), p.GetValue(files)!);
        });
        return command;
    }

    static int Adapt(string dir, string outDir, int rounds, double? balance, CtcDecoding decoding, IReadOnlyList<string> files)
    {
        using var recognizer = SpeechRecognizer.Load(dir);
        var state = Checkpoint.Load(dir, recognizer.Model);   // the training state, saved again beside the adapted weights
        var (clips, failed) = ReadClips(files);
        if (failed > 0)
        {
            Console.Error.WriteLine($"rnn asr: {failed} file(s) unreadable; nothing adapted or saved. Adapt on readable files of one voice.");
            return 1;
        }
        var clock = Stopwatch.StartNew();
        using var speaker = recognizer.SpeakerStatistics(clips.Select(c => c.Clip));
        var result = SpeakerAdaptation.Adapt(recognizer, [.. clips.Select(c => c.Clip)], speaker,
            new SpeakerAdaptationOptions(Rounds: rounds, WordCap: balance), decoding, r => ReportRound(r, clips.Count));
        var seconds = clock.Elapsed.TotalSeconds;
        var audioSeconds = clips.Sum(c => c.Clip.Seconds) - 2 * EdgeSilenceSeconds * clips.Count;   // the files' own audio
        var notes = new Dictionary<string, string>(recognizer.Config.Notes ?? new Dictionary<string, string>())
        {
            ["adapted_from"] = Path.GetFullPath(dir),
            ["adapt_rounds"] = result.Rounds.Count.ToString(CultureInfo.InvariantCulture),
            ["adapt_files"] = clips.Count.ToString(CultureInfo.InvariantCulture),
            ["adapt_audio_seconds"] = audioSeconds.ToString("F0", CultureInfo.InvariantCulture),
        };
        recognizer.Save(outDir, null, state, notes);
        Console.WriteLine(JsonSerializer.Serialize(new
        {
            Checkpoint = Path.GetFullPath(outDir),
            AdaptedFrom = Path.GetFullPath(dir),
            Files = clips.Count,
            AudioSeconds = Math.Round(audioSeconds),
            Seconds = Math.Round(seconds, 1),
            Rounds = result.Rounds.Select(r => new { r.Round, r.Kept, r.Changed }).ToList(),
        }, Json.Options));
        return 0;
    }
}
