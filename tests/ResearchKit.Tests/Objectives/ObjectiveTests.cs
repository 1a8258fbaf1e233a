using ResearchKit.Models;
using ResearchKit.Objectives;
using static TorchSharp.torch;

namespace ResearchKit.Tests.Objectives;

public class ObjectiveTests
{
    static Tensor Values(Objective objective, Model model, Tensor image)
    {
        using var pass = model.Pass();
        return objective.Evaluate(new ObjectiveContext(model, pass.Run(image, objective.Taps), image));
    }

    public static TheoryData<string> AllObjectives => [
        "channel", "neuron", "layer", "direction", "direction-cosine", "logit", "diversity", "l2", "tv1", "tv2", "sum",
        "inversion", "caricature", "interpolate", "alignment", "product", "ratio"];

    static Objective Make(string name) => name switch
    {
        "channel" => Objective.Channel("a", 2),
        "neuron" => Objective.Neuron("b", 1, x: 1, y: 2),
        "layer" => Objective.Layer("a"),
        "direction" => Objective.Direction("b", [1f, -2f, 0.5f, 0f, 3f]),
        "direction-cosine" => Objective.DirectionCosine("b", [1f, -2f, 0.5f, 0f, 3f], cosinePower: 2),
        "logit" => Objective.ClassLogit(1),
        "diversity" => Objective.Diversity("a"),
        "l2" => Objective.L2(),
        "tv1" => Objective.TotalVariation(beta: 1),
        "tv2" => Objective.TotalVariation(beta: 2),
        "blur" => Objective.Blur(),
        "inversion" => Objective.Inversion("b", TargetAtB()),
        "caricature" => Objective.Caricature("b", TargetAtB(), cosinePower: 2),
        "interpolate" => Objective.ChannelInterpolate("a", 1, 3),
        "alignment" => Objective.Alignment("b", decay: 1.5),
        "product" => Objective.Channel("a", 1) * (Objective.Neuron("b", 2) - Objective.Layer("a")),
        "ratio" => Objective.Channel("b", 4) / Objective.Layer("a"),
        _ => Objective.Channel("a", 0) - 0.3 * Objective.Diversity("block") + 2 * Objective.Layer("b"),
    };

    // Another image's activation at "b", as the target of the comparison objectives.
    static Tensor TargetAtB()
    {
        using var model = TinyModels.Smooth();
        return Objective.TargetActivations(model, TinyModels.Image(20, batch: 1), "b");
    }

    [Theory]
    [MemberData(nameof(AllObjectives))]
    public void Gradient_matches_finite_differences(string name)
    {
        using var scope = NewDisposeScope();
        using var model = TinyModels.Smooth();
        var objective = Make(name);
        var image = TinyModels.Image(1, batch: 3).requires_grad_();
        Values(objective, model, image).sum().backward();
        var gradient = image.grad!;
        const double eps = 1e-6;
        foreach (var (n, c, y, x) in new[] { (0, 0, 1, 2), (1, 2, 5, 5), (2, 1, 7, 0), (0, 1, 3, 6) })
        {
            double At(double delta)
            {
                using var noGrad = no_grad();
                var shifted = image.detach().clone();
                shifted[n, c, y, x] += delta;
                return Values(objective, model, shifted).sum().item<double>();
            }
            double numeric = (At(eps) - At(-eps)) / (2 * eps);
            double analytic = gradient[n, c, y, x].item<double>();
            Assert.True(Math.Abs(numeric - analytic) <= 1e-6 + 1e-4 * Math.Abs(analytic),
                $"{objective}: pixel ({n},{c},{y},{x}) numeric {numeric} vs analytic {analytic}");
        }
    }

    [Fact]
    public void Blur_pulls_towards_a_blurred_copy_held_constant()
    {
        using var scope = NewDisposeScope();
        using var model = TinyModels.Smooth();
        var image = TinyModels.Image(7).requires_grad_();
        Values(Objective.Blur(), model, image).sum().backward();
        // d/dx Σ_channels mean over positions of 0.5 (x - b)², b constant: (x - b) / (H·W)
        var expected = (image.detach() - ResearchKit.Priors.ImageFilters.GaussianBlur(image.detach(), 1)) / (8 * 8);
        Assert.True(allclose(image.grad!, expected, rtol: 1e-9, atol: 1e-12));
    }

    [Fact]
    public void Composition_is_the_weighted_sum_of_the_terms()
    {
        using var scope = NewDisposeScope();
        using var model = TinyModels.Smooth();
        var image = TinyModels.Image(2);
        Objective a = Objective.Channel("a", 1), b = Objective.Layer("b"), c = Objective.ClassLogit(2);
        var combined = a + 2 * b - c * 0.5;
        var expected = Values(a, model, image) + 2 * Values(b, model, image) - 0.5 * Values(c, model, image);
        Assert.True(allclose(Values(combined, model, image), expected));
        Assert.Equal("channel a:1 + 2 * layer b - 0.5 * logit 2", combined.Description);
        Assert.Equal(["a", "b", "logits"], combined.Taps);
    }

    [Fact]
    public void Channel_and_neuron_equal_hand_computed_values()
    {
        using var scope = NewDisposeScope();
        using var model = TinyModels.Smooth();
        var image = TinyModels.Image(3);
        var a = model.Run(image, "a");
        Assert.True(allclose(Values(Objective.Channel("a", 3), model, image), a[.., 3].mean([1, 2])));
        Assert.True(allclose(Values(Objective.Neuron("a", 3), model, image), a[.., 3, 4, 4]));
        Assert.True(allclose(Values(Objective.Layer("a"), model, image), a.pow(2).mean([1, 2, 3])));
    }

    [Fact]
    public void Shorthand_parses_layer_channel_and_layer()
    {
        Objective channel = "layer3:7";
        Assert.Equal("channel layer3:7", channel.Description);
        Objective layer = "layer3";
        Assert.Equal("layer layer3", layer.Description);
        Assert.Equal("logit 5", Objective.Parse("logit:5").Description);
    }

    [Fact]
    public void Diversity_of_identical_items_is_the_share_of_others()
    {
        using var scope = NewDisposeScope();
        using var model = TinyModels.Smooth();
        var image = TinyModels.Image(4, batch: 1).expand(4, -1, -1, -1);
        var values = Values(Objective.Diversity("a"), model, image);
        Assert.True(allclose(values, full(4, 3.0 / 4, dtype: float64)));
    }

    [Fact]
    public void Subtracting_diversity_pushes_items_apart()
    {
        // Objectives are maximized: one ascent step on -Diversity must make two items' Gram matrices less alike.
        using var scope = NewDisposeScope();
        using var model = TinyModels.Smooth();
        var objective = -1.0 * Objective.Diversity("a");
        var image = cat([TinyModels.Image(2, batch: 1), TinyModels.Image(3, batch: 1)]).requires_grad_();
        var before = Values(objective, model, image);
        before.sum().backward();
        using var noGrad = no_grad();
        var stepped = image + 1e-2 * image.grad! / image.grad!.abs().max();
        Assert.True(Values(objective, model, stepped).sum().item<double>() > before.sum().item<double>());
        Assert.True(Objective.Diversity("a").Measure(model, stepped).Average() < Objective.Diversity("a").Measure(model, image.detach()).Average());
    }

    [Fact]
    public void Batch_item_objectives_apply_to_one_item_only()
    {
        using var scope = NewDisposeScope();
        using var model = TinyModels.Smooth();
        var image = TinyModels.Image(5, batch: 3);
        var values = Values(Objective.Channel("a", 0, batch: 1), model, image).data<double>().ToArray();
        Assert.Equal(0, values[0]);
        Assert.NotEqual(0, values[1]);
        Assert.Equal(0, values[2]);
    }

    [Fact]
    public void Bad_channel_and_label_say_what_exists()
    {
        using var scope = NewDisposeScope();
        using var model = TinyModels.Smooth();
        var error = Assert.Throws<ChannelOutOfRangeException>(() => Values(Objective.Channel("a", 9), model, TinyModels.Image(6)));
        Assert.Contains("0..3", error.Message);
        model.Labels = ["cat", "dog", "dumbbell"];
        var label = Assert.Throws<InvalidSettingException>(() => Values(Objective.ClassLogit("zebra"), model, TinyModels.Image(6)));
        Assert.Contains("dumbbell", label.Message);
        Assert.True(allclose(Values(Objective.ClassLogit("DUMBBELL"), model, TinyModels.Image(6)), Values(Objective.ClassLogit(2), model, TinyModels.Image(6))));
    }

    [Fact]
    public void Penalties_match_hand_computed_values()
    {
        using var scope = NewDisposeScope();
        // Grey except one channel of one pixel raised by B = 80/255; 4×4 = 16 positions.
        var image = full(2, 3, 4, 4, 0.5, dtype: ScalarType.Float64);
        image[1, 2, 1, 1] = tensor(0.5 + ResearchKit.Priors.NaturalImageScale.PixelRange);

        Assert.Equal(new[] { 0.0, 2.0 / 16 }, (2 * Objective.AlphaNorm(alpha: 6)).EvaluateImage(image).data<double>().ToArray(), new DoubleTolerance(1e-12));
        double b2 = ResearchKit.Priors.NaturalImageScale.PixelRange * ResearchKit.Priors.NaturalImageScale.PixelRange;
        Assert.Equal(new[] { 0.0, 3 * b2 / 16 }, (3 * Objective.L2()).EvaluateImage(image).data<double>().ToArray(), new DoubleTolerance(1e-12));

        // TV: the raised pixel differs from its right and lower neighbours (positions (1,1): dx²+dy² = 2B²) and is
        // the right/lower neighbour of (1,0) and (0,1) (B² each), over 3×3 positions; normalized by V² = (B/6.5)².
        double expectedTv = 4 * b2 / 9 / Math.Pow(ResearchKit.Priors.NaturalImageScale.NeighbourDifference, 2);
        Assert.Equal(expectedTv, Objective.TotalVariation(beta: 2).EvaluateImage(image)[1].item<double>(), 9);
        Assert.Equal(4 * 6.5 * 6.5 / 9, expectedTv, 9);
    }
}
