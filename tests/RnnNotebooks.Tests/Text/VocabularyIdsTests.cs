using RnnNotebooks.Speech;
using RnnNotebooks.Text;
using SequenceVocabulary = RnnNotebooks.Translation.Vocabulary;

namespace RnnNotebooks.Tests.Text;

/// <summary>
/// Pins the id of every token for each kind of vocabulary on small fixed inputs, so that models and numbers
/// produced with earlier builds keep their meaning. The expected maps were taken from the classes the
/// vocabulary replaced (CharVocabulary, WordVocabulary, Translation.Vocabulary, CharacterSet).
/// </summary>
public class VocabularyIdsTests
{
    const string CharText = "Hello, world!\nhi";
    const string WordText = "the cat sat\nthe dog sat on the mat\n\nthe cat ran\n";
    static readonly string[][] Sentences = [["the", "cat", "sat"], ["the", "dog"], ["a", "cat", "."], ["The", "dog"]];

    [Fact]
    public void Characters_AreNumberedInOrdinalOrder()
    {
        Assert.Equal("\n !,Hdehilorw", string.Concat(CharVocabulary.FromText(CharText).Chars));
        Assert.Equal("\n !,?Hdehilorw", string.Concat(CharVocabulary.FromText(CharText, unknown: '?').Chars));
        Assert.Equal(['a', 'b', '\uD83D', '\uDE00'], CharVocabulary.FromText("b\uD83D\uDE00a").Chars);
        Assert.Equal([7, 8, 1, 12, 10, 11, 9, 5, 2], CharVocabulary.FromText(CharText).Encode("hi world!"));
        Assert.Equal([8, 4, 1, 13], CharVocabulary.FromText(CharText, unknown: '?').Encode("hx w"));
    }

    [Fact]
    public void Words_AreUnkEosThenByFrequencyThenOrdinal()
    {
        Assert.Equal(["<unk>", "<eos>", "the", "cat", "sat", "dog", "mat", "on", "ran"], WordVocabulary.FromText(WordText).Words);
        Assert.Equal(["<unk>", "<eos>", "the", "cat", "sat"], WordVocabulary.FromText(WordText, maxSize: 5).Words);
        Assert.Equal(["<unk>", "<eos>", "the", "cat", "sat"], WordVocabulary.FromText(WordText, minCount: 2).Words);
        Assert.Equal(["<unk>", "<eos>", "B", "a", "b"], WordVocabulary.FromText("b B a").Words);
        Assert.Equal([2, 5, 8, 0, 1, 0, 1], WordVocabulary.FromText(WordText).Encode("the dog ran far\nzzz"));
    }

    [Fact]
    public void Sequences_ArePadBosEosUnkThenByFrequencyThenOrdinal()
    {
        Assert.Equal(["<pad>", "<bos>", "<eos>", "<unk>", "cat", "dog", "the", ".", "The", "a", "sat"], SequenceVocabulary.Build(Sentences).Tokens);
        Assert.Equal(["<pad>", "<bos>", "<eos>", "<unk>", "cat", "dog", "the"], SequenceVocabulary.Build(Sentences, minFrequency: 2).Tokens);
        Assert.Equal(["<pad>", "<bos>", "<eos>", "<unk>", "cat", "dog"], SequenceVocabulary.Build(Sentences, maxSize: 6).Tokens);
        Assert.Equal([1L, 6, 3, 4, 2], SequenceVocabulary.Build(Sentences).Encode(["the", "zebra", "cat"], addBos: true, addEos: true));
        Assert.Equal((0L, 1L, 2L, 3L), (SequenceVocabulary.Pad, SequenceVocabulary.Bos, SequenceVocabulary.Eos, SequenceVocabulary.Unk));
    }

    [Fact]
    public void CtcCharacters_AreBlankSpaceThenLettersInTheOrderGiven()
    {
        Assert.Equal("efghinorstuvwxz", CharacterSet.DigitWords.Letters);
        Assert.Equal([8, 7, 2, 1, 11, 14, 8], CharacterSet.DigitWords.Encode("one two"));
        Assert.Equal([2, 3, 4, 1], new CharacterSet("cba").Encode("cba "));
        Assert.Equal(0, CharacterSet.Blank);
    }

    // The shapes earlier builds saved: CharVocabulary.ToJson, WordVocabulary.ToJson, both inside lm.json's
    // "tokenizer" section, and Translation.Vocabulary.Save (translator and captioner vocabulary files).
    const string OldCharJson = """
        {
          "codeUnits": [10, 32, 33, 44, 63, 72],
          "unknown": 63,
          "text": "\n !,?H"
        }
        """;
    const string OldWordJson = """{"words":["<unk>","<eos>","the","cat"]}""";
    const string OldTokenizerJson = """
        {
          "level": "word",
          "vocabulary": {"words":["<unk>","<eos>","the","cat"]}
        }
        """;
    const string OldSequenceJson = """
        [
          "<pad>",
          "<bos>",
          "<eos>",
          "<unk>",
          "cat",
          "dog"
        ]
        """;

    [Fact]
    public void OldFormats_Load()
    {
        var chars = CharVocabulary.FromJson(OldCharJson);
        Assert.Equal("\n !,?H", string.Concat(chars.Chars));
        Assert.Equal([5, 4, 1], chars.Encode("Hx "));
        Assert.Equal(["<unk>", "<eos>", "the", "cat"], WordVocabulary.FromJson(OldWordJson).Words);
        Assert.Equal(["<unk>", "<eos>", "the", "cat"], Tokenizer.FromJson(OldTokenizerJson).Words!.Words);
        var path = Path.GetTempFileName();
        try
        {
            File.WriteAllText(path, OldSequenceJson);
            Assert.Equal(["<pad>", "<bos>", "<eos>", "<unk>", "cat", "dog"], SequenceVocabulary.Load(path).Tokens);
        }
        finally { File.Delete(path); }
    }
}
