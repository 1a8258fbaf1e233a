using ResearchKit.Imaging;
using ResearchKit.Models;
using ResearchKit.Objectives;
using ResearchKit.Parameterizations;
using ResearchKit.Rendering;
using ResearchKit.Tests.Models;
using static TorchSharp.torch;

namespace ResearchKit.Tests.Rendering;

/// <summary>Feature inversion, caricatures and neuron interpolation rendered on ResNet-18, judged by measurable properties.</summary>
public class ToolboxRenderTests(ResNet18Fixture fixture) : IClassFixture<ResNet18Fixture>
{
    readonly Model _model = fixture.Model;

    [Fact]
    public void An_inversion_at_an_early_layer_comes_closer_to_the_photo_than_its_start()
    {
        using var scope = NewDisposeScope();
        var photo = ImageOps.CenterCrop(ImageOps.ResizeShorterSide(SampleImages.Load("chelsea"), 64), 64, 64).contiguous();
        var plan = Render.Inversion(_model, photo, "layer1", "chelsea").Steps(40).Seed(3);
        using var parameterization = plan.CreateParameterization(new ImageShape(1, 3, 64, 64), plan.SeedValue);
        var start = parameterization.Image().detach();
        using var result = plan.Run();

        var distance = Objective.Inversion(_model, photo, "layer1");
        double before = distance.Measure(_model, start)[0], after = distance.Measure(_model, result.Images)[0];
        Assert.True(after > before + 0.2, $"−‖Φ(x)−Φ₀‖²/‖Φ₀‖²: start {before:0.###}, after 40 steps {after:0.###}");
        double correlationBefore = Correlation(start, photo), correlationAfter = Correlation(result.Images, photo);
        Assert.True(correlationAfter > 0.4 && correlationAfter > correlationBefore + 0.3,
            $"pixel correlation with the photo: start {correlationBefore:0.###}, after {correlationAfter:0.###}");
        Assert.Equal("MahendranVedaldi2015", plan.PresetName);
        Assert.Equal((64, 64), (plan.Height, plan.Width));
    }

    [Fact]
    public void A_caricature_sees_like_the_photo_at_its_layer_but_is_not_the_photo()
    {
        using var scope = NewDisposeScope();
        Tensor Fit(string name) => ImageOps.CenterCrop(ImageOps.ResizeShorterSide(SampleImages.Load(name), 96), 96, 96).contiguous();
        var photo = Fit("chelsea");
        var unrelated = Fit("rocket");
        using var result = Render.Caricature(_model, photo, "layer2", name: "chelsea").Steps(48).Seed(5).Run();
        var target = Objective.TargetActivations(_model, photo, "layer2").flatten();
        double Cosine(Tensor image)
        {
            var a = _model.Run(image, "layer2").flatten();
            return (a.dot(target) / (a.norm() * target.norm())).item<float>();
        }
        double caricature = Cosine(result.Images), other = Cosine(unrelated);
        Assert.True(caricature > other + 0.2, $"cosine with the photo's layer2 map: caricature {caricature:0.###}, an unrelated photo {other:0.###}");
        double pixels = Correlation(result.Images, photo);
        Assert.True(pixels < 0.9, $"the caricature's pixels correlate {pixels:0.###} with the photo's: it copied the photo");
    }

    [Fact]
    public void Channel_interpolation_moves_the_batch_from_one_channel_to_the_other()
    {
        const int a = 9, b = 5;
        var plan = Render.Plan(_model, Objective.ChannelInterpolate("layer2", a, b)).Size(64).Batch(3).Steps(32).Seed(4);
        using var result = plan.Run();
        var first = Objective.Channel("layer2", a).Measure(_model, result.Images);
        var second = Objective.Channel("layer2", b).Measure(_model, result.Images);
        Assert.True(first[0] > first[2], $"channel {a}: item 0 {first[0]:0.###}, item 2 {first[2]:0.###}");
        Assert.True(second[2] > second[0], $"channel {b}: item 0 {second[0]:0.###}, item 2 {second[2]:0.###}");
    }

    static double Correlation(Tensor x, Tensor y)
    {
        var (a, b) = (x.flatten().to_type(ScalarType.Float64), y.flatten().to_type(ScalarType.Float64));
        a = a - a.mean();
        b = b - b.mean();
        return ((a * b).sum() / (a.norm() * b.norm())).item<double>();
    }
}
