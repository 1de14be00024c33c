using RnnNotebooks.Text;
using TorchSharp;
using static TorchSharp.torch;

namespace RnnNotebooks.Tests.Text;

public class CharVocabularyTests
{
    [Fact]
    public void FromText_NumbersDistinctCharactersInOrdinalOrder()
    {
        var vocabulary = CharVocabulary.FromText("hello world");

        Assert.Equal(" dehlorw", new string([.. vocabulary.Chars]));
        Assert.Equal(8, vocabulary.Size);
        Assert.Equal(vocabulary.Chars, CharVocabulary.FromText("world hello").Chars);
    }

    [Theory]
    [InlineData("hello world")]
    [InlineData("Ünïcödé\ttabs\nand newlines 🙂 and emoji")]
    public void EncodeThenDecode_ReturnsTheText(string text)
    {
        var vocabulary = CharVocabulary.FromText(text);

        var ids = vocabulary.Encode(text);

        Assert.Equal(text.Length, ids.Length);
        Assert.All(ids, id => Assert.InRange(id, 0, vocabulary.Size - 1));
        Assert.Equal(text, vocabulary.Decode(ids));
    }

    [Fact]
    public void Encode_UnknownCharacter_ThrowsNamingTheCharacterItsPositionAndTheFix()
    {
        var vocabulary = CharVocabulary.FromText("abc");

        var error = Assert.Throws<ArgumentException>(() => vocabulary.Encode("abxc"));

        Assert.Contains("'x'", error.Message);
        Assert.Contains("position 2", error.Message);
        Assert.Contains("unknown:", error.Message);
    }

    [Fact]
    public void Encode_UnknownCharacter_MapsToTheReplacement_WhenBuiltWithOne()
    {
        var vocabulary = CharVocabulary.FromText("abc", unknown: '?');

        Assert.Equal(4, vocabulary.Size);
        Assert.Equal("ab??", vocabulary.Decode(vocabulary.Encode("abxy")));
    }

    [Fact]
    public void FromText_EmptyText_ThrowsWithAClearMessage()
    {
        var error = Assert.Throws<ArgumentException>(() => CharVocabulary.FromText(""));

        Assert.Contains("empty", error.Message);
    }

    [Fact]
    public void Decode_IdOutOfRange_Throws()
    {
        var vocabulary = CharVocabulary.FromText("abc");

        Assert.Throws<ArgumentOutOfRangeException>(() => vocabulary.Decode([0, 3]));
    }

    [Fact]
    public void SaveThenLoad_GivesTheSameVocabulary()
    {
        var vocabulary = CharVocabulary.FromText("héllo 🙂\n", unknown: '?');
        var path = Path.GetTempFileName();
        try
        {
            vocabulary.Save(path);
            var loaded = CharVocabulary.Load(path);

            Assert.Equal(vocabulary.Chars, loaded.Chars);
            Assert.Equal('?', loaded.Unknown);
            Assert.Equal(vocabulary.Encode("héllo 🙂x"), loaded.Encode("héllo 🙂x"));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void FromJson_NotAVocabulary_ThrowsInvalidData()
    {
        Assert.Throws<InvalidDataException>(() => CharVocabulary.FromJson("{}"));
        Assert.Throws<InvalidDataException>(() => CharVocabulary.FromJson("""{"codeUnits": [98, 97]}"""));
    }

    [Fact]
    public void OneHot_HasASingleOneAtEachId()
    {
        var vocabulary = CharVocabulary.FromText("abcd");

        using var x = vocabulary.OneHot([2, 0, 3], ScalarType.Float64);

        Assert.Equal(new long[] { 3, 4 }, x.shape);
        Assert.Equal(ScalarType.Float64, x.dtype);
        using var expected = tensor(new double[] { 0, 0, 1, 0, 1, 0, 0, 0, 0, 0, 0, 1 }).reshape(3, 4);
        Assert.True(x.allclose(expected, rtol: 0, atol: 0));
    }
}
