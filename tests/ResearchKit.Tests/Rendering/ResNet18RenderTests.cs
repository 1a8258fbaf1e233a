using ResearchKit.Imaging;
using ResearchKit.Models;
using ResearchKit.Objectives;
using ResearchKit.Rendering;
using ResearchKit.Tests.Models;
using static TorchSharp.torch;

namespace ResearchKit.Tests.Rendering;

public class ResNet18RenderTests(ResNet18Fixture fixture) : IClassFixture<ResNet18Fixture>
{
    readonly Model _model = fixture.Model;

    [Fact]
    public void A_channel_visualization_drives_its_channel_harder_than_any_sample_photo_and_noise()
    {
        var objective = Objective.Channel("layer2", 9);
        using var result = Render.Plan(_model, objective).Size(112).Steps(48).Seed(1).Run();
        double rendered = objective.Measure(_model, result.Images)[0];

        double bestPhoto = SampleImages.Names.Max(name =>
        {
            using var photo = SampleImages.Load(name, 112, 112);
            return objective.Measure(_model, photo)[0];
        });
        using var noise = rand([1, 3, 112, 112], generator: new Generator(7));
        double noiseValue = objective.Measure(_model, noise)[0];

        Assert.True(rendered > 2 * bestPhoto, $"visualization {rendered:0.###} vs best sample photo {bestPhoto:0.###}");
        Assert.True(rendered > 2 * noiseValue, $"visualization {rendered:0.###} vs noise {noiseValue:0.###}");
    }

    [Fact]
    public void A_like_image_render_looks_more_like_the_photo_to_the_network_than_other_photos_do()
    {
        using var chelsea = SampleImages.Load("chelsea", 224, 224);
        var objective = Objective.LikeImage(_model, chelsea, name: "chelsea");
        var target = Pooled(chelsea);
        using var result = Render.Plan(_model, objective).Size(112).Steps(48).Seed(2).Run();
        double rendered = Cosine(Pooled(result.Images), target);
        double bestOther = SampleImages.Names.Where(n => n != "chelsea").Max(name =>
        {
            using var photo = SampleImages.Load(name, 224, 224);
            return Cosine(Pooled(photo), target);
        });
        Assert.True(rendered > bestOther, $"rendered cosine {rendered:0.###} vs best other photo {bestOther:0.###}");
    }

    float[] Pooled(Tensor image) => _model.ChannelMeans(image, "layer4");

    static double Cosine(float[] a, float[] b) =>
        a.Zip(b, (x, y) => (double)x * y).Sum() / Math.Sqrt(a.Sum(x => (double)x * x) * b.Sum(y => (double)y * y));
}
