using RnnNotebooks.Speech;

namespace RnnNotebooks.Tests.Speech;

public class CharacterSetTests
{
    [Fact]
    public void DigitWords_HasBlankSpaceAndFifteenLetters()
    {
        var chars = CharacterSet.DigitWords;
        Assert.Equal("efghinorstuvwxz", chars.Letters);
        Assert.Equal(17, chars.Count);
        Assert.Equal(CharacterSet.Space, chars.LabelOf(' '));
        Assert.Equal("seven three", chars.Decode(chars.Encode("seven three")));
        Assert.DoesNotContain(CharacterSet.Blank, chars.Encode("zero one"));
        Assert.Throws<ArgumentException>(() => chars.Encode("ten"[..1] + "a"));
    }
}
