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
        "              [--hidden N] [--layers N] [--subsampling 2|4|1] [--dropout X] [--lr X] [--speed X] [--tilt X] [--mix-speakers P] [--adversary λ] [--mels 40] [--mfcc 13 | --mfcc 0 (log-mel)]\n" +
        "              [--average D (keep a moving average of the weights, decay D per update, e.g. 0.998; 0 = off)]\n" +
        "              [--average-best N (end with the mean weights of the N epochs with the lowest validation CER; 1 = the best epoch)]\n" +
        "              [--decay F (the last fraction F of the updates lowers the learning rate to zero along a cosine; 0 = off)]\n" +
        "              [--cycles C (the learning rate restarts: C cosine cycles over the epochs, no plateau cuts; with --save-epochs, a snapshot ensemble)]\n" +
        "              [--save-epochs (also save the weights of every epoch, with its validation CER, to DIR/epochs/NN)]\n" +
        "              [--normalize utterance|speaker (train on features normalised per utterance, the default, or per speaker)]\n" +
        "              [--mask-mel (SpecAugment's frequency masks hide bands of mel filters before the DCT instead of cepstral coefficients)]\n" +
        "              [--freq-conv BANDS (2-D convolutions over the log-mel of BANDS bands rebuilt from the cepstra, before the 1-D ones)]\n" +
        "       rnn asr eval --checkpoint DIR [--checkpoint DIR2 ...] [--combine likelihood|vote|average] --speaker NAME [--data fsdd|DIR] [--strings N] [--decoding greedy|beam|lexicon] [--normalize speaker|utterance]\n" +
        "                    [--adapt ROUNDS (self-train on the speaker's own audio first, no transcripts; e.g. 5)]\n" +
        "                    [--balance CAP (with --adapt: pick the pseudo-labels class-balanced, no word above CAP times its even share; e.g. 1.25)]\n" +
        "                    [--new-recordings (with --adapt: adapt on strings of the speaker's recordings 0-24, score strings of 25-49)]\n" +
        "                    [--vote (recognise at nine speeds, 0.8-1.2, and keep the transcript most agree on) | --speeds 0.9,1,1.1]\n" +
        "       rnn asr transcribe --checkpoint DIR [--checkpoint DIR2 ...] [--combine likelihood|vote|average] [--decoding greedy|beam|lexicon] [--each | --adapt ROUNDS] [--vote | --speeds LIST] FILE.wav [FILE.wav ...]\n" +
        "         (several --checkpoint, or a directory of `train --ensemble N`: each model proposes a transcript, and the one with the\n" +
        "          highest summed CTC likelihood wins; --combine vote: the one most models proposed, likelihood breaking ties;\n" +
        "          --combine average: one model with the checkpoints' mean weights, for epochs of one run, see `asr average`)\n" +
        "         (transcribe normalises the features over all the files given, as one voice; --each normalises every file alone;\n" +
        "          --adapt also fine-tunes the model on the files' own transcripts before the final pass)\n" +
        "       rnn asr average --checkpoint DIR [--checkpoint DIR2 ...] [--best N] --out DIR3\n" +
        "         (one model whose weights are the mean of checkpoints of one run, e.g. `--checkpoint DIR/epochs --best 5`: the five\n" +
        "          epochs with the lowest validation CER saved by `train --save-epochs`)\n" +
        "       rnn asr adapt --checkpoint DIR --out DIR2 [--rounds 5] [--balance CAP] [--decoding greedy|beam|lexicon] FILE.wav [FILE.wav ...]\n" +
        "         (adapts the model to the voice of the files, no transcripts needed, and saves it to DIR2: transcribe that\n" +
        "          voice's further recordings with --checkpoint DIR2 at the unadapted model's speed)";

    static readonly HashSet<string> NoFlags = [];

    public static int Run(string[] argv)
    {
        if (argv.Length == 0) throw new UsageException("say what to do: train, eval, transcribe, average or adapt.");
        var rest = argv[1..];
        return argv[0] switch
        {
            "train" => Train(new CliArgs(rest, new HashSet<string> { "save-epochs", "mask-mel" }, new HashSet<string> { "ensemble", "data", "exclude-speaker", "minutes", "epochs", "strings", "seed", "threads", "out", "hidden", "layers", "subsampling", "dropout", "lr", "speed", "tilt", "mix-speakers", "adversary", "mels", "mfcc", "average", "average-best", "decay", "normalize", "freq-conv", "cycles" })),
            "eval" => Eval(new CliArgs(rest, new HashSet<string> { "new-recordings", "vote" }, new HashSet<string> { "combine", "checkpoint", "speaker", "data", "strings", "decoding", "threads", "normalize", "adapt", "speeds", "balance" })),
            "adapt" => Adapt(new CliArgs(rest, NoFlags, new HashSet<string> { "checkpoint", "out", "rounds", "decoding", "threads", "balance" })),
            "average" => Average(new CliArgs(rest, NoFlags, new HashSet<string> { "checkpoint", "out", "best" })),
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
        var speed = args.Double("speed", 0.3);   // ±30 %: the recipe of every MFCC run (docs/experiments/05-speech-recognition.md)
        if (!(minutes > 0) || epochs < 1 || strings < 1 || hidden < 1 || layers < 1 || !(lr > 0))
            throw new UsageException("--minutes, --epochs, --strings, --hidden, --layers and --lr must be positive.");
        if (speed is < 0 or >= 0.5) throw new UsageException($"--speed {speed}: expected a fraction in [0, 0.5), e.g. 0.1 for ±10 %.");
        var tilt = args.Double("tilt", DigitStringOptions.Augmented.Tilt);
        if (tilt is < 0 or >= 1) throw new UsageException($"--tilt {tilt}: expected a filter coefficient in [0, 1), e.g. 0.7 for up to ±15 dB.");
        var mix = args.Double("mix-speakers", DigitStringOptions.Augmented.MixSpeakers);
        if (mix is < 0 or > 1 or double.NaN) throw new UsageException($"--mix-speakers {mix}: expected a probability in [0, 1], e.g. 0.5 for half the strings.");
        var adversaryScale = args.Double("adversary", new AsrTrainingOptions().SpeakerAdversary);
        if (adversaryScale is < 0 or double.NaN or double.PositiveInfinity)
            throw new UsageException($"--adversary {adversaryScale}: expected λ, the scale of the reversed speaker gradient, e.g. 1, or 0 for none.");
        if (adversaryScale > 0 && mix > 0) throw new UsageException("--adversary labels every string with its speaker and --mix-speakers mixes voices within strings: use one or the other.");
        var mels = args.Int("mels", new FeatureOptions().NMels);
        // 13 MFCCs by default: on unheard speakers they beat the 40 log-mel features (held-out george 16.9 against
        // 26.5 % CER with everything else equal; docs/experiments/05-speech-recognition.md, "Features and normalisation"), since the truncated cepstrum drops the
        // training voices' pitch.
        var mfcc = args.Int("mfcc", Math.Min(13, mels));
        if (mels < 1) throw new UsageException($"--mels {mels}: expected a number of mel filters, e.g. 40.");
        var speakerNorm = args.Option("normalize") switch
        {
            null or "utterance" => false,
            "speaker" => true,
            var other => throw new UsageException($"--normalize {other}: expected utterance or speaker."),
        };
        var average = args.Double("average", 0);
        if (average is < 0 or >= 1) throw new UsageException($"--average {average}: expected a decay in [0, 1), e.g. 0.998, or 0 for none.");
        if (speakerNorm && mix > 0) throw new UsageException("--mix-speakers builds strings of several voices, which --normalize speaker cannot normalise by one speaker's statistics: use one or the other.");
        if (mfcc < 0 || mfcc > mels)
            throw new UsageException($"--mfcc {mfcc}: expected 0 (log-mel features) or a number of cepstral coefficients up to --mels ({mels}), e.g. 13.");
        // --freq-conv BANDS: a 2-D convolutional front end over the log-mel spectrum smoothed back from the cepstra
        // (AcousticModelOptions.FrequencyBands). An experiment; off by default.
        var freqBands = args.Int("freq-conv", 0);
        if (freqBands != 0 && (mfcc == 0 || freqBands < mfcc || freqBands < 4))
            throw new UsageException($"--freq-conv {freqBands}: expected the number of bands to rebuild from the cepstral coefficients, " +
                $"at least --mfcc ({mfcc}) and 4, e.g. {mels} (--mels); it needs --mfcc above 0.");
        var saveEpochs = args.Flag("save-epochs");
        // --mask-mel: SpecAugment's frequency masks hide bands of mel filters before the DCT (up to 6 of 40) instead of
        // cepstral coefficients. Tried on the development voices and not adopted (README, "Wider speed perturbation and
        // masks on mel bands"); off by default.
        var maskMel = args.Flag("mask-mel");
        var decay = args.Double("decay", new AsrTrainingOptions().DecayFraction);
        if (decay is < 0 or > 1) throw new UsageException($"--decay {decay}: expected a fraction of the updates in [0, 1], e.g. 0.3, or 0 for none.");
        var cycles = args.Int("cycles", new AsrTrainingOptions().Cycles);
        if (cycles < 0) throw new UsageException($"--cycles {cycles}: expected a number of learning-rate cycles, e.g. 3, or 0 for none.");
        if (cycles > 0 && decay > 0) throw new UsageException("--cycles and --decay both set the learning rate: give one of them.");
        if (cycles > 0 && args.Option("epochs") is null)
            throw new UsageException($"--cycles {cycles} splits the planned epochs into cycles: give --epochs too (e.g. --epochs 30 --cycles 3).");
        if (cycles > epochs) throw new UsageException($"--cycles {cycles}: at most one cycle per epoch (--epochs {epochs}).");
        var averageBest = args.Int("average-best", new AsrTrainingOptions().AverageBest);
        if (averageBest < 1) throw new UsageException($"--average-best {averageBest}: expected how many of the best epochs to average, 1 or more (1 = the best alone).");
        ApplyThreads(args);
        args.EnsureAllUsed();
        if (args.Positionals.Count > 0) throw new UsageException($"unexpected argument '{args.Positionals[0]}'.");

        var speakers = recordings.Select(r => r.Speaker).Distinct().Order(StringComparer.Ordinal).ToList();
        var unknown = excluded.Where(s => !speakers.Contains(s)).ToList();
        if (unknown.Count > 0)
            throw new ArgumentException($"--exclude-speaker {string.Join(", ", unknown)}: no such speaker. Speakers: {string.Join(", ", speakers)}.");
        var trainSpeakers = speakers.Where(s => !excluded.Contains(s)).ToList();
        if (trainSpeakers.Count == 0) throw new ArgumentException("Every speaker is excluded; nothing to train on.");

        if (ensemble == 1)
        {
            Console.WriteLine(JsonSerializer.Serialize(TrainOne(seed, outDir, ""), Json.Options));
            return 0;
        }
        // An ensemble: the same recipe with seeds S, S+1, …, each in its own directory, then scored together.
        var dirs = Enumerable.Range(1, ensemble).Select(k => Path.Combine(outDir, $"model-{k}")).ToList();
        var members = new List<object>();
        for (var k = 0; k < ensemble; k++) members.Add(TrainOne(seed + k, dirs[k], $"model {k + 1} of {ensemble}, "));
        using (var all = SpeechRecognizer.LoadEnsemble(dirs))
        {
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

        object TrainOne(int seed, string outDir, string which)
        {
            var options = new AsrTrainingOptions(StringsPerEpoch: strings, Epochs: epochs, Seed: seed, LearningRate: lr,
                TimeBudget: TimeSpan.FromMinutes(minutes),
                // Frequency masks cover the same share of the features (up to 6 of 40) whatever their number.
                SpecAugment: new SpecAugmentOptions() with
                {
                    MaxFrequencyWidth = Math.Max(1, (int)Math.Round(6.0 * (mfcc > 0 && !maskMel ? mfcc : mels) / 40)),
                    MelBands = maskMel,
                },
                Features: new FeatureOptions(NMels: mels, Mfcc: mfcc),
                Strings: DigitStringOptions.Augmented with { SpeedPerturbation = speed, Tilt = tilt, MixSpeakers = mix },
                Model: new AcousticModelOptions(HiddenSize: hidden, NumLayers: layers, Subsampling: subsampling, Dropout: dropout,
                    FrequencyBands: freqBands),
                WeightAverageDecay: average,
                SpeakerNormalization: speakerNorm,
                AverageBest: averageBest,
                DecayFraction: decay,
                SpeakerAdversary: adversaryScale,
                Cycles: cycles);
            Console.Error.WriteLine($"asr train: {which}seed {seed}, speakers {string.Join(", ", trainSpeakers)}; held out: " +
                $"{(excluded.Count > 0 ? string.Join(", ", excluded) : "none")}; budget {minutes} min; {Threads.Current} thread(s)");
            var clock = Stopwatch.StartNew();
            // Every new best is saved at once (no optimizer, a note that the run is unfinished), so a run that dies
            // later, or is stopped with Ctrl+C, still leaves a model that `rnn asr eval` and `transcribe` can use.
            // The end of the run replaces it with the full checkpoint.
            void SaveBest(SpeechRecognizer best, int epoch, double valCer)
            {
                best.Save(outDir, null, TrainingState.Start(new TrainerOptions(epochs)), new Dictionary<string, string>
                {
                    ["status"] = $"unfinished: the best weights so far, saved during training after epoch {epoch}",
                    ["seed"] = seed.ToString(CultureInfo.InvariantCulture),
                    ["held_out"] = string.Join(",", excluded.Order(StringComparer.Ordinal)),
                    ["kept_epoch"] = epoch.ToString(CultureInfo.InvariantCulture),
                    ["val_cer"] = valCer.ToString("F4", CultureInfo.InvariantCulture),
                });
                Console.Error.WriteLine($"  saved the best model so far (epoch {epoch}, val_cer {valCer:P1}) to {outDir}");
            }
            // --save-epochs: every epoch's weights, e.g. to average several of them afterwards (rnn asr average).
            void SaveEpoch(SpeechRecognizer now, int epoch, double valCer) =>
                now.Save(Path.Combine(outDir, "epochs", epoch.ToString("D2", CultureInfo.InvariantCulture)), null,
                    TrainingState.Start(new TrainerOptions(epochs)), new Dictionary<string, string>
                    {
                        ["status"] = $"the weights after epoch {epoch}",
                        ["seed"] = seed.ToString(CultureInfo.InvariantCulture),
                        ["held_out"] = string.Join(",", excluded.Order(StringComparer.Ordinal)),
                        ["epoch"] = epoch.ToString(CultureInfo.InvariantCulture),
                        ["val_cer"] = valCer.ToString("F4", CultureInfo.InvariantCulture),
                    });
            var (recognizer, state, optimizer) = AsrTraining.Train(recordings, trainSpeakers, options, p =>
                Console.Error.WriteLine($"  epoch {p.Epoch} step {p.Step} loss {p.Loss:F3}" +
                    (p.Metrics.TryGetValue("val_cer", out var v) ? $" val_cer {v:P1}" : "") +
                    (p.Metrics.TryGetValue("speaker_acc", out var a) ? $" speaker_acc {a:P0}" : "") +
                    $" {p.Elapsed:mm\\:ss} rss {NativeHeap.ResidentBytes() / 1e6:F0} MB"),
                newBest: SaveBest, validated: saveEpochs ? SaveEpoch : null);
            var trainSeconds = clock.Elapsed.TotalSeconds;
            var ranked = state.History.Epochs
                .Select((e, i) => (Epoch: i + 1, ValCer: e.Metrics.TryGetValue("val_cer", out var v) ? v : double.NaN))
                .Where(x => !double.IsNaN(x.ValCer)).OrderBy(x => x.ValCer).ThenBy(x => x.Epoch).ToList();
            var bestEpoch = ranked.Select(x => ((int Epoch, double ValCer)?)x).FirstOrDefault();
            // With --average-best N the model is the mean of these epochs' weights (the same rule as BestWeights.RestoreAverage).
            var averagedEpochs = averageBest > 1 ? ranked.Take(averageBest).Select(x => x.Epoch).Order().ToList() : null;
            using (recognizer)
            {
                var official = AsrTraining.Evaluate(recognizer, AsrTraining.OfficialTestStrings(recordings, trainSpeakers));
                var heldOut = excluded.Order(StringComparer.Ordinal)
                    .ToDictionary(s => s, s => AsrTraining.Evaluate(recognizer, AsrTraining.SpeakerTestStrings(recordings, s)));
                var notes = new Dictionary<string, string>
                {
                    ["status"] = "complete",
                    ["seed"] = seed.ToString(CultureInfo.InvariantCulture),
                    ["held_out"] = string.Join(",", excluded.Order(StringComparer.Ordinal)),
                    ["train_seconds"] = trainSeconds.ToString("F0", CultureInfo.InvariantCulture),
                    ["steps"] = state.Step.ToString(CultureInfo.InvariantCulture),
                    ["official_test_cer"] = official.Cer.ToString("F4", CultureInfo.InvariantCulture),
                    ["hidden"] = hidden.ToString(CultureInfo.InvariantCulture),
                    ["layers"] = layers.ToString(CultureInfo.InvariantCulture),
                    ["subsampling"] = subsampling.ToString(CultureInfo.InvariantCulture),
                    ["lr"] = lr.ToString(CultureInfo.InvariantCulture),
                    ["speed"] = speed.ToString(CultureInfo.InvariantCulture),
                    ["tilt"] = tilt.ToString(CultureInfo.InvariantCulture),
                    ["mix_speakers"] = mix.ToString(CultureInfo.InvariantCulture),
                    ["adversary"] = adversaryScale.ToString(CultureInfo.InvariantCulture),
                    ["dropout"] = dropout.ToString(CultureInfo.InvariantCulture),
                    ["mels"] = mels.ToString(CultureInfo.InvariantCulture),
                    ["mfcc"] = mfcc.ToString(CultureInfo.InvariantCulture),
                    ["average"] = average.ToString(CultureInfo.InvariantCulture),
                    ["average_best"] = averageBest.ToString(CultureInfo.InvariantCulture),
                    ["decay"] = decay.ToString(CultureInfo.InvariantCulture),
                    ["cycles"] = cycles.ToString(CultureInfo.InvariantCulture),
                    ["normalize"] = speakerNorm ? "speaker" : "utterance",
                    ["mask_mel"] = maskMel ? "true" : "false",
                };
                if (bestEpoch is { } kept)
                {
                    // val_cer is the best epoch's; an average of several epochs was not validated as a whole.
                    notes[averagedEpochs is null ? "kept_epoch" : "best_epoch"] = kept.Epoch.ToString(CultureInfo.InvariantCulture);
                    notes["val_cer"] = kept.ValCer.ToString("F4", CultureInfo.InvariantCulture);
                }
                if (averagedEpochs is not null)
                    notes["averaged_epochs"] = string.Join(",", averagedEpochs.Select(e => e.ToString(CultureInfo.InvariantCulture)));
                foreach (var (speaker, e) in heldOut) notes[$"cer_{speaker}"] = e.Cer.ToString("F4", CultureInfo.InvariantCulture);
                recognizer.Save(outDir, optimizer, state, notes);
                return new
                {
                    Checkpoint = Path.GetFullPath(outDir),
                    TrainSeconds = Math.Round(trainSeconds),
                    Steps = state.Step,
                    Epochs = state.Epoch,
                    Stop = state.History.StopMessage,
                    KeptEpoch = bestEpoch?.Epoch,
                    AveragedEpochs = averagedEpochs,
                    ValCer = bestEpoch is { } b ? Math.Round(b.ValCer, 4) : (double?)null,
                    OfficialTest = Summary(official),
                    HeldOut = heldOut.ToDictionary(kv => kv.Key, kv => Summary(kv.Value)),
                };
            }
            }
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
        var newRecordings = args.Flag("new-recordings");
        var count = args.Int("strings", newRecordings ? 100 : 200);   // with --new-recordings: strings on each side
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
        if (newRecordings && speeds is not null)
            throw new UsageException("--new-recordings measures adaptation alone; leave out --vote and --speeds.");
        if (newRecordings && adaptation is null)
            throw new UsageException("--new-recordings checks adaptation on recordings it did not adapt on; give --adapt ROUNDS too.");
        if (newRecordings && !perSpeaker)
            throw new UsageException("--new-recordings normalises with the adaptation strings' statistics; it cannot be combined with --normalize utterance.");
        ApplyThreads(args);
        args.EnsureAllUsed();
        using var recognizer = LoadRecognizer(dirs, combine);
        if (newRecordings) return EvalOnNewRecordings(recognizer, recordings, speaker, count, decoding, adaptation!);
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
            Normalize = perSpeaker || recognizer.Config.SpeakerNormalization ? "speaker" : "utterance",
            AdaptRounds = adaptation?.Rounds ?? 0,
            Balance = adaptation?.WordCap,
            Speeds = speeds,
            RealTime = Math.Round(e.RealTimeFactor, 1),
            Characters = e.Characters,
            Words = e.Words,
        }, Json.Options));
        return 0;
    }

    static int EvalOnNewRecordings(SpeechRecognizer recognizer, IReadOnlyList<DigitRecording> recordings, string speaker,
        int count, CtcDecoding decoding, SpeakerAdaptationOptions adaptation)
    {
        var (adaptOn, score) = AsrTraining.SpeakerSplitStrings(recordings, speaker, count);
        var (before, after) = AsrTraining.EvaluateAdaptationOnNewRecordings(recognizer, adaptOn, score, adaptation, decoding);
        Console.WriteLine(JsonSerializer.Serialize(new
        {
            Speaker = speaker,
            AdaptedOn = $"{adaptOn.Count} strings of recordings 0-24 ({Math.Round(adaptOn.Sum(s => s.Audio.Seconds))} s), no transcripts",
            Scored = $"{score.Count} strings of recordings 25-49",
            CerBefore = Math.Round(before.Cer, 4),
            WerBefore = Math.Round(before.Wer, 4),
            Cer = Math.Round(after.Cer, 4),
            Wer = Math.Round(after.Wer, 4),
            after.Utterances,
            Heard = recognizer.Config.TrainedOn.Contains(speaker),
            Decoding = decoding,
            AdaptRounds = adaptation.Rounds,
            RealTimeBefore = Math.Round(before.RealTimeFactor, 1),
            RealTimeWithAdaptation = Math.Round(after.RealTimeFactor, 1),
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
        if (combine == "average") return SpeechRecognizer.LoadAverage(dirs);
        var votes = combine switch
        {
            null or "likelihood" => false,
            "vote" => true,
            var other => throw new UsageException($"--combine {other}: expected likelihood, vote or average."),
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
        // The files are taken as one voice and normalised with statistics over all of them (with one file that is
        // per-utterance normalisation); --each normalises every file alone, e.g. for files of different speakers.
        using var speaker = !each && clips.Count > 1 ? recognizer.SpeakerStatistics(clips.Select(c => c.Clip)) : null;
        if (recognizer.Config.SpeakerNormalization && (each || clips.Count == 1))
            Console.Error.WriteLine("rnn asr: this model was trained on per-speaker statistics; one file at a time gives it little " +
                "to estimate a voice from. Pass several recordings of the same speaker in one call.");
        var audio = clips.Select(c => c.Clip).ToList();
        if (adaptation is not null && audio.Count > 0)   // adapts the weights in place; the transcripts come below
            SpeakerAdaptation.Adapt(recognizer, audio, speaker, adaptation, decoding, r => ReportRound(r, clips.Count));
        var transcripts = speeds is not null
            ? SpeedVoting.Transcribe(recognizer, audio, speeds, decoding, oneVoice: speaker is not null).Transcripts
            : [.. audio.Select(c => recognizer.Transcribe(c, decoding, speaker))];
        for (var i = 0; i < clips.Count; i++) Console.WriteLine($"{clips[i].File}\t{transcripts[i]}");
        return failed == 0 ? 0 : 1;
    }

    static void ReportRound(AdaptationRound r, int files) =>
        Console.Error.WriteLine($"rnn asr: adaptation round {r.Round}: learned from {r.Kept} of {files} files, {r.Changed} transcripts changed");

    /// <summary>Silence added before and after every file that <c>transcribe</c> and <c>adapt</c> read.</summary>
    public const double EdgeSilenceSeconds = 0.15;

    /// <summary>Reads each WAV file, with <see cref="EdgeSilenceSeconds"/> of silence added at both ends; a file that is
    /// not 8 or 16 kHz mono 16-bit PCM is reported on stderr and counted.</summary>
    static (List<(string File, AudioClip Clip)> Clips, int Failed) ReadClips(IEnumerable<string> files)
    {
        var failed = 0;
        var clips = new List<(string File, AudioClip Clip)>();
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
                clips.Add((file, clip.WithSilence(EdgeSilenceSeconds)));
            }
            catch (Exception e) when (e is IOException or InvalidDataException or UnauthorizedAccessException)
            {
                Console.Error.WriteLine($"rnn asr: {e.Message}");
                failed++;
            }
        }
        return (clips, failed);
    }

    static int Average(CliArgs args)
    {
        var dirs = Checkpoints(args);
        var outDir = args.Required("out");
        var best = args.Int("best", 0);
        if (best < 0) throw new UsageException($"--best {best}: expected how many of the checkpoints to average (lowest validation CER first), e.g. 5.");
        args.EnsureAllUsed();
        if (args.Positionals.Count > 0) throw new UsageException($"unexpected argument '{args.Positionals[0]}'.");
        var expanded = dirs.SelectMany(SpeechRecognizer.CheckpointDirectories).ToList();
        if (expanded.Any(d => Path.GetFullPath(d).TrimEnd(Path.DirectorySeparatorChar) == Path.GetFullPath(outDir).TrimEnd(Path.DirectorySeparatorChar)))
            throw new UsageException("--out must differ from every --checkpoint: the averaged checkpoints are kept as they are.");
        var chosen = expanded;
        if (best > 0)
        {
            // The N lowest validation CERs (asr.json's note val_cer, which train writes), earlier epochs first on ties.
            var scored = expanded.Select((d, i) => (Dir: d, Order: i, ValCer: ValidationCer(d))).ToList();
            var unscored = scored.FirstOrDefault(x => x.ValCer is null);
            if (unscored.Dir is not null)
                throw new UsageException($"--best: {Path.Combine(unscored.Dir, SpeechRecognizer.ConfigFile)} has no val_cer note; " +
                    "give checkpoints saved by `rnn asr train` (e.g. its --save-epochs directory), or leave out --best to average them all.");
            chosen = [.. scored.OrderBy(x => x.ValCer).ThenBy(x => x.Order).Take(best).OrderBy(x => x.Order).Select(x => x.Dir)];
        }
        using var recognizer = SpeechRecognizer.LoadAverage(chosen);
        var state = TrainingState.Start(new TrainerOptions(1));
        recognizer.Save(outDir, null, state, new Dictionary<string, string>
        {
            ["status"] = "complete",
            ["averaged"] = string.Join(",", chosen.Select(Path.GetFullPath)),
            ["held_out"] = HeldOutNote(chosen[0]) ?? "",
        });
        Console.WriteLine(JsonSerializer.Serialize(new
        {
            Checkpoint = Path.GetFullPath(outDir),
            Averaged = chosen.Select(d => new { Checkpoint = Path.GetFullPath(d), ValCer = ValidationCer(d) }).ToList(),
        }, Json.Options));
        return 0;
    }

    /// <summary>A note of a checkpoint's <c>asr.json</c>, or null.</summary>
    static string? Note(string dir, string name) =>
        SpeechRecognizer.ReadConfig(dir).Notes is { } notes && notes.TryGetValue(name, out var v) ? v : null;

    static double? ValidationCer(string dir) =>
        double.TryParse(Note(dir, "val_cer"), NumberStyles.Float, CultureInfo.InvariantCulture, out var v) ? v : null;

    static string? HeldOutNote(string dir) => Note(dir, "held_out");

    static int Adapt(CliArgs args)
    {
        var dir = args.Required("checkpoint");
        var outDir = args.Required("out");
        var rounds = args.Int("rounds", new SpeakerAdaptationOptions().Rounds);
        if (rounds < 1) throw new UsageException($"--rounds {rounds}: expected 1 or more rounds of self-training, e.g. 5.");
        var balance = Balance(args);
        var decoding = Decoding(args);
        ApplyThreads(args);
        args.EnsureAllUsed();
        if (args.Positionals.Count == 0) throw new UsageException("name the WAV files of the voice to adapt to.");
        if (Path.GetFullPath(outDir).TrimEnd(Path.DirectorySeparatorChar) == Path.GetFullPath(dir).TrimEnd(Path.DirectorySeparatorChar))
            throw new UsageException("--out must differ from --checkpoint: the unadapted model is kept as it is.");
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
