using RnnNotebooks.Translation;
using RnnNotebooks.Tests.Data;

namespace RnnNotebooks.Tests.Translation;

public class TokenizerTests
{
    [Fact]
    public void Tokenize_SplitsPunctuation_AndKeepsElisionsAndHyphens()
    {
        Assert.Equal(["je", "n'ai", "pas", "d'argent", ",", "peut-être", "!"], SentenceTokenizer.Tokenize("Je n’ai pas d'argent, peut-être !"));
        Assert.Equal(["i'm", "here", "."], SentenceTokenizer.Tokenize("I\u2019m  here."));
    }

    [Fact]
    public void Tokenize_TreatsNonBreakingSpacesAsSpaces()
    {
        Assert.Equal(["va", "!"], SentenceTokenizer.Tokenize("Va\u202f!"));
    }

    [Fact]
    public void Detokenize_GluesClosingPunctuation()
    {
        Assert.Equal("i'm here, really (yes).", SentenceTokenizer.Detokenize(["i'm", "here", ",", "really", "(", "yes", ")", "."]));
    }

    [Fact]
    public void SplitPretokenized_UndoesMosesEscapes()
    {
        Assert.Equal(["a", "kid", "'s", "\"", "toy", "&", "ball"], SentenceTokenizer.SplitPretokenized("a kid &apos;s &quot; toy &amp; ball"));
    }
}

public class TranslationDataTests
{
    const string Sample = "Go.\tVa !\nGo.\tMarche.\nHi.\tSalut !\nRun!\tCours !\nRun!\tCourez !\nWho?\tQui ?\n" +
        "I am cold.\tJ'ai froid.\nThis sentence is far too long to keep here.\tCette phrase est bien trop longue pour la garder ici.\n";

    [Fact]
    public void ParseFraEng_FrenchToEnglish_FiltersByLength()
    {
        var splits = TranslationData.ParseFraEng(Sample, new FraEngOptions(MaxLength: 5, ValidationFraction: 0, TestFraction: 0));
        Assert.Equal(7, splits.Train.Count);
        Assert.Contains(splits.Train, p => p.Source.SequenceEqual(["j'ai", "froid", "."]) && p.Target.SequenceEqual(["i", "am", "cold", "."]));
    }

    [Fact]
    public void ParseFraEng_EnglishSource_SwapsSides()
    {
        var splits = TranslationData.ParseFraEng(Sample, new FraEngOptions(Source: "eng", MaxLength: 5, ValidationFraction: 0, TestFraction: 0));
        Assert.Contains(splits.Train, p => p.Source.SequenceEqual(["go", "."]) && p.Target.SequenceEqual(["va", "!"]));
    }

    [Fact]
    public void ParseFraEng_LineWithoutTab_ThrowsWithLineNumber()
    {
        var error = Assert.Throws<InvalidDataException>(() => TranslationData.ParseFraEng("Go.\tVa !\noops\n", new FraEngOptions()));
        Assert.Contains("line 2", error.Message);
    }

    [Fact]
    public void SplitBySource_KeepsEachSourceInOneSplit_AndIsSeeded()
    {
        var pairs = Enumerable.Range(0, 400).Select(i => new SentencePair([$"s{i % 150}"], [$"t{i}"])).ToList();
        var splits = TranslationData.SplitBySource(pairs, 0.1, 0.2, seed: 7);
        var train = splits.Train.Select(p => p.SourceKey).ToHashSet();
        var validation = splits.Validation.Select(p => p.SourceKey).ToHashSet();
        var test = splits.Test.Select(p => p.SourceKey).ToHashSet();
        Assert.Empty(train.Intersect(validation));
        Assert.Empty(train.Intersect(test));
        Assert.Empty(validation.Intersect(test));
        Assert.Equal(400, splits.Train.Count + splits.Validation.Count + splits.Test.Count);
        Assert.Equal(15, validation.Count);
        Assert.Equal(30, test.Count);

        var again = TranslationData.SplitBySource(pairs, 0.1, 0.2, seed: 7);
        Assert.Equal(splits.Test.Select(p => p.SourceKey), again.Test.Select(p => p.SourceKey));
        var other = TranslationData.SplitBySource(pairs, 0.1, 0.2, seed: 8);
        Assert.NotEqual(test, other.Test.Select(p => p.SourceKey).ToHashSet());
    }

    [Fact]
    public void GroupReferences_CollectsEveryTranslationOfASource()
    {
        var splits = TranslationData.ParseFraEng(Sample, new FraEngOptions(Source: "eng", MaxLength: 5, ValidationFraction: 0, TestFraction: 0));
        var grouped = TranslationData.GroupReferences(splits.Train);
        var go = grouped.Single(g => g.Source.SequenceEqual(["go", "."]));
        Assert.Equal(2, go.References.Count);
    }

    [Fact]
    [Trait("Category", "Slow")]
    public void FraEng_RealData_SplitsAreDisjointBySource()
    {
        RequiredData.Dataset("fra-eng");
        var splits = TranslationData.FraEng();
        var train = splits.Train.Select(p => p.SourceKey).ToHashSet();
        Assert.DoesNotContain(splits.Test, p => train.Contains(p.SourceKey));
        Assert.DoesNotContain(splits.Validation, p => train.Contains(p.SourceKey));
        Assert.InRange(splits.Test.Count, splits.Train.Count / 30, splits.Train.Count / 10);
    }

    [Fact]
    public void Multi30k_RealData_HasTheStandardSplits()
    {
        RequiredData.Dataset("multi30k");
        var splits = TranslationData.Multi30k();
        Assert.Equal(1014, splits.Validation.Count);
        Assert.Equal(1000, splits.Test.Count);
        Assert.InRange(splits.Train.Count, 28_900, 29_000);
        Assert.Throws<ArgumentException>(() => TranslationData.Multi30k("de", "xx"));
    }
}
