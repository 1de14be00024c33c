using System.Text.Json;
using System.Text.Json.Nodes;
using RnnNotebooks.Audio;
using RnnNotebooks.Captioning;
using RnnNotebooks.Models;
using RnnNotebooks.Speech;
using RnnNotebooks.Text;
using RnnNotebooks.Training;
using RnnNotebooks.Translation;
using TorchSharp;
using static TorchSharp.torch;

namespace RnnNotebooks.Tests.Training;

/// <summary>
/// Every model kind saves its configuration and vocabularies as files of its <see cref="Checkpoint"/>, so one save is one
/// atomic step: a save that fails at any file leaves the previous model loadable as it was, config and weights together.
/// </summary>
[Collection(TorchGlobalState.Name)]
public class ModelCheckpointTests : IDisposable
{
    readonly string dir = Directory.CreateTempSubdirectory("model-checkpoint-").FullName;

    public void Dispose()
    {
        Checkpoint.BeforeWrite = null;
        Directory.Delete(dir, recursive: true);
    }

    /// <summary>The options record a recipe saves with its checkpoint.</summary>
    sealed record Recipe(int Variant);

    /// <summary>A model kind: save variant 1 or 2 (other sizes, vocabularies and options) with an optimizer and the recipe's
    /// options, and load it back as one string that differs whenever the config, vocabulary, options or weights differ.</summary>
    sealed record Kind(Action<string, int> Save, Func<string, string> Load, string[] OwnFiles);

    static string Weights(nn.Module model) =>
        string.Join(",", model.parameters().Select(p => p.abs().sum().item<float>().ToString("R", System.Globalization.CultureInfo.InvariantCulture)));

    static string Options(string dir) => JsonSerializer.Serialize(RunFolder.ReadOptions<Recipe>(dir));

    static TrainingState State(int variant) => TrainingState.Start(new TrainerOptions(Epochs: variant));

    static readonly Dictionary<string, Kind> Kinds = new()
    {
        ["lm"] = new Kind((dir, v) =>
        {
            Seeds.Set(v);
            var vocabulary = Vocabulary.OfWords(v == 1 ? "to be or not to be\n" : "all the world is a stage\n");
            using var model = new LanguageModel(new LanguageModelOptions(vocabulary.Size, 4 + 2 * v, 1));
            using var adam = optim.Adam(model.parameters(), 0.01);
            LanguageModelCheckpoint.Save(dir, model, vocabulary, adam, State(v), extraFiles: RunFolder.OptionsFiles(new Recipe(v)));
        }, dir =>
        {
            var loaded = LanguageModelCheckpoint.Load(dir);
            using var model = loaded.Model;
            return $"{JsonSerializer.Serialize(model.Options)} {loaded.Vocabulary.ToJson()} {Weights(model)} {Options(dir)}";
        }, [LanguageModelCheckpoint.ConfigFile]),

        ["translator"] = new Kind((dir, v) =>
        {
            Seeds.Set(v);
            var sentences = v == 1 ? new IReadOnlyList<string>[] { ["a", "b"], ["b", "c"] } : [["x", "y", "z"]];
            var source = Vocabulary.OfSentences(sentences, minCount: 1);
            var target = Vocabulary.OfSentences(sentences, minCount: 1);
            var options = new Seq2SeqOptions(source.Size, target.Size, 4, 2 + 2 * v);
            using var model = new Seq2Seq(options);
            using var adam = optim.Adam(model.parameters(), 0.01);
            new Translator(model, source, target, new TranslatorConfig("fra-eng", "fra", "eng", options, 10 + v, false))
                .Save(dir, adam, State(v), RunFolder.OptionsFiles(new Recipe(v)));
        }, dir =>
        {
            var translator = Translator.Load(dir);
            using var model = translator.Model;
            return $"{JsonSerializer.Serialize(translator.Config)} {translator.Source.ToJson()} {translator.Target.ToJson()} {Weights(model)} {Options(dir)}";
        }, [Translator.ConfigFile, Translator.SourceVocabFile, Translator.TargetVocabFile]),

        ["captioner"] = new Kind((dir, v) =>
        {
            Seeds.Set(v);
            var images = new[] { new CaptionedImage("x.jpg", ["a dog runs"], [v == 1 ? ["a", "dog", "runs"] : ["two", "cats"]]) };
            var captioner = CaptionTraining.Create(images, hidden: 4 + 4 * v, embedding: 4, attentionSize: 4, minCount: 1);
            using var model = captioner.Model;
            using var adam = optim.Adam(model.parameters(), 0.01);
            captioner.Save(dir, adam, State(v), RunFolder.OptionsFiles(new Recipe(v)));
        }, dir =>
        {
            var captioner = Captioner.Load(dir);
            using var model = captioner.Model;
            return $"{JsonSerializer.Serialize(captioner.Config)} {captioner.Vocabulary.ToJson()} {Weights(model)} {Options(dir)}";
        }, [Captioner.ConfigFile, Captioner.VocabularyFile]),

        ["asr"] = new Kind((dir, v) =>
        {
            Seeds.Set(v);
            using var recognizer = SpeechRecognizer.Create(new FeatureOptions(Mfcc: 13),
                new AcousticModelOptions(ConvChannels: 4, HiddenSize: 2 + 2 * v, NumLayers: 1), [$"speaker{v}"]);
            using var adam = optim.Adam(recognizer.Model.parameters(), 0.01);
            recognizer.Save(dir, adam, State(v), new Dictionary<string, string> { ["variant"] = $"{v}" }, RunFolder.OptionsFiles(new Recipe(v)));
        }, dir =>
        {
            using var recognizer = SpeechRecognizer.Load(dir);
            return $"{JsonSerializer.Serialize(recognizer.Config)} {Weights(recognizer.Model)} {Options(dir)}";
        }, [SpeechRecognizer.ConfigFile]),
    };

    public static TheoryData<string> KindNames => [.. Kinds.Keys];

    /// <summary>The plain names of the files one save writes, in order.</summary>
    static List<string> Written(Action save)
    {
        var names = new List<string>();
        Checkpoint.BeforeWrite = names.Add;
        try { save(); }
        finally { Checkpoint.BeforeWrite = null; }
        return names;
    }

    [Theory]
    [MemberData(nameof(KindNames))]
    public void Save_FailingAtAnyFile_LeavesThePreviousModelWhole_AndASaveThatEndsReplacesItWhole(string name)
    {
        var kind = Kinds[name];
        var scratch = Path.Combine(dir, "new");
        var names = Written(() => kind.Save(scratch, 2));
        var expectedNew = kind.Load(scratch);
        foreach (var file in kind.OwnFiles.Append(RunFolder.OptionsFile).Append(Checkpoint.OptimizerFile))
            Assert.Contains(file, names);
        Assert.Equal(Checkpoint.ManifestFile, names[^1]);

        var folder = Path.Combine(dir, "model");
        kind.Save(folder, 1);
        var old = kind.Load(folder);
        Assert.NotEqual(old, expectedNew);

        foreach (var failing in names)
        {
            Checkpoint.BeforeWrite = n => { if (n == failing) throw new IOException("No space left on device"); };
            Assert.Throws<IOException>(() => kind.Save(folder, 2));
            Checkpoint.BeforeWrite = null;
            Assert.True(old == kind.Load(folder), $"after a save that failed at {failing}, the previous model should load as it was");
            Assert.Empty(Directory.GetFiles(folder, "*.tmp"));
        }

        kind.Save(folder, 2);
        Assert.Equal(expectedNew, kind.Load(folder));
        Assert.Equal(Directory.GetFiles(scratch).Select(Path.GetFileName).Order(), Directory.GetFiles(folder).Select(Path.GetFileName).Order());
    }

    /// <summary>Before the configuration and vocabularies were files of the checkpoint they were written beside it under their
    /// plain names, and the manifest did not list them: such a folder still loads, and the next save takes them in.</summary>
    [Theory]
    [MemberData(nameof(KindNames))]
    public void Load_OlderLayout_WithTheJsonFilesBesideTheCheckpoint_StillLoads_AndTheNextSaveTakesThemIn(string name)
    {
        var kind = Kinds[name];
        var folder = Path.Combine(dir, "model");
        kind.Save(folder, 1);
        var expected = kind.Load(folder);

        var manifestPath = Path.Combine(folder, Checkpoint.ManifestFile);
        var manifest = JsonNode.Parse(File.ReadAllText(manifestPath))!;
        var files = manifest["files"]!.AsArray();
        foreach (var entry in files.Where(f => f!["name"]!.GetValue<string>().EndsWith(".json", StringComparison.Ordinal)).ToList())
        {
            File.Move(Path.Combine(folder, entry!["stored"]!.GetValue<string>()), Path.Combine(folder, entry["name"]!.GetValue<string>()));
            files.Remove(entry);
        }
        File.WriteAllText(manifestPath, manifest.ToJsonString());
        Assert.True(File.Exists(Path.Combine(folder, kind.OwnFiles[0])));

        Assert.Equal(expected, kind.Load(folder));

        kind.Save(folder, 2);
        Assert.All(kind.OwnFiles.Append(RunFolder.OptionsFile), f => Assert.False(File.Exists(Path.Combine(folder, f)), $"{f} should now be stored under its hashed name"));
        Assert.NotNull(Checkpoint.PathOf(folder, kind.OwnFiles[0]));
    }

    [Fact]
    public void SaveNotes_FailingPartWay_KeepsTheOldNotes_AndKeepsTheWeightsAndState()
    {
        var folder = Path.Combine(dir, "asr");
        Kinds["asr"].Save(folder, 1);
        var state = Checkpoint.ReadState(folder);
        using var recognizer = SpeechRecognizer.Load(folder);
        var weights = Weights(recognizer.Model);

        foreach (var failing in new[] { SpeechRecognizer.ConfigFile, Checkpoint.ManifestFile })
        {
            Checkpoint.BeforeWrite = n => { if (n == failing) throw new IOException("No space left on device"); };
            Assert.Throws<IOException>(() => recognizer.SaveNotes(folder, new Dictionary<string, string> { ["status"] = "complete" }));
            Checkpoint.BeforeWrite = null;
            Assert.Equal("1", SpeechRecognizer.ReadConfig(folder).Notes!["variant"]);
        }

        recognizer.SaveNotes(folder, new Dictionary<string, string> { ["status"] = "complete" });
        Assert.Equal("complete", SpeechRecognizer.ReadConfig(folder).Notes!["status"]);
        using var loaded = SpeechRecognizer.Load(folder);
        Assert.Equal(weights, Weights(loaded.Model));
        Assert.Equal(JsonSerializer.Serialize(state, Json.Options), JsonSerializer.Serialize(Checkpoint.ReadState(folder), Json.Options));
        Assert.Equal(Options(folder), JsonSerializer.Serialize(new Recipe(1)));
    }
}
