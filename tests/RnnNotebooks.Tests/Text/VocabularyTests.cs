using RnnNotebooks.Audio;
using RnnNotebooks.Text;
using TorchSharp;
using static TorchSharp.torch;

namespace RnnNotebooks.Tests.Text;

public class VocabularyTests
{
    [Fact]
    public void OfCharacters_NumbersDistinctCharactersInOrdinalOrder()
    {
        var vocabulary = Vocabulary.OfCharacters("hello world");

        Assert.Equal(" dehlorw", string.Concat(vocabulary.Tokens));
        Assert.Equal(8, vocabulary.Size);
        Assert.Equal(TokenLevel.Char, vocabulary.Level);
        Assert.Equal(vocabulary.Tokens, Vocabulary.OfCharacters("world hello").Tokens);
    }

    [Theory]
    [InlineData("hello world")]
    [InlineData("Ünïcödé\ttabs\nand newlines 🙂 and emoji")]
    public void OfCharacters_EncodeThenDecode_ReturnsTheText(string text)
    {
        var vocabulary = Vocabulary.OfCharacters(text);

        var ids = vocabulary.Encode(text);

        Assert.Equal(text.Length, ids.Length);
        Assert.All(ids, id => Assert.InRange(id, 0, vocabulary.Size - 1));
        Assert.Equal(text, vocabulary.Decode(ids));
    }

    [Fact]
    public void OfCharacters_Encode_UnknownCharacter_ThrowsNamingTheCharacterItsPositionAndTheFix()
    {
        var vocabulary = Vocabulary.OfCharacters("abc");

        var error = Assert.Throws<ArgumentException>(() => vocabulary.Encode("abxc"));

        Assert.Contains("'x'", error.Message);
        Assert.Contains("position 2", error.Message);
        Assert.Contains("unknown:", error.Message);
    }

    [Fact]
    public void OfCharacters_Encode_UnknownCharacter_MapsToTheReplacement_WhenBuiltWithOne()
    {
        var vocabulary = Vocabulary.OfCharacters("abc", unknown: '?');

        Assert.Equal(4, vocabulary.Size);
        Assert.Equal("ab??", vocabulary.Decode(vocabulary.Encode("abxy")));
    }

    [Fact]
    public void OfCharacters_EmptyText_ThrowsWithAClearMessage()
    {
        var error = Assert.Throws<ArgumentException>(() => Vocabulary.OfCharacters(""));

        Assert.Contains("empty", error.Message);
    }

    [Fact]
    public void Decode_IdOutOfRange_Throws()
    {
        var vocabulary = Vocabulary.OfCharacters("abc");

        Assert.Throws<ArgumentOutOfRangeException>(() => vocabulary.Decode([0, 3]));
    }

    [Fact]
    public void OneHot_HasASingleOneAtEachId()
    {
        var vocabulary = Vocabulary.OfCharacters("abcd");

        using var x = vocabulary.OneHot([2, 0, 3], ScalarType.Float64);

        Assert.Equal(new long[] { 3, 4 }, x.shape);
        Assert.Equal(ScalarType.Float64, x.dtype);
        using var expected = tensor(new double[] { 0, 0, 1, 0, 1, 0, 0, 0, 0, 0, 0, 1 }).reshape(3, 4);
        Assert.True(x.allclose(expected, rtol: 0, atol: 0));
    }

    [Fact]
    public void OfWords_PutsUnkAndEosFirst_ThenWordsByFrequency_AndEndsLinesWithEos()
    {
        var vocabulary = Vocabulary.OfWords("b a b\nc b a\n");

        Assert.Equal(["<unk>", "<eos>", "b", "a", "c"], vocabulary.Tokens);
        Assert.Equal(TokenLevel.Word, vocabulary.Level);
        Assert.Equal([2, 3, 2, 1, 4, 2, 3, 1], vocabulary.Encode("b a b\nc b a\n"));
        Assert.Equal([2, 4, 1, 2, 1], vocabulary.Encode(" b c \n\n b  \n"));
    }

    [Fact]
    public void OfWords_Encode_MapsUnseenAndDroppedWordsToUnk()
    {
        var vocabulary = Vocabulary.OfWords("b a b\nc b a\n", maxSize: 4);

        Assert.Equal([0, 3, 2, 1], vocabulary.Encode("zebra a b"));
        Assert.False(vocabulary.Contains("c"));
        Assert.Equal(0, vocabulary.UnknownId);
    }

    [Fact]
    public void OfWords_Decode_WritesEosAsLineBreak()
    {
        var vocabulary = Vocabulary.OfWords("the cat sat\n");

        Assert.Equal("the cat sat\nthe", vocabulary.Decode(vocabulary.Encode("the cat sat\nthe").SkipLast(1)));
    }

    [Fact]
    public void OfWords_Empty_ThrowsSayingWhatToDo()
    {
        var error = Assert.Throws<ArgumentException>(() => Vocabulary.OfWords(" \n "));

        Assert.Contains("not empty", error.Message);
    }

    [Fact]
    public void EncodePrompt_LeavesTheLastLineOpen_AndStartsAnEmptyPromptAfterALineBreak()
    {
        var words = Vocabulary.OfWords("the cat sat\n");
        var chars = Vocabulary.OfCharacters("ab\n");

        int[] theCat = [words.IdOf("the"), words.IdOf("cat")];
        Assert.Equal(theCat, words.EncodePrompt("the cat"));
        Assert.Equal([.. theCat, 1], words.EncodePrompt("the cat\n"));
        Assert.Equal([1], words.EncodePrompt(""));
        Assert.Equal([0], chars.EncodePrompt(""));
        Assert.Throws<ArgumentException>(() => Vocabulary.OfCharacters("ab").EncodePrompt(""));
    }

    static readonly IReadOnlyList<string>[] Corpus = [["the", "cat", "sat"], ["the", "dog", "sat"], ["the", "end"]];

    [Fact]
    public void OfSentences_PutsSpecialsFirst_ThenWordsByFrequency()
    {
        var vocab = Vocabulary.OfSentences(Corpus);
        Assert.Equal(["<pad>", "<bos>", "<eos>", "<unk>", "the", "sat", "cat", "dog", "end"], vocab.Tokens);
        Assert.Equal(Vocabulary.Pad, vocab.IdOf("<pad>"));
        Assert.Equal(Vocabulary.Unk, vocab.IdOf("<unk>"));
    }

    [Fact]
    public void OfSentences_MinCount_MapsRareWordsToUnk()
    {
        var vocab = Vocabulary.OfSentences(Corpus, minCount: 2);
        Assert.Equal(6, vocab.Size);
        Assert.Equal([Vocabulary.Bos, vocab.IdOf("the"), Vocabulary.Unk, vocab.IdOf("sat"), Vocabulary.Eos],
            vocab.EncodeTokens(["the", "cat", "sat"], addBos: true, addEos: true));
    }

    [Fact]
    public void DecodeTokens_StopsAtEos_AndSkipsPadAndBos()
    {
        var vocab = Vocabulary.OfSentences(Corpus);
        var ids = vocab.EncodeTokens(["the", "cat"], addBos: true, addEos: true).Concat([vocab.IdOf("dog"), Vocabulary.Pad]);
        Assert.Equal(["the", "cat"], vocab.DecodeTokens(ids));
    }

    [Fact]
    public void EncodeTokens_FramingWithoutSuchToken_Throws()
    {
        Assert.Throws<InvalidOperationException>(() => Vocabulary.OfWords("a b\n").EncodeTokens(["a"], addBos: true));
    }

    [Fact]
    public void ForCtc_HasBlankSpaceThenTheLetters()
    {
        var chars = Vocabulary.ForCtc(SpokenDigits.Letters);
        Assert.Equal("efghinorstuvwxz", SpokenDigits.Letters);
        Assert.Equal(17, chars.Size);
        Assert.Equal(1, chars.IdOf(' '));
        Assert.Equal("seven three", chars.Decode(chars.Encode("seven three")));
        Assert.Equal("one", chars.Decode([Vocabulary.Blank, .. chars.Encode("on"), Vocabulary.Blank, chars.IdOf('e')]));
        Assert.DoesNotContain(Vocabulary.Blank, chars.Encode("zero one"));
        Assert.Throws<ArgumentException>(() => chars.Encode("ta"));
        Assert.Throws<ArgumentException>(() => Vocabulary.ForCtc("abca"));
        Assert.Throws<ArgumentException>(() => Vocabulary.ForCtc("a b"));
    }

    public static TheoryData<string> Vocabularies() =>
    [
        Vocabulary.OfCharacters("héllo 🙂\n", unknown: '?').ToJson(),
        Vocabulary.OfWords("x y y z\n").ToJson(),
        Vocabulary.OfSentences(Corpus).ToJson(),
        Vocabulary.ForCtc("cba").ToJson(),
    ];

    [Theory]
    [MemberData(nameof(Vocabularies))]
    public void SaveThenLoad_GivesTheSameVocabulary(string json)
    {
        var vocabulary = Vocabulary.FromJson(json);
        var path = Path.GetTempFileName();
        try
        {
            vocabulary.Save(path);
            var loaded = Vocabulary.Load(path);

            Assert.Equal(vocabulary.Tokens, loaded.Tokens);
            Assert.Equal(vocabulary.Level, loaded.Level);
            Assert.Equal(vocabulary.UnknownId, loaded.UnknownId);
            Assert.Equal(json, loaded.ToJson());
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void SaveThenLoad_KeepsHalvesOfSurrogatePairsAndTheUnknown()
    {
        var vocabulary = Vocabulary.FromJson(Vocabulary.OfCharacters("héllo 🙂\n", unknown: '?').ToJson());

        Assert.Equal("?", vocabulary[vocabulary.UnknownId!.Value]);
        Assert.Equal(Vocabulary.OfCharacters("héllo 🙂\n", unknown: '?').Encode("héllo 🙂x"), vocabulary.Encode("héllo 🙂x"));
    }

    [Theory]
    [InlineData("{}")]
    [InlineData("""{"codeUnits": [98, 97]}""")]
    [InlineData("""{"codeUnits": [null]}""")]
    [InlineData("""{"kind": "words", "tokens": ["the", "<unk>"]}""")]
    [InlineData("""{"kind": "sentences", "tokens": ["<pad>", "<bos>", "<eos>", "<unk>", "a", "a"]}""")]
    [InlineData("""{"kind": "letters"}""")]
    [InlineData("""["a", "b"]""")]
    [InlineData("{not json")]
    public void FromJson_NotAVocabulary_ThrowsInvalidData(string json)
    {
        Assert.Throws<InvalidDataException>(() => Vocabulary.FromJson(json));
    }

    [Fact]
    public void Load_BadFile_ThrowsNamingTheFile()
    {
        var path = Path.Combine(Path.GetTempPath(), $"vocab-{Guid.NewGuid():N}.json");
        try
        {
            File.WriteAllText(path, "[\"a\", \"b\"]");
            var error = Assert.Throws<InvalidDataException>(() => Vocabulary.Load(path));
            Assert.Contains(path, error.Message);
        }
        finally
        {
            File.Delete(path);
        }
    }
}
