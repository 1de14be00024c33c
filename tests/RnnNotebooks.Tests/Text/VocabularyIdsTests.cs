using RnnNotebooks.Audio;
using RnnNotebooks.Text;

namespace RnnNotebooks.Tests.Text;

/// <summary>
/// Pins the id of every token for each kind of vocabulary on small fixed inputs, so that models and numbers
/// produced with earlier builds keep their meaning. The expected maps and JSON shapes were checked against the four
/// classes this type replaced, in the commit that added this test.
/// </summary>
public class VocabularyIdsTests
{
    const string CharText = "Hello, world!\nhi";
    const string WordText = "the cat sat\nthe dog sat on the mat\n\nthe cat ran\n";
    static readonly string[][] Sentences = [["the", "cat", "sat"], ["the", "dog"], ["a", "cat", "."], ["The", "dog"]];

    [Fact]
    public void Characters_AreNumberedInOrdinalOrder()
    {
        Assert.Equal("\n !,Hdehilorw", string.Concat(Vocabulary.OfCharacters(CharText).Tokens));
        Assert.Equal("\n !,?Hdehilorw", string.Concat(Vocabulary.OfCharacters(CharText, unknown: '?').Tokens));
        Assert.Equal(["a", "b", "\uD83D", "\uDE00"], Vocabulary.OfCharacters("b\uD83D\uDE00a").Tokens);
        Assert.Equal([7, 8, 1, 12, 10, 11, 9, 5, 2], Vocabulary.OfCharacters(CharText).Encode("hi world!"));
        Assert.Equal([8, 4, 1, 13], Vocabulary.OfCharacters(CharText, unknown: '?').Encode("hx w"));
    }

    [Fact]
    public void Words_AreUnkEosThenByFrequencyThenOrdinal()
    {
        Assert.Equal(["<unk>", "<eos>", "the", "cat", "sat", "dog", "mat", "on", "ran"], Vocabulary.OfWords(WordText).Tokens);
        Assert.Equal(["<unk>", "<eos>", "the", "cat", "sat"], Vocabulary.OfWords(WordText, maxSize: 5).Tokens);
        Assert.Equal(["<unk>", "<eos>", "the", "cat", "sat"], Vocabulary.OfWords(WordText, minCount: 2).Tokens);
        Assert.Equal(["<unk>", "<eos>", "B", "a", "b"], Vocabulary.OfWords("b B a").Tokens);
        Assert.Equal([2, 5, 8, 0, 1, 0, 1], Vocabulary.OfWords(WordText).Encode("the dog ran far\nzzz"));
    }

    [Fact]
    public void Sequences_ArePadBosEosUnkThenByFrequencyThenOrdinal()
    {
        Assert.Equal(["<pad>", "<bos>", "<eos>", "<unk>", "cat", "dog", "the", ".", "The", "a", "sat"], Vocabulary.OfSentences(Sentences).Tokens);
        Assert.Equal(["<pad>", "<bos>", "<eos>", "<unk>", "cat", "dog", "the"], Vocabulary.OfSentences(Sentences, minCount: 2).Tokens);
        Assert.Equal(["<pad>", "<bos>", "<eos>", "<unk>", "cat", "dog"], Vocabulary.OfSentences(Sentences, maxSize: 6).Tokens);
        Assert.Equal([1L, 6, 3, 4, 2], Vocabulary.OfSentences(Sentences).EncodeTokens(["the", "zebra", "cat"], addBos: true, addEos: true));
        Assert.Equal((0L, 1L, 2L, 3L), (Vocabulary.Pad, Vocabulary.Bos, Vocabulary.Eos, Vocabulary.Unk));
    }

    [Fact]
    public void CtcCharacters_AreBlankSpaceThenLettersInTheOrderGiven()
    {
        Assert.Equal("efghinorstuvwxz", SpokenDigits.Letters);
        Assert.Equal([8, 7, 2, 1, 11, 14, 8], Vocabulary.ForCtc(SpokenDigits.Letters).Encode("one two"));
        Assert.Equal([2, 3, 4, 1], Vocabulary.ForCtc("cba").Encode("cba "));
        Assert.Equal(0, Vocabulary.Blank);
    }

    // The shapes earlier builds saved: a character and a word vocabulary, both also inside lm.json's "tokenizer"
    // section, and the token array of the translator's and captioner's vocabulary files.
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
        var chars = Vocabulary.FromJson(OldCharJson);
        Assert.Equal("\n !,?H", string.Concat(chars.Tokens));
        Assert.Equal([5, 4, 1], chars.Encode("Hx "));
        Assert.Equal(TokenLevel.Char, chars.Level);
        foreach (var words in new[] { Vocabulary.FromJson(OldWordJson), Vocabulary.FromJson(OldTokenizerJson) })
        {
            Assert.Equal(["<unk>", "<eos>", "the", "cat"], words.Tokens);
            Assert.Equal([2, 0, 1], words.Encode("the dog\n"));
        }
        var path = Path.GetTempFileName();
        try
        {
            File.WriteAllText(path, OldSequenceJson);
            var sentences = Vocabulary.Load(path);
            Assert.Equal(["<pad>", "<bos>", "<eos>", "<unk>", "cat", "dog"], sentences.Tokens);
            Assert.Equal([Vocabulary.Bos, 5, Vocabulary.Unk, Vocabulary.Eos], sentences.EncodeTokens(["dog", "cow"], addBos: true, addEos: true));
        }
        finally { File.Delete(path); }
    }
}
