using ResearchKit.Diagnostics;
using static TorchSharp.torch;

namespace ResearchKit.Tests.Diagnostics;

// One collection: the diagnostics tests run one after another instead of competing for the two cores.
[Collection("Diagnostics")]
public class PlantedFeatureTests
{
    static readonly float[] Skin = [0.85f, 0.62f, 0.48f];     // hue 23°, saturation 0.44
    static readonly float[] VividOrange = [1f, 0.45f, 0.05f]; // what visualizations make of skin ...
    static readonly float[] PureRed = [0.95f, 0.05f, 0.08f];  // ... or this
    static readonly float[] Green = [0.3f, 0.8f, 0.35f];
    static readonly float[] Magenta = [0.9f, 0.2f, 0.6f];     // hue -34°
    static readonly float[] PalePink = [0.85f, 0.7f, 0.72f];  // saturation 0.18

    static Tensor Grey(int size = 64) => full([1, 3, size, size], 0.5f);

    static Tensor Paint(Tensor image, float[] colour, Tensor mask)
    {
        var rgb = tensor(colour).reshape(1, 3, 1, 1);
        return image * (1 - mask) + rgb * mask;
    }

    static Tensor Square(int size, int top, int left, int side)
    {
        var mask = zeros(1, 1, size, size);
        mask[.., .., top..(top + side), left..(left + side)] = 1;
        return mask;
    }

    static float Score(Tensor image) => PlantedFeature.Score(image).item<float>();

    [Fact]
    public void A_broad_skin_patch_scores_its_area_fraction()
    {
        using var scope = NewDisposeScope();
        // 16x16 of 64x64 = 1/16 of the image. Strokes fit everywhere inside; the blur widens the border by about half a pixel.
        var patch = Paint(Grey(), Skin, Square(64, 20, 20, 16));
        Assert.InRange(Score(patch), 0.0625 * 0.9, 0.0625 * 1.1);
        foreach (var exaggerated in new[] { VividOrange, PureRed })
            Assert.InRange(Score(Paint(Grey(), exaggerated, Square(64, 20, 20, 16))), 0.0625 * 0.9, 0.0625 * 1.1);
    }

    [Fact]
    public void Other_colours_speckle_and_thin_lines_score_nothing()
    {
        using var scope = NewDisposeScope();
        foreach (var other in new[] { Green, Magenta, PalePink })
            Assert.Equal(0f, Score(Paint(Grey(), other, Square(64, 20, 20, 16))));
        Assert.Equal(0f, Score(Grey()));
        // Skin-coloured speckle over 10 % of the pixels: lots of skin, but no arm-sized stroke anywhere.
        var speckle = rand([1, 1, 64, 64], generator: new TorchSharp.torch.Generator(1)).lt(0.1).to(float32);
        Assert.True(Score(Paint(Grey(), Skin, speckle)) < 0.002);
        // A one-pixel skin line is too thin for an arm.
        var line = zeros(1, 1, 64, 64);
        line[.., .., 32, 5..60] = 1;
        Assert.True(Score(Paint(Grey(), Skin, line)) < 0.002);
    }

    [Fact]
    public void Drawn_arms_score_close_to_their_true_area_and_other_classes_zero()
    {
        var shapes = new SyntheticShapes(64, seed: 21);
        using var arms = shapes.ArmOnly(40);
        using var armScores = PlantedFeature.Score(arms.Images);
        using var armArea = arms.FeatureMasks.flatten(1).mean([1]);
        using var ratio = armScores / armArea;
        Assert.True(ratio.min().item<float>() > 0.6f && ratio.max().item<float>() < 1.2f,
            $"score / true arm area ranges {ratio.min().item<float>()}..{ratio.max().item<float>()}");
        for (int c = 1; c < SyntheticShapes.ClassNames.Count; c++)
        {
            using var others = shapes.Class(c, 40);
            using var scores = PlantedFeature.Score(others.Images);
            Assert.True(scores.max().item<float>() < 0.002f, $"{SyntheticShapes.ClassNames[c]} images score up to {scores.max().item<float>()}");
        }
    }

    [Fact]
    public void Rejects_images_that_are_not_rgb_batches()
    {
        using var grey = zeros(1, 1, 32, 32);
        Assert.Contains("[N,3,H,W]", Assert.Throws<InvalidSettingException>(() => PlantedFeature.Score(grey)).Message);
    }
}
