using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using RnnNotebooks.Audio;
using RnnNotebooks.Platform;
using RnnNotebooks.Speech;
using RnnNotebooks.Training;

namespace RnnNotebooks.Cli;

/// <summary><c>rnn asr train | eval | transcribe</c>: the lesson 05 speech recognizer from the command line.</summary>
static class AsrCommand
{
    public const string Usage =
        "rnn asr train [--data fsdd|DIR] [--exclude-speaker NAME ...] [--minutes M] [--epochs N] [--strings N] [--seed S] [--threads N] [--out DIR]\n" +
        "              [--ensemble N (train N models, seeds S … S+N-1, each with --minutes and --epochs, into DIR/model-1 …; scored together)]\n" +
        "              [--hidden N] [--layers N] [--subsampling 2|4|1] [--dropout X] [--lr X] [--mels 40]\n" +
        "              [--resume (continue the model in --out whatever its options) | --force (start over, replacing it)]\n" +
        "         (a model in --out trained with the same options is continued; one with other options is left alone)\n" +
        "       rnn asr eval --checkpoint DIR [--checkpoint DIR2 ...] [--combine likelihood|vote] --speaker NAME [--data fsdd|DIR] [--strings N] [--decoding greedy|beam|lexicon] [--normalize speaker|utterance]\n" +
        "                    [--adapt ROUNDS (self-train on the speaker's own audio first, no transcripts; e.g. 5)]\n" +
        "                    [--balance CAP (with --adapt: pick the pseudo-labels class-balanced, no word above CAP times its even share; e.g. 1.25)]\n" +
        "                    [--vote (recognise at nine speeds, 0.8-1.2, and keep the transcript most agree on) | --speeds 0.9,1,1.1]\n" +
        "       rnn asr transcribe --checkpoint DIR [--checkpoint DIR2 ...] [--combine likelihood|vote] [--decoding greedy|beam|lexicon] [--each | --adapt ROUNDS] [--vote | --speeds LIST] FILE.wav [FILE.wav ...]\n" +
        "         (several --checkpoint, or a directory of `train --ensemble N`: each model proposes a transcript, and the one with the\n" +
        "          highest summed CTC likelihood wins; --combine vote: the one most models proposed, likelihood breaking ties)\n" +
        "         (transcribe normalises the features over all the files given, as one voice; --each normalises every file alone;\n" +
        "          --adapt also fine-tunes the model on the files' own transcripts before the final pass)\n" +
        "       rnn asr adapt --checkpoint DIR --out DIR2 [--rounds 5] [--balance CAP] [--decoding greedy|beam|lexicon] [--force] FILE.wav [FILE.wav ...]\n" +
        "         (adapts the model to the voice of the files, no transcripts needed, and saves it to DIR2: transcribe that\n" +
        "          voice's further recordings with --checkpoint DIR2 at the unadapted model's speed)";

    static readonly HashSet<string> NoFlags = [];

    public static int Run(string[] argv)
    {
        if (argv.Length == 0) throw new UsageException("say what to do: train, eval, transcribe or adapt.");
        var rest = argv[1..];
        return argv[0] switch
        {
            "train" => Train(new CliArgs(rest, new HashSet<string> { "force", "resume" }, new HashSet<string> { "ensemble", "data", "exclude-speaker", "minutes", "epochs", "strings", "seed", "threads", "out", "hidden", "layers", "subsampling", "dropout", "lr", "mels" })),
            "eval" => Eval(new CliArgs(rest, new HashSet<string> { "vote" }, new HashSet<string> { "combine", "checkpoint", "speaker", "data", "strings", "decoding", "threads", "normalize", "adapt", "speeds", "balance" })),
            "adapt" => Adapt(new CliArgs(rest, new HashSet<string> { "force" }, new HashSet<string> { "checkpoint", "out", "rounds", "decoding", "threads", "balance" })),
            "transcribe" => Transcribe(new CliArgs(rest, new HashSet<string> { "each", "vote" }, new HashSet<string> { "combine", "checkpoint", "decoding", "threads", "adapt", "speeds", "balance" })),
            _ => throw new UsageException($"unknown asr command '{argv[0]}'."),
        };
    }

    static IReadOnlyList<DigitRecording> Recordings(string? data) =>
        data is null or "fsdd" ? SpokenDigits.List() : SpokenDigits.List(data);

    static CtcDecoding Decoding(CliArgs args) => args.Option("decoding") switch
    {
        null or "lexicon" => CtcDecoding.Lexicon,
        "greedy" => CtcDecoding.Greedy,
        "beam" => CtcDecoding.Beam,
        var other => throw new UsageException($"--decoding {other}: expected greedy, beam or lexicon."),
    };

    /// <summary><c>--adapt ROUNDS</c> (with <c>--balance CAP</c>): null when absent or 0.</summary>
    static SpeakerAdaptationOptions? Adaptation(CliArgs args)
    {
        var rounds = args.Int("adapt", 0);
        if (rounds < 0) throw new UsageException($"--adapt {rounds}: expected a number of self-training rounds, e.g. 5, or 0 for none.");
        var balance = Balance(args);
        if (rounds == 0 && balance is not null)
            throw new UsageException("--balance chooses the pseudo-labels of adaptation; give --adapt ROUNDS too.");
        return rounds == 0 ? null : new SpeakerAdaptationOptions(Rounds: rounds, WordCap: balance);
    }

    /// <summary><c>--balance CAP</c>: null when absent.</summary>
    static double? Balance(CliArgs args)
    {
        if (args.Option("balance") is null) return null;
        var cap = args.Double("balance", 0);
        if (!(cap >= 1) || double.IsInfinity(cap))
            throw new UsageException($"--balance {cap}: expected a cap of at least 1 (times a word's even share of the pseudo-labels), e.g. 1.25.");
        return cap;
    }

    /// <summary><c>--vote</c> (the default nine speeds) or <c>--speeds LIST</c> (comma-separated factors): null when
    /// neither is given.</summary>
    static IReadOnlyList<double>? Speeds(CliArgs args)
    {
        var list = args.Option("speeds");
        if (list is null) return args.Flag("vote") ? SpeedVoting.DefaultFactors : null;
        var factors = new List<double>();
        foreach (var part in list.Split(',', StringSplitOptions.TrimEntries))
            factors.Add(double.TryParse(part, NumberStyles.Float, CultureInfo.InvariantCulture, out var f) ? f
                : throw new UsageException($"--speeds {list}: '{part}' is not a number; give speed factors separated by commas, e.g. 0.9,1,1.1."));
        try { SpeedVoting.ValidateFactors(factors, "--speeds"); }
        catch (ArgumentException e) { throw new UsageException(e.Message.Split(" (Parameter")[0]); }
        return factors;
    }

    static void ApplyThreads(CliArgs args)
    {
        var threads = args.Int("threads", 0);
        if (threads < 0) throw new UsageException("--threads must be positive.");
        Threads.Apply(threads > 0 ? threads : null);
    }

    static int Train(CliArgs args)
    {
        var recordings = Recordings(args.Option("data"));
        var excluded = args.Options("exclude-speaker").ToHashSet(StringComparer.Ordinal);
        var minutes = args.Double("minutes", 10);
        var epochs = args.Int("epochs", 1000);
        var ensemble = args.Int("ensemble", 1);
        if (ensemble < 1) throw new UsageException($"--ensemble {ensemble}: expected a number of models, 1 or more (e.g. 3).");
        var strings = args.Int("strings", 800);
        var seed = args.Int("seed", 0);
        var outDir = args.Option("out") ?? Path.Combine("artifacts", "asr");
        var hidden = args.Int("hidden", 128);
        var layers = args.Int("layers", 2);
        // 2 by default. 4 costs about a third as much per update and matched 2 on the four development speakers, but
        // scored the unheard george worse with three seeds of three (docs/experiments/05-speech-recognition.md, "Training: subsampling, speed, epochs").
        var subsampling = args.Int("subsampling", new AcousticModelOptions().Subsampling);
        if (subsampling is not (1 or 2 or 4))
            throw new UsageException($"--subsampling {subsampling}: expected 1, 2 or 4 (input frames per output frame).");
        var lr = args.Double("lr", 2e-3);
        var dropout = args.Double("dropout", new AcousticModelOptions().Dropout);
        if (dropout is < 0 or >= 1) throw new UsageException($"--dropout {dropout}: expected a fraction in [0, 1).");
        if (!(minutes > 0) || epochs < 1 || strings < 1 || hidden < 1 || layers < 1 || !(lr > 0))
            throw new UsageException("--minutes, --epochs, --strings, --hidden, --layers and --lr must be positive.");
        var mels = args.Int("mels", new FeatureOptions().NMels);
        if (mels < 1) throw new UsageException($"--mels {mels}: expected a number of mel filters, e.g. 40.");
        var existing = args.Existing();
        // The notebook's features and augmentation: 13 MFCCs (on unheard speakers they beat the 40 log-mel features,
        // since the truncated cepstrum drops the training voices' pitch) and speed perturbation by up to ±30 %.
        var mfcc = Math.Min(13, mels);
        const double speed = 0.3;
        ApplyThreads(args);
        args.EnsureAllUsed();
        if (args.Positionals.Count > 0) throw new UsageException($"unexpected argument '{args.Positionals[0]}'.");

        var speakers = recordings.Select(r => r.Speaker).Distinct().Order(StringComparer.Ordinal).ToList();
        var unknown = excluded.Where(s => !speakers.Contains(s)).ToList();
        if (unknown.Count > 0)
            throw new ArgumentException($"--exclude-speaker {string.Join(", ", unknown)}: no such speaker. Speakers: {string.Join(", ", speakers)}.");
        var trainSpeakers = speakers.Where(s => !excluded.Contains(s)).ToList();
        if (trainSpeakers.Count == 0) throw new ArgumentException("Every speaker is excluded; nothing to train on.");

        AsrTrainingOptions Options(int seed) => new(StringsPerEpoch: strings, Epochs: epochs, Seed: seed, LearningRate: lr,
            TimeBudget: TimeSpan.FromMinutes(minutes),
            // Frequency masks cover the same share of the features (up to 6 of 40) whatever their number.
            SpecAugment: new SpecAugmentOptions() with
            {
                MaxFrequencyWidth = Math.Max(1, (int)Math.Round(6.0 * mfcc / 40)),
            },
            Features: new FeatureOptions(NMels: mels, Mfcc: mfcc),
            Strings: DigitStringOptions.Augmented with { SpeedPerturbation = speed },
            Model: new AcousticModelOptions(HiddenSize: hidden, NumLayers: layers, Subsampling: subsampling, Dropout: dropout),
            Speakers: trainSpeakers);
        // An ensemble: the same recipe with seeds S, S+1, …, each in its own directory, then scored together.
        var dirs = ensemble == 1 ? [outDir] : Enumerable.Range(1, ensemble).Select(k => Path.Combine(outDir, $"model-{k}")).ToList();
        // Every model's folder is judged before any trains, so a refusal leaves all of them as they were.
        for (var k = 0; k < ensemble; k++) AsrTraining.Open(dirs[k], Options(seed + k), existing);

        using var ctrlC = new CtrlC();
        var members = new List<object>();
        TrainingState? last = null;
        for (var k = 0; k < ensemble; k++)
        {
            if (ensemble > 1)
            {
                // Each model starts from the memory the first started from: everything of the one before is disposed
                // (TrainOne), collected and its heap pages handed back, so the ensemble's peak is one model's.
                var live = MemoryFloor();
                Console.Error.WriteLine($"asr train: model {k + 1} of {ensemble} starts with {live} live tensors, " +
                    $"rss {NativeHeap.ResidentBytes() / 1e6:F0} MB");
            }
            if (TrainOne(seed + k, dirs[k], ensemble == 1 ? "" : $"model {k + 1} of {ensemble}, ") is { } member) members.Add(member);
            else return TranslateCommand.Stopped(last!, dirs[k]);   // Ctrl-C: the best model so far is saved
        }
        if (ensemble == 1) Console.WriteLine(JsonSerializer.Serialize(members[0], Json.Options));
        else
        {
            using var all = SpeechRecognizer.LoadEnsemble(dirs);
            var official = AsrTraining.Evaluate(all, AsrTraining.OfficialTestStrings(recordings, trainSpeakers));
            var heldOut = excluded.Order(StringComparer.Ordinal)
                .ToDictionary(s => s, s => AsrTraining.Evaluate(all, AsrTraining.SpeakerTestStrings(recordings, s)));
            Console.WriteLine(JsonSerializer.Serialize(new
            {
                Checkpoint = Path.GetFullPath(outDir),
                Models = members,
                Ensemble = new { OfficialTest = Summary(official), HeldOut = heldOut.ToDictionary(kv => kv.Key, kv => Summary(kv.Value)) },
            }, Json.Options));
        }
        return 0;

        object? TrainOne(int seed, string outDir, string which)
        {
            var options = Options(seed);
            Console.Error.WriteLine($"asr train: {which}seed {seed}, speakers {string.Join(", ", trainSpeakers)}; held out: " +
                $"{(excluded.Count > 0 ? string.Join(", ", excluded) : "none")}; budget {minutes} min; {Threads.Current} thread(s)");
            var clock = Stopwatch.StartNew();
            // Every new best is saved at once (a note that the run is unfinished), so a run that dies later, or is
            // stopped with Ctrl-C, still leaves a model that `rnn asr eval` and `transcribe` can use, and resumes.
            Dictionary<string, string> Notes(string status) => new()
            {
                ["status"] = status,
                ["seed"] = seed.ToString(CultureInfo.InvariantCulture),
                ["held_out"] = string.Join(",", excluded.Order(StringComparer.Ordinal)),
                ["hidden"] = hidden.ToString(CultureInfo.InvariantCulture),
                ["layers"] = layers.ToString(CultureInfo.InvariantCulture),
                ["subsampling"] = subsampling.ToString(CultureInfo.InvariantCulture),
                ["lr"] = lr.ToString(CultureInfo.InvariantCulture),
                ["speed"] = speed.ToString(CultureInfo.InvariantCulture),
                ["dropout"] = dropout.ToString(CultureInfo.InvariantCulture),
                ["mels"] = mels.ToString(CultureInfo.InvariantCulture),
                ["mfcc"] = mfcc.ToString(CultureInfo.InvariantCulture),
            };
            var result = AsrTraining.Train(recordings, trainSpeakers, options, outDir, existing,
                s => Notes($"unfinished: the best weights so far, saved during training after epoch {s.Epoch}"),
                m => Console.Error.WriteLine($"  {m}"),
                p => Console.Error.WriteLine($"  epoch {p.Epoch} step {p.Step} loss {p.Loss:F3}" +
                    (p.Metrics.TryGetValue("val_cer", out var v) ? $" val_cer {v:P1}" : "") +
                    $" {p.Elapsed:mm\\:ss} rss {NativeHeap.ResidentBytes() / 1e6:F0} MB"),
                ctrlC.Token);
            var state = last = result.State;
            if (state.History.StopReason == StopReason.Cancelled)
            {
                result.Recognizer.Dispose();
                result.Optimizer.Dispose();
                return null;
            }
            var trainSeconds = clock.Elapsed.TotalSeconds;
            var bestEpoch = state.History.Epochs
                .Select((e, i) => (Epoch: i + 1, ValCer: e.Metrics.TryGetValue("val_cer", out var v) ? v : double.NaN))
                .Where(x => !double.IsNaN(x.ValCer)).OrderBy(x => x.ValCer).ThenBy(x => x.Epoch)
                .Select(x => ((int Epoch, double ValCer)?)x).FirstOrDefault();
            using var recognizer = result.Recognizer;
            using (result.Optimizer)
            {
                var official = AsrTraining.Evaluate(recognizer, AsrTraining.OfficialTestStrings(recordings, trainSpeakers));
                var heldOut = excluded.Order(StringComparer.Ordinal)
                    .ToDictionary(s => s, s => AsrTraining.Evaluate(recognizer, AsrTraining.SpeakerTestStrings(recordings, s)));
                var notes = Notes("complete");
                notes["train_seconds"] = trainSeconds.ToString("F0", CultureInfo.InvariantCulture);
                notes["steps"] = state.Step.ToString(CultureInfo.InvariantCulture);
                notes["official_test_cer"] = official.Cer.ToString("F4", CultureInfo.InvariantCulture);
                if (bestEpoch is { } kept)
                {
                    notes["kept_epoch"] = kept.Epoch.ToString(CultureInfo.InvariantCulture);
                    notes["val_cer"] = kept.ValCer.ToString("F4", CultureInfo.InvariantCulture);
                }
                foreach (var (speaker, e) in heldOut) notes[$"cer_{speaker}"] = e.Cer.ToString("F4", CultureInfo.InvariantCulture);
                // The folder holds the model evaluated here (the run's best); only its notes are brought up to date.
                recognizer.SaveNotes(outDir, notes);
                return new
                {
                    Checkpoint = Path.GetFullPath(outDir),
                    Resumed = result.Resumed,
                    TrainSeconds = Math.Round(trainSeconds),
                    Steps = state.Step,
                    Epochs = state.Epoch,
                    Stop = state.History.StopMessage,
                    KeptEpoch = bestEpoch?.Epoch,
                    ValCer = bestEpoch is { } b ? Math.Round(b.ValCer, 4) : (double?)null,
                    OfficialTest = Summary(official),
                    HeldOut = heldOut.ToDictionary(kv => kv.Key, kv => Summary(kv.Value)),
                };
            }
        }
    }

    /// <summary>The number of tensors not disposed (what a model left behind: the garbage collector would free its
    /// memory only when it happens to run, as it cannot see native memory); then collects whatever is unreachable
    /// anyway and hands the C heap's free pages back.</summary>
    static long MemoryFloor()
    {
        var live = TorchSharp.torch.Tensor.TotalCount;
        GC.Collect();
        GC.WaitForPendingFinalizers();
        NativeHeap.Trim();
        return live;
    }

    static object Summary(AsrEvaluation e) => new
    {
        Cer = Math.Round(e.Cer, 4),
        Wer = Math.Round(e.Wer, 4),
        e.Utterances,
        RealTime = Math.Round(e.RealTimeFactor, 1),
        Examples = e.Examples.Select(x => new { x.Reference, x.Hypothesis }).ToList(),
    };

    static int Eval(CliArgs args)
    {
        var dirs = Checkpoints(args);
        var combine = args.Option("combine");
        var speaker = args.Required("speaker");
        var recordings = Recordings(args.Option("data"));
        var count = args.Int("strings", 200);
        if (count < 1) throw new UsageException("--strings must be positive.");
        var decoding = Decoding(args);
        var perSpeaker = args.Option("normalize") switch
        {
            null or "speaker" => true,
            "utterance" => false,
            var other => throw new UsageException($"--normalize {other}: expected speaker or utterance."),
        };
        var adaptation = Adaptation(args);
        var speeds = Speeds(args);
        ApplyThreads(args);
        args.EnsureAllUsed();
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

    /// <summary>The <c>--checkpoint</c> directories: one model, or several (repeated, or a directory of
    /// <c>rnn asr train --ensemble</c>) whose posteriors are averaged.</summary>
    static IReadOnlyList<string> Checkpoints(CliArgs args)
    {
        var dirs = args.Options("checkpoint");
        return dirs.Count > 0 ? dirs : throw new UsageException("--checkpoint is required.");
    }

    /// <summary>Loads the <c>--checkpoint</c> model(s) and applies <c>--combine likelihood|vote</c> (for ensembles).</summary>
    static SpeechRecognizer LoadRecognizer(IReadOnlyList<string> dirs, string? combine)
    {
        var votes = combine switch
        {
            null or "likelihood" => false,
            "vote" => true,
            var other => throw new UsageException($"--combine {other}: expected likelihood or vote."),
        };
        var recognizer = SpeechRecognizer.LoadEnsemble(dirs);
        recognizer.EnsembleVotes = votes;
        return recognizer;
    }

    static int Transcribe(CliArgs args)
    {
        var dirs = Checkpoints(args);
        var combine = args.Option("combine");
        var decoding = Decoding(args);
        var each = args.Flag("each");
        var adaptation = Adaptation(args);
        var speeds = Speeds(args);
        if (each && adaptation is not null)
            throw new UsageException("--adapt learns one voice from all the files given; it cannot be combined with --each.");
        ApplyThreads(args);
        args.EnsureAllUsed();
        if (args.Positionals.Count == 0) throw new UsageException("name one or more WAV files.");
        using var recognizer = LoadRecognizer(dirs, combine);
        var (clips, failed) = ReadClips(args.Positionals);
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

    static int Adapt(CliArgs args)
    {
        var dir = args.Required("checkpoint");
        var outDir = args.Required("out");
        var rounds = args.Int("rounds", new SpeakerAdaptationOptions().Rounds);
        if (rounds < 1) throw new UsageException($"--rounds {rounds}: expected 1 or more rounds of self-training, e.g. 5.");
        var balance = Balance(args);
        var decoding = Decoding(args);
        var force = args.Flag("force");
        ApplyThreads(args);
        args.EnsureAllUsed();
        if (args.Positionals.Count == 0) throw new UsageException("name the WAV files of the voice to adapt to.");
        if (RealPath.Same(outDir, dir))
            throw new UsageException($"--out {outDir} leads to the --checkpoint folder {RealPath.Of(dir)}: give another --out, so the unadapted model is kept as it is.");
        if (!force && (RunFolder.HasCheckpoint(outDir) || File.Exists(Path.Combine(outDir, SpeechRecognizer.ConfigFile))))
            throw new InvalidOperationException($"{outDir} (--out) already holds a speech model. Nothing was changed. Give another --out, " +
                "or --force to replace it with the adapted one.");
        using var recognizer = SpeechRecognizer.Load(dir);
        var state = Checkpoint.Load(dir, recognizer.Model);   // the training state, saved again beside the adapted weights
        var (clips, failed) = ReadClips(args.Positionals);
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
