using System.CommandLine;
using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;
using RnnNotebooks.Decoding;
using RnnNotebooks.Metrics;
using RnnNotebooks.Models;
using RnnNotebooks.Notebook;
using RnnNotebooks.Text;
using RnnNotebooks.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace RnnNotebooks.Cli;

/// <summary><c>rnn lm train | eval | sample</c>: lesson 03's language models at longer budgets.</summary>
static class LmCommand
{
    const string MetricsFile = "metrics.json";

    public static Command Build() =>
        new("lm", "Train, score and sample the lesson 03 language models (char or word level).") { Train(), Eval(), Sample() };

    static Command Train()
    {
        var data = CliOptions.Text("--data", "the text: tinyshakespeare, ptb or a UTF-8 file", required: true, helpName: "NAME|FILE");
        var level = new Option<string>("--level") { Description = "tokens: char or word (default: word for ptb, char otherwise)" };
        CliOptions.OneOf(level, "char", "word");
        var hidden = CliOptions.OptionalInt("--hidden", "hidden size (default 512 char, 256 word)");
        var layers = CliOptions.Int("--layers", "recurrent layers", 2);
        var cell = CliOptions.Choice("--cell", "the recurrent cell", "lstm", "gru", "rnn");
        var dropout = CliOptions.OptionalDouble("--dropout", "dropout (default 0.1 char, 0.4 word)");
        var tie = CliOptions.Flag("--tie", "the readout shares the embedding's weights (the default for words)");
        var noTie = CliOptions.Flag("--no-tie", "the readout has its own weights (the default for characters)");
        var batch = CliOptions.OptionalInt("--batch", "parallel streams (default 32 char, 20 word)");
        var steps = CliOptions.OptionalInt("--steps", "tokens per truncated-BPTT window (default 100 char, 35 word)");
        var lr = CliOptions.OptionalDouble("--lr", "Adam's learning rate (default 0.002 char, 0.001 word)");
        var schedule = CliOptions.Choice("--schedule",
            "plateau: halve the rate after a pass without a new best; " +
            "hold-cosine: hold it, then fall along a cosine over the last --decay-fraction", "plateau", "hold-cosine");
        var decayFraction = CliOptions.Double("--decay-fraction", "the decaying share of the budget under hold-cosine", 0.3);
        var minutes = CliOptions.OptionalDouble("--minutes", "time budget of this session (default: none)");
        var epochs = CliOptions.OptionalInt("--epochs", "passes over the text, a resumed run's included (default 10 char, 20 word; 1000 with --minutes)");
        var seed = CliOptions.Int("--seed", "the seed", 42);
        var threads = CliOptions.Threads();
        var output = CliOptions.Text("--out", "the run folder (default runs/lm-DATA-LEVEL)", helpName: "DIR");
        var command = new Command("train", "Train a language model into --out; an existing checkpoint of the same options is continued.")
        {
            data, level, hidden, layers, cell, dropout, tie, noTie, batch, steps, lr, schedule, decayFraction, minutes, epochs, seed, threads, output,
        };
        var existing = CliOptions.Existing(command);
        CliOptions.Exclusive(command, tie, noTie, "contradict each other.");
        var optionOf = new Dictionary<string, Option>
        {
            ["Data"] = data, ["Level"] = level, ["Hidden"] = hidden, ["Layers"] = layers, ["Cell"] = cell, ["Dropout"] = dropout,
            ["BatchSize"] = batch, ["Steps"] = steps, ["LearningRate"] = lr, ["DecayFraction"] = decayFraction, ["Minutes"] = minutes,
            ["Epochs"] = epochs, ["Threads"] = threads,
        };
        command.SetAction(p =>
        {
            var scheduleText = p.GetValue(schedule)!;
            if (p.GetResult(decayFraction) is { Implicit: false } && scheduleText != "hold-cosine")
                throw new UsageException("--decay-fraction goes with --schedule hold-cosine.");
            var options = new LanguageModelTrainingOptions(
                Data: p.GetValue(data)!,
                Level: p.GetValue(level) switch { "char" => TokenLevel.Char, "word" => TokenLevel.Word, _ => null },
                Hidden: p.GetValue(hidden),
                Layers: p.GetValue(layers),
                Cell: p.GetValue(cell) switch { "gru" => RecurrentCell.Gru, "rnn" => RecurrentCell.Rnn, _ => RecurrentCell.Lstm },
                Dropout: p.GetValue(dropout),
                TieWeights: p.GetValue(tie) ? true : p.GetValue(noTie) ? false : null,
                BatchSize: p.GetValue(batch),
                Steps: p.GetValue(steps),
                LearningRate: p.GetValue(lr),
                Schedule: scheduleText switch
                {
                    "hold-cosine" => LearningRateSchedule.HoldCosine,
                    _ => LearningRateSchedule.Plateau,
                },
                DecayFraction: p.GetValue(decayFraction),
                Minutes: p.GetValue(minutes),
                Epochs: p.GetValue(epochs),
                Seed: p.GetValue(seed),
                Threads: p.GetValue(threads));
            Cli.Check(options.Validate, optionOf);
            return Run(options, scheduleText, existing.Get(p), p.GetValue(output));
        });
        return command;
    }

    static int Run(LanguageModelTrainingOptions options, string scheduleText, ExistingCheckpoint existing, string? outOption)
    {
        var resolved = options.Resolved();
        var data = options.Data;
        var unit = resolved.Level == TokenLevel.Word ? "word" : "char";
        var output = outOption ?? Path.Combine("runs", $"lm-{Path.GetFileNameWithoutExtension(data)}-{unit}");
        var display = new LiveProgress($"lm {data} {unit}", TimeSpan.FromSeconds(10));
        using var ctrlC = new CtrlC();
        var result = LanguageModelTraining.Train(options, output, existing,
            log: line => { display.Complete(); Console.Error.WriteLine(line); },
            progress: display.Report, cancellationToken: ctrlC.Token);
        display.Complete();
        var state = result.State;
        if (state.History.StopReason is StopReason.NonFiniteLoss) Console.Error.WriteLine(state.History.StopMessage);
        if (CtrlC.Stopped(state, output) is { } stopped) return stopped;

        var metrics = new JsonObject
        {
            ["data"] = result.Corpus,
            ["split"] = result.Split,
            ["level"] = result.Unit,
            ["model"] = JsonSerializer.SerializeToNode(result.Model, Json.Options),
            ["batch"] = result.Options.BatchSize,
            ["steps"] = result.Options.Steps,
            ["epochs_completed"] = state.Epoch,
            ["optimizer_steps"] = state.Step,
            ["training_seconds"] = Math.Round(state.ElapsedSeconds, 1),
            ["tokens_per_second"] = state.History.Epochs.LastOrDefault()?.TokensPerSecond is { } tps ? Math.Round(tps) : null,
            ["threads"] = result.Threads,
            ["schedule"] = scheduleText,
            ["stop_reason"] = state.History.StopReason.ToString(),
            ["validation"] = JsonSerializer.SerializeToNode(result.Validation, Json.Options),
            ["test"] = result.Test is null ? null : JsonSerializer.SerializeToNode(result.Test, Json.Options),
            ["val_loss_by_epoch"] = new JsonArray([.. state.History.Series("val_loss").Select(v => (JsonNode?)JsonValue.Create(Math.Round(v, 5)))]),
        };
        AtomicFile.WriteAllText(Path.Combine(output, MetricsFile), metrics.ToJsonString(Json.Options));
        Console.WriteLine(metrics.ToJsonString(Json.Options));
        Console.Error.WriteLine($"{state.History.StopMessage} Checkpoint and {MetricsFile} in {output}; run the same command to continue training.");
        return 0;
    }

    static Command Eval()
    {
        var checkpoint = CliOptions.Text("--checkpoint", "the run folder of a trained model", required: true, helpName: "DIR");
        var text = CliOptions.Text("--text", "the UTF-8 text to score", required: true, helpName: "FILE");
        var command = new Command("eval", "Perplexity (and bits per character) of a text under a trained model, as JSON.") { checkpoint, text };
        command.SetAction(p => Eval(p.GetValue(checkpoint)!, p.GetValue(text)!));
        return command;
    }

    static int Eval(string dir, string textPath)
    {
        if (!File.Exists(textPath) && !Directory.Exists(textPath))
            throw new FileNotFoundException($"{textPath}: no such file. Give the text to score with --text FILE.", textPath);
        var text = TextFile.ReadUtf8(textPath);
        if (string.IsNullOrWhiteSpace(text))
            throw new InvalidDataException($"{textPath}: the file is empty; there is nothing to score. Give a text with at least two tokens.");

        var loaded = LanguageModelCheckpoint.Load(dir);
        using var model = loaded.Model;
        int[] ids;
        try
        {
            ids = loaded.Vocabulary.Encode(text);
        }
        catch (ArgumentException e)
        {
            throw new InvalidDataException($"{textPath}: {OutOfVocabulary(e)} Remove or replace such characters, or score the text with a model trained on them.", e);
        }
        if (ids.Length < 2)
            throw new InvalidDataException($"{textPath}: {ids.Length} token; scoring needs at least two (the first is given, the rest are predicted).");
        Threads.Apply();
        var score = Perplexities.Evaluate(model, ids);
        Console.WriteLine(score.ToJson());
        return 0;
    }

    static Command Sample()
    {
        var checkpoint = CliOptions.Text("--checkpoint", "the run folder of a trained model", required: true, helpName: "DIR");
        var promptOption = CliOptions.Text("--prompt", "the text to continue (or give it as the last word)", helpName: "TEXT");
        var promptArgument = new Argument<string?>("PROMPT") { Description = "the text to continue, instead of --prompt", Arity = ArgumentArity.ZeroOrOne };
        var temperature = CliOptions.Double("--temperature", "sampling temperature (0: greedy)", 0.8);
        var length = CliOptions.Int("--length", "tokens to generate", 500);
        var topK = CliOptions.OptionalInt("--top-k", "sample only among the K likeliest tokens (default: all)");
        var seed = CliOptions.Int("--seed", "the sampling seed", 42);
        var command = new Command("sample", "Generate text from a trained model.") { checkpoint, promptOption, promptArgument, temperature, length, topK, seed };
        command.SetAction(p =>
        {
            if (p.GetValue(promptOption) is not null && p.GetValue(promptArgument) is not null)
                throw new UsageException("give the prompt once: --prompt TEXT or as the last word, not both.");
            if (p.GetValue(temperature) < 0) throw new UsageException($"--temperature {p.GetValue(temperature)}: expected 0 (greedy) or more.");
            if (p.GetValue(length) < 0) throw new UsageException($"--length {p.GetValue(length)}: expected 0 or more.");
            if (p.GetValue(topK) is < 1 and var k) throw new UsageException($"--top-k {k}: expected a positive integer.");
            return Sample(p.GetValue(checkpoint)!, p.GetValue(promptOption) ?? p.GetValue(promptArgument) ?? "",
                p.GetValue(temperature), p.GetValue(length), p.GetValue(topK), p.GetValue(seed));
        });
        return command;
    }

    static int Sample(string dir, string prompt, double temperature, int length, int? topK, int seed)
    {
        var loaded = LanguageModelCheckpoint.Load(dir);
        using var model = loaded.Model;
        var vocabulary = loaded.Vocabulary;
        int[] promptIds;
        try
        {
            promptIds = vocabulary.EncodePrompt(prompt);
        }
        catch (ArgumentException e)
        {
            throw new InvalidDataException($"--prompt: {OutOfVocabulary(e)} Use only characters of the training text.", e);
        }
        Threads.Apply(1);
        var clock = Stopwatch.StartNew();
        var ids = TextGeneration.Generate(model, promptIds, length, new SamplingOptions(temperature, topK), new Random(seed));
        var ms = clock.Elapsed.TotalMilliseconds;
        var separator = vocabulary.Level == TokenLevel.Word && prompt.Length > 0 && !prompt.EndsWith('\n') ? " " : "";
        Console.WriteLine(prompt + separator + vocabulary.Decode(ids));
        Console.Error.WriteLine($"{length} {vocabulary.Unit}s in {ms:F0} ms ({(length > 0 ? ms / length : 0):F3} ms/{vocabulary.Unit}, prompt included), 1 thread");
        return 0;
    }

    /// <summary>The first sentence of the vocabulary's message (which character, where), with the model's point of view.</summary>
    static string OutOfVocabulary(ArgumentException e)
    {
        var message = e.Message.Split(" (Parameter")[0];
        var end = message.IndexOf(" characters.", StringComparison.Ordinal);
        return end > 0 ? message[..end] + " characters the model was trained with." : message;
    }
}
