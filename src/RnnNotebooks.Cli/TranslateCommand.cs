using System.CommandLine;
using System.Diagnostics;
using System.Text.Json;
using RnnNotebooks.Training;
using RnnNotebooks.Translation;
using TorchSharp;

namespace RnnNotebooks.Cli;

/// <summary><c>rnn translate</c>: train a translator, evaluate BLEU on a split, or translate stdin.</summary>
static class TranslateCommand
{
    public static Command Build() =>
        new("translate", "Train an encoder-decoder translator (fra-eng, multi30k), evaluate BLEU on a split, or translate stdin.")
        {
            Train(), Eval(), RunStdin(),
        };

    static Command Train()
    {
        var d = new TranslationTrainingOptions();
        var data = CliOptions.Text("--data", "the parallel corpus: fra-eng or multi30k", required: true, helpName: "NAME");
        var src = CliOptions.Text("--src", "source language (default: fra for fra-eng, en for multi30k)", helpName: "LANG");
        var tgt = CliOptions.Text("--tgt", "target language (default: the other one; de for multi30k)", helpName: "LANG");
        var minutes = CliOptions.Double("--minutes", "time budget of this session", d.Minutes);
        var epochs = CliOptions.Int("--epochs", "passes over the training pairs, a resumed run's included", d.Epochs);
        var seed = CliOptions.Int("--seed", "the seed", d.Seed);
        var attention = CliOptions.Choice("--attention", "additive (Bahdanau), dot (Luong) or none", "additive", "dot", "none", "bahdanau", "luong");
        var hidden = CliOptions.Int("--hidden", "hidden size", d.Hidden);
        var embedding = CliOptions.Int("--embedding", "embedding size", d.Embedding);
        var batch = CliOptions.Int("--batch", "sentence pairs per step", d.BatchSize);
        var lr = CliOptions.Double("--lr", "Adam's learning rate", d.LearningRate);
        var dropout = CliOptions.Double("--dropout", "dropout", d.Dropout);
        var minFreq = CliOptions.Int("--min-freq", "fewest occurrences for a word to get its own id", d.MinFrequency);
        var maxLength = CliOptions.OptionalInt("--max-length", "longest sentence kept, in tokens (default 12 fra-eng, 50 multi30k)");
        var maxPairs = CliOptions.OptionalInt("--max-pairs", "only this many fra-eng pairs (a quick run)");
        var threads = CliOptions.Threads();
        var output = CliOptions.Text("--out", "the run folder (default runs/translate-DATA-SRC-TGT)", helpName: "DIR");
        var command = new Command("train", "Train a translator into --out; an existing checkpoint of the same options is continued.")
        {
            data, src, tgt, minutes, epochs, seed, output, attention, hidden, embedding, batch, lr, dropout, minFreq, maxLength, maxPairs, threads,
        };
        var existing = CliOptions.Existing(command);
        var optionOf = new Dictionary<string, Option>
        {
            ["Data"] = data, ["Source"] = src, ["Target"] = tgt, ["Minutes"] = minutes, ["Epochs"] = epochs, ["Hidden"] = hidden,
            ["Embedding"] = embedding, ["BatchSize"] = batch, ["LearningRate"] = lr, ["Dropout"] = dropout, ["MinFrequency"] = minFreq,
            ["MaxLength"] = maxLength, ["MaxPairs"] = maxPairs, ["Threads"] = threads,
        };
        command.SetAction(p =>
        {
            var options = new TranslationTrainingOptions(
                Data: p.GetValue(data)!, Source: p.GetValue(src), Target: p.GetValue(tgt), Minutes: p.GetValue(minutes), Epochs: p.GetValue(epochs),
                Seed: p.GetValue(seed),
                Attention: p.GetValue(attention) switch { "dot" or "luong" => AttentionKind.Dot, "none" => AttentionKind.None, _ => AttentionKind.Additive },
                Hidden: p.GetValue(hidden), Embedding: p.GetValue(embedding), BatchSize: p.GetValue(batch), LearningRate: p.GetValue(lr),
                Dropout: p.GetValue(dropout), MinFrequency: p.GetValue(minFreq), MaxLength: p.GetValue(maxLength), MaxPairs: p.GetValue(maxPairs),
                Threads: p.GetValue(threads));
            Cli.Check(options.Validate, optionOf);
            var resolved = options.Resolved();
            var outputDir = p.GetValue(output) ?? Path.Combine("runs", $"translate-{resolved.Data}-{resolved.Source}-{resolved.Target}");
            return Train(options, existing.Get(p), outputDir);
        });
        return command;
    }

    static int Train(TranslationTrainingOptions options, ExistingCheckpoint existing, string output)
    {
        using var ctrlC = new CtrlC();
        var result = TranslationTraining.Train(options, output, existing, Console.Error.WriteLine, p => Console.Error.WriteLine(p), ctrlC.Token);
        using var model = result.Translator.Model;
        if (CtrlC.Stopped(result.State, output) is { } stopped) return stopped;
        Console.WriteLine(JsonSerializer.Serialize(new Dictionary<string, object>
        {
            ["checkpoint"] = Path.GetFullPath(output),
            ["resumed"] = result.Resumed,
            ["steps"] = result.State.Step,
            ["epochs"] = result.State.Epoch,
            ["stop_reason"] = result.State.History.StopReason.ToString(),
            ["best_valid_bleu"] = Math.Round(result.BestValidBleu ?? 0, 2),
            ["seconds"] = Math.Round(result.Seconds, 1),
        }, Json.Options));
        return 0;
    }

    static Command Eval()
    {
        var checkpoint = CliOptions.Text("--checkpoint", "the run folder of a trained translator", required: true, helpName: "DIR");
        var split = CliOptions.Choice("--split", "the split to translate and score", "test", "validation", "train", "val", "valid");
        var beam = CliOptions.Beam();
        var output = CliOptions.Text("--out", "where the hypotheses and references go (default: the checkpoint folder)", helpName: "DIR");
        var command = new Command("eval", "Corpus BLEU of a trained translator on a split, as JSON; writes the hypotheses and references.")
        {
            checkpoint, split, beam, output,
        };
        command.SetAction(p => Eval(p.GetValue(checkpoint)!, p.GetValue(split)!, p.GetValue(beam), p.GetValue(output) ?? p.GetValue(checkpoint)!));
        return command;
    }

    static int Eval(string dir, string splitName, int beam, string output)
    {
        Threads.Apply();
        var clock = Stopwatch.StartNew();
        var translator = Translator.Load(dir);
        var pairs = translator.Config.LoadSplits().Get(splitName);
        if (pairs.Count == 0) throw new InvalidDataException($"The {splitName} split of {translator.Config.Dataset} is empty.");
        var result = translator.Evaluate(pairs, beam);     // the decoders switch oneDNN off themselves

        var prefix = Path.Combine(output, $"eval-{splitName}");
        AtomicFile.WriteAllText(prefix + ".hyp", string.Concat(result.Samples.Select(s => s.Hypothesis + "\n")));
        var maxRefs = result.Samples.Max(s => s.References.Count);
        var refFiles = new List<string>();
        for (var k = 0; k < maxRefs; k++)
        {
            var path = $"{prefix}.ref{k}";
            AtomicFile.WriteAllText(path, string.Concat(result.Samples.Select(s => (k < s.References.Count ? s.References[k] : "") + "\n")));
            refFiles.Add(path);
        }
        AtomicFile.WriteAllText(prefix + ".src", string.Concat(result.Samples.Select(s => s.Source + "\n")));

        var summary = new Dictionary<string, object>(result.Bleu.ToSummary())
        {
            ["split"] = splitName,
            ["beam"] = beam,
            ["dataset"] = translator.Config.Dataset,
            ["direction"] = $"{translator.Config.SourceLanguage}-{translator.Config.TargetLanguage}",
            ["references"] = maxRefs,
            ["tokenize"] = "none",
            ["hypotheses_file"] = Path.GetFullPath(prefix + ".hyp"),
            ["reference_files"] = refFiles.Select(Path.GetFullPath).ToList(),
            ["seconds"] = Math.Round(clock.Elapsed.TotalSeconds, 1),
        };
        Console.WriteLine(JsonSerializer.Serialize(summary, Json.Options));
        return 0;
    }

    static Command RunStdin()
    {
        var checkpoint = CliOptions.Text("--checkpoint", "the run folder of a trained translator", required: true, helpName: "DIR");
        var beam = CliOptions.Beam();
        var command = new Command("run", "Translate stdin, one sentence per line.") { checkpoint, beam };
        command.SetAction(p => RunStdin(p.GetValue(checkpoint)!, p.GetValue(beam)));
        return command;
    }

    static int RunStdin(string dir, int beam)
    {
        Threads.Apply();
        var translator = Translator.Load(dir);
        string? line;
        while ((line = Console.In.ReadLine()) is not null)
            Console.WriteLine(line.Trim().Length == 0 ? "" : translator.Translate(line, beam));
        return 0;
    }
}
