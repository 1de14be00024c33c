using RnnNotebooks.Metrics;

namespace RnnNotebooks.Tests.Metrics;

public class EditDistanceTests
{
    [Fact]
    public void Cer_KittenToSitting_TwoSubstitutionsOneInsertion()
    {
        var counts = EditDistance.Cer("kitten", "sitting");
        Assert.Equal(new ErrorCounts(2, 1, 0, 6), counts);
        Assert.Equal(3.0 / 6, counts.Rate, 12);
    }

    [Fact]
    public void Wer_CountsWordsNotCharacters()
    {
        Assert.Equal(new ErrorCounts(0, 0, 1, 3), EditDistance.Wer("seven three nine", "seven nine"));
        Assert.Equal(new ErrorCounts(1, 1, 0, 2), EditDistance.Wer("one two", "one  too two"[..7] + " four"));
        Assert.Equal(0.0, EditDistance.Wer(" one  two ", "one two").Rate);
    }

    [Fact]
    public void Cer_SpacesAreCharacters()
    {
        var counts = EditDistance.Cer("one two", "onetwo");
        Assert.Equal(new ErrorCounts(0, 0, 1, 7), counts);
    }

    [Fact]
    public void AllDeletions_Are100Percent()
    {
        Assert.Equal(1.0, EditDistance.Cer("three", "").Rate);
        Assert.Equal(1.0, EditDistance.Wer("one two three", "").Rate);
    }

    [Fact]
    public void EmptyReference_RateIsInsertionsOverOne()
    {
        Assert.Equal(0.0, EditDistance.Cer("", "").Rate);
        Assert.Equal(new ErrorCounts(0, 3, 0, 0), EditDistance.Cer("", "one"));
        Assert.Equal(3.0, EditDistance.Cer("", "one").Rate);
        Assert.Equal(1.0, EditDistance.Wer("", "one").Rate);
    }

    [Fact]
    public void CorpusRate_IsTotalErrorsOverTotalLength()
    {
        var total = EditDistance.Cer("ab", "ab") + EditDistance.Cer("abcdefgh", "abcdefgx") + EditDistance.Cer("", "z");
        Assert.Equal(new ErrorCounts(1, 1, 0, 10), total);
        Assert.Equal(0.2, total.Rate, 12);
    }

    [Fact]
    public void Alignment_ShowsEachEdit()
    {
        var a = EditDistance.AlignWords("seven three nine", "seven tree nine one");
        Assert.Equal([EditKind.Match, EditKind.Substitution, EditKind.Match, EditKind.Insertion], a.Steps.Select(s => s.Kind));
        Assert.Equal(
            "REF: seven three nine ***\n" +
            "HYP: seven tree  nine one\n" +
            "           S          I",
            a.ToDisplay());
    }
}
