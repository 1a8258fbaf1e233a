using ResearchKit.Imaging;
using ResearchKit.Models;
using ResearchKit.Objectives;
using TorchSharp;
using static TorchSharp.torch;
using Attr = ResearchKit.Attribution.Attribution;

namespace ResearchKit.Tests.Attribution;

public sealed class AttributionTests : IDisposable
{
    readonly string _folder = Directory.CreateTempSubdirectory("rk-attr-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    static SequentialModel ConvModel()
    {
        manual_seed(3);
        return new SequentialModel("conv3", [("conv", nn.Conv2d(3, 4, 3, padding: 1)), ("same", nn.Identity())], 16, 16);
    }

    [Fact]
    public void Saliency_of_a_neuron_is_confined_to_its_receptive_field()
    {
        using var model = ConvModel();
        using var image = rand([1, 3, 16, 16], generator: new Generator(1));
        using var map = Attr.Saliency(model, image, Objective.Neuron("conv", 2, x: 5, y: 9));
        Assert.Equal([16, 16], map.shape);
        for (int y = 0; y < 16; y++)
            for (int x = 0; x < 16; x++)
            {
                bool inside = Math.Abs(x - 5) <= 1 && Math.Abs(y - 9) <= 1;
                if (!inside) Assert.Equal(0f, map[y, x].item<float>());
            }
        Assert.Equal(1f, map.max().item<float>());
    }

    [Fact]
    public void Grad_cam_of_a_channel_mean_is_that_channel_rectified()
    {
        // Objective = mean of channel 0 of a layer: its channel weights are (1/HW, 0, 0, 0), so the map is
        // relu(that channel) normalized to [0,1].
        using var model = ConvModel();
        using var image = rand([1, 3, 16, 16], generator: new Generator(2));
        using var cam = Attr.GradCam(model, image, Objective.Channel("same", 0), "same");
        var channel = nn.functional.relu(model.Run(image, "same")[0, 0]).detach();
        var expected = (channel - channel.min()) / (channel.max() - channel.min());
        Assert.True(allclose(cam, expected, atol: 1e-5));
    }

    [Fact]
    public void Dataset_examples_rank_images_by_the_channel_and_crop_at_the_peak()
    {
        using var model = new SequentialModel("identity", [("pixels", nn.Identity())], 32, 32);
        // Three images: dark, mid, and dark with one bright red square at (20..24, 8..12).
        ImageIO.Save(full([1, 3, 32, 32], 0.1f), Path.Combine(_folder, "dark.png"));
        ImageIO.Save(full([1, 3, 32, 32], 0.5f), Path.Combine(_folder, "mid.png"));
        var spot = full([1, 3, 32, 32], 0.1f);
        spot[0, 0, 8..12, 20..24] = tensor(1f);
        ImageIO.Save(spot, Path.Combine(_folder, "spot.png"));
        var examples = ResearchKit.Attribution.DatasetExamples.Find(model, _folder, "pixels", 0, top: 2);
        try
        {
            Assert.Equal(["spot.png", "mid.png"], examples.Select(e => Path.GetFileName(e.File)));
            Assert.Equal(1.0, examples[0].Activation, 2);
            Assert.InRange(examples[0].X, 19, 20);
            Assert.InRange(examples[0].Y, 7, 8);
        }
        finally
        {
            foreach (var e in examples) e.Dispose();
        }
    }
}
