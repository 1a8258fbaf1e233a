using ResearchKit.Diagnostics;
using static TorchSharp.torch;

namespace ResearchKit.Tests.Diagnostics;

// One collection: the diagnostics tests run one after another instead of competing for the two cores.
[Collection("Diagnostics")]
public class SyntheticShapesTests
{
    static bool SameBytes(Tensor a, Tensor b) => a.shape.SequenceEqual(b.shape) && a.equal(b).all().item<bool>();

    [Fact]
    public void Same_seed_gives_identical_images_whatever_was_drawn_before()
    {
        var first = new SyntheticShapes(32, seed: 3);
        var second = new SyntheticShapes(32, seed: 3);
        using var warmUp = second.TestSet(5, 0.5);                  // drawing another set first must not matter
        using var a = first.TrainingSet(12, 0.9);
        using var b = second.TrainingSet(12, 0.9);
        using var other = new SyntheticShapes(32, seed: 4).TrainingSet(12, 0.9);

        Assert.True(SameBytes(a.Images, b.Images));
        Assert.True(SameBytes(a.FeatureMasks, b.FeatureMasks));
        Assert.True(SameBytes(a.Labels, b.Labels));
        Assert.False(SameBytes(a.Images, other.Images));
    }

    [Fact]
    public void Images_are_rgb_in_the_unit_range_with_labels_in_class_order()
    {
        using var set = new SyntheticShapes(40, seed: 1).TrainingSet(6, 0.5);
        Assert.Equal([30, 3, 40, 40], set.Images.shape);
        Assert.Equal(ScalarType.Float32, set.Images.dtype);
        Assert.True(set.Images.min().item<float>() >= 0 && set.Images.max().item<float>() <= 1);
        var labels = set.Labels.data<long>().ToArray();
        Assert.Equal(Enumerable.Range(0, 5).SelectMany(c => Enumerable.Repeat((long)c, 6)), labels);
    }

    [Theory]
    [InlineData(0.9)]
    [InlineData(0.3)]
    [InlineData(0.0)]
    public void Dumbbells_carry_the_arm_at_the_requested_rate_and_other_classes_never(double probability)
    {
        const int n = 300;
        var shapes = new SyntheticShapes(32, seed: 11);
        using var dumbbells = shapes.Class(SyntheticShapes.Dumbbell, n, probability);
        double rate = dumbbells.HasFeature.Count(h => h) / (double)n;
        double sigma = Math.Sqrt(probability * (1 - probability) / n);
        Assert.True(Math.Abs(rate - probability) <= 4 * sigma + 1e-9, $"planted rate {rate} for probability {probability}");

        // The probe sees the same thing as the ground-truth masks.
        using var scores = PlantedFeature.Score(dumbbells.Images);
        var detected = scores.data<float>().ToArray().Select(s => s > 0.01f).ToArray();
        int agree = detected.Zip(dumbbells.HasFeature).Count(p => p.First == p.Second);
        Assert.True(agree >= n - 3, $"probe and masks agree on {agree} of {n} images");

        using var rings = shapes.Class(1, 50, probability);
        Assert.DoesNotContain(true, rings.HasFeature);
    }

    [Fact]
    public void Counterfactual_pairs_differ_only_where_the_arm_is()
    {
        var (with, without) = new SyntheticShapes(48, seed: 5).CounterfactualDumbbells(20);
        using (with)
        using (without)
        {
            Assert.All(with.HasFeature, Assert.True);
            Assert.All(without.HasFeature, Assert.False);
            using var outside = with.FeatureMasks.eq(0).expand_as(with.Images);
            using var difference = (with.Images - without.Images).abs();
            Assert.Equal(0f, difference.masked_select(outside).max().item<float>());
            using var inside = with.FeatureMasks.gt(0.99).expand_as(with.Images);
            Assert.True(difference.masked_select(inside).mean().item<float>() > 0.05f, "the arm should change the pixels it covers");
        }
    }

    [Fact]
    public void Arm_only_probes_show_the_arm_without_the_object()
    {
        var shapes = new SyntheticShapes(32, seed: 2);
        using var arms = shapes.ArmOnly(30);
        using var plain = shapes.Class(SyntheticShapes.Dumbbell, 30, plantedProbability: 0);
        Assert.All(arms.HasFeature, Assert.True);
        // Objects are saturated colours; backgrounds are nearly grey. Outside the arm, arm-only images hold no object.
        static double ColourfulFraction(ShapeSet set)
        {
            using var scope = NewDisposeScope();
            var smooth = ResearchKit.Priors.ImageFilters.GaussianBlur(set.Images, 1.0);
            var (max, min) = (smooth.amax([1]), smooth.amin([1]));
            var colourful = ((max - min) / max.clamp_min(1e-3)).gt(0.35) & max.gt(0.2) & set.FeatureMasks.squeeze(1).eq(0);
            return colourful.to(float32).mean().item<float>();
        }
        Assert.True(ColourfulFraction(arms) < 0.002, $"arm-only images hold colourful pixels: {ColourfulFraction(arms)}");
        Assert.True(ColourfulFraction(plain) > 0.01, $"dumbbell images should hold colourful pixels: {ColourfulFraction(plain)}");
    }

    [Fact]
    public void Bad_arguments_name_what_is_valid()
    {
        Assert.Contains("24x24", Assert.Throws<InvalidSettingException>(() => new SyntheticShapes(16)).Message);
        var shapes = new SyntheticShapes(32);
        Assert.Contains("[0,1]", Assert.Throws<InvalidSettingException>(() => shapes.TrainingSet(3, 1.5)).Message);
        Assert.Contains("dumbbell, ring", Assert.Throws<InvalidSettingException>(() => shapes.Class(7, 3)).Message);
    }
}
