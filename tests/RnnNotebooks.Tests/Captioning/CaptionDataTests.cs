using RnnNotebooks.Captioning;
using RnnNotebooks.Data;
using RnnNotebooks.Tests.Data;

namespace RnnNotebooks.Tests.Captioning;

/// <summary>The real Flickr8k: the official split, and the photos it leaves out.</summary>
public sealed class CaptionDataTests
{
    [Fact]
    public void Flickr8k_OfficialSplit_AndEveryOtherCaptionedPhoto()
    {
        RequiredData.Dataset("flickr8k");
        var data = CaptionData.LoadFlickr8k();

        Assert.Equal((6000, 1000, 1000), (data.Train.Count, data.Dev.Count, data.Test.Count));
        Assert.NotNull(data.Unsplit);
        Assert.Equal(91, data.Unsplit.Count);                       // 8,091 captioned photos in all
        var all = data.AllImages;
        Assert.Equal(8091, all.Count);
        Assert.Equal(all.Count, all.Distinct().Count());            // no photo in two places
        Assert.All(data.Unsplit, i => Assert.Equal(5, i.Captions.Count));
        Assert.All(data.Unsplit.Take(5), i => Assert.True(File.Exists(Path.Combine(data.ImageDirectory, i.Image)), i.Image));
        // Split order first: the training photos lead, the unsplit ones come last.
        Assert.Equal(data.Train[0].Image, all[0]);
        Assert.Equal(data.Unsplit[^1].Image, all[^1]);

        var quick = data.Take(3, 2, 1);
        Assert.Equal(6, quick.AllImages.Count);                     // quick runs cache only what they use
    }
}
