using RnnNotebooks.Text;

namespace RnnNotebooks.Tests.Text;

public class WordVocabularyTests
{
    [Fact]
    public void Tokenize_EndsEveryNonEmptyLineWithEos()
    {
        var tokens = WordVocabulary.Tokenize(" the cat \n\n sat  down\n");

        Assert.Equal(["the", "cat", "<eos>", "sat", "down", "<eos>"], tokens);
    }

    [Fact]
    public void FromText_PutsUnkAndEosFirst_ThenWordsByFrequency()
    {
        var vocabulary = WordVocabulary.FromText("b a b\nc b a\n");

        Assert.Equal(["<unk>", "<eos>", "b", "a", "c"], vocabulary.Words);
        Assert.Equal([2, 3, 2, 1, 4, 2, 3, 1], vocabulary.Encode("b a b\nc b a\n"));
    }

    [Fact]
    public void Encode_MapsUnseenAndDroppedWordsToUnk()
    {
        var vocabulary = WordVocabulary.FromText("b a b\nc b a\n", maxSize: 4);

        Assert.Equal([0, 3, 2, 1], vocabulary.Encode("zebra a b"));
        Assert.False(vocabulary.Contains("c"));
    }

    [Fact]
    public void Decode_WritesEosAsLineBreak()
    {
        var vocabulary = WordVocabulary.FromText("the cat sat\n");

        Assert.Equal("the cat sat\nthe", vocabulary.Decode(vocabulary.Encode("the cat sat\nthe").SkipLast(1)));
    }

    [Fact]
    public void Json_RoundTrips()
    {
        var vocabulary = WordVocabulary.FromText("x y y z\n");

        var copy = WordVocabulary.FromJson(vocabulary.ToJson());

        Assert.Equal(vocabulary.Words, copy.Words);
    }

    [Fact]
    public void FromText_Empty_ThrowsSayingWhatToDo()
    {
        var error = Assert.Throws<ArgumentException>(() => WordVocabulary.FromText(" \n "));

        Assert.Contains("not empty", error.Message);
    }

    [Fact]
    public void Tokenizer_Json_RoundTripsBothLevels()
    {
        var chars = Tokenizer.FromText("hello", TokenLevel.Char);
        var words = Tokenizer.FromText("hello world\n", TokenLevel.Word);

        var charCopy = Tokenizer.FromJson(chars.ToJson());
        var wordCopy = Tokenizer.FromJson(words.ToJson());

        Assert.Equal(TokenLevel.Char, charCopy.Level);
        Assert.Equal(chars.Encode("hole"), charCopy.Encode("hole"));
        Assert.Equal(TokenLevel.Word, wordCopy.Level);
        Assert.Equal(words.Encode("world hello"), wordCopy.Encode("world hello"));
    }
}
