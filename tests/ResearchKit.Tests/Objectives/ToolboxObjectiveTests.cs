using ResearchKit.Models;
using ResearchKit.Objectives;
using static TorchSharp.torch;

namespace ResearchKit.Tests.Objectives;

/// <summary>Feature inversion, caricature, neuron interactions, products and ratios against hand-computed values.</summary>
public class ToolboxObjectiveTests
{
    // Evaluates an objective on activations made by hand at tap "x" (no network).
    static double[] On(Objective objective, Tensor activations)
    {
        var image = zeros(activations.shape[0], 3, 8, 8, dtype: float64);
        var context = new ObjectiveContext(null!, new Dictionary<string, Tensor> { ["x"] = activations }, image);
        return objective.Evaluate(context).data<double>().ToArray();
    }

    static Tensor Values(Objective objective, Model model, Tensor image)
    {
        using var pass = model.Pass();
        return objective.Evaluate(new ObjectiveContext(model, pass.Run(image, objective.Taps), image));
    }

    // One image's target at "x": 2 channels × 1 × 2 positions, ‖t‖² = 1 + 4 + 9 + 16 = 30.
    static Tensor Target() => tensor(new double[] { 1, 2, 3, 4 }).reshape(1, 2, 1, 2);

    [Fact]
    public void Inversion_is_zero_at_the_target_and_minus_the_normalized_squared_distance_elsewhere()
    {
        using var scope = NewDisposeScope();
        var t = Target();
        var batch = cat([t, zeros_like(t), t + 1]);
        Assert.Equal(new[] { 0, -1, -4.0 / 30 }, On(Objective.Inversion("x", t), batch), new DoubleTolerance(1e-12));
    }

    [Fact]
    public void Caricature_is_one_at_the_target_and_the_dot_product_times_the_clamped_cosine_to_the_power()
    {
        using var scope = NewDisposeScope();
        var t = Target();
        var one = zeros_like(t);
        one[0, 0, 0, 0] = tensor(1.0);
        // a = t: 1·1²; a = 2t: 2·1²; a = e₀: dot 1/30, cosine 1/√30 → (1/30)·(1/30); a = −e₀: cosine clamped to 0.1.
        var values = On(Objective.Caricature("x", t, cosinePower: 2), cat([t, 2 * t, one, -one]));
        Assert.Equal(new[] { 1, 2, 1.0 / 900, -1.0 / 30 * 0.01 }, values, new DoubleTolerance(1e-9));
        // Power 0 is the plain normalized dot product (Lucid's feature_inversion setting).
        Assert.Equal(new[] { 1.0 / 30 }, On(Objective.Caricature("x", t, cosinePower: 0), one), new DoubleTolerance(1e-12));
    }

    [Fact]
    public void The_target_is_brought_to_the_size_of_the_activations()
    {
        using var scope = NewDisposeScope();
        // Constant channels at 2×2 stay the same constants at 5×3 after a bilinear resize.
        var target = tensor(new double[] { 1, 2 }).reshape(1, 2, 1, 1).expand(1, 2, 2, 2);
        var larger = tensor(new double[] { 1, 2 }).reshape(1, 2, 1, 1).expand(1, 2, 5, 3);
        Assert.Equal(0, On(Objective.Inversion("x", target), larger)[0], 12);
        Assert.Equal(1, On(Objective.Caricature("x", target), larger)[0], 9);
        var wrongChannels = zeros(1, 3, 2, 2, dtype: float64);
        var error = Assert.Throws<InvalidSettingException>(() => On(Objective.Inversion("x", target), wrongChannels));
        Assert.Contains("[1,3,2,2]", error.Message);
    }

    [Fact]
    public void The_target_of_a_photo_is_its_activation_so_the_photo_itself_scores_zero_and_one()
    {
        using var scope = NewDisposeScope();
        using var model = TinyModels.Smooth();
        var photo = TinyModels.Image(11, batch: 1);
        Assert.Equal(0, Objective.Inversion(model, photo, "b").Measure(model, photo)[0], 12);
        Assert.Equal(1, Objective.Caricature(model, photo, "b", cosinePower: 3).Measure(model, photo)[0], 6);
        Assert.True(Objective.Inversion(model, photo, "b").Measure(model, TinyModels.Image(12, batch: 1))[0] < -0.01);
    }

    [Fact]
    public void Channel_interpolation_weighs_the_channels_by_the_place_in_the_batch()
    {
        using var scope = NewDisposeScope();
        // Channel 0 averages to 1 and channel 2 to 10 in every item; item i of 5 weighs them (1 − i/4, i/4).
        var activations = zeros(5, 3, 2, 2, dtype: float64);
        activations[.., 0] = tensor(1.0);
        activations[.., 1] = tensor(100.0);
        activations[.., 2] = tensor(10.0);
        Assert.Equal(new[] { 1, 3.25, 5.5, 7.75, 10 }, On(Objective.ChannelInterpolate("x", 0, 2), activations), new DoubleTolerance(1e-12));
        Assert.Equal(new[] { 1.0 }, On(Objective.ChannelInterpolate("x", 0, 2), activations[..1]), new DoubleTolerance(1e-12));
        Assert.Equal([0, 2], Objective.ChannelInterpolate("x", 2, 0).Terms[0].Term.ChannelsRead);
    }

    [Fact]
    public void Alignment_splits_each_pairs_decayed_distance_between_the_two_items()
    {
        using var scope = NewDisposeScope();
        // Items are constant maps of 0, 1, 3: mean squared differences 1 (0-1), 4 (1-2) at distance 1, 9 (0-2) at distance 2.
        var activations = tensor(new double[] { 0, 1, 3 }).reshape(3, 1, 1, 1).expand(3, 2, 2, 2);
        var values = On(Objective.Alignment("x", decay: 2), activations);
        double pair01 = 1 / 2.0, pair12 = 4 / 2.0, pair02 = 9 / 4.0;
        Assert.Equal(new[] { -(pair01 + pair02) / 2, -(pair01 + pair12) / 2, -(pair12 + pair02) / 2 }, values, new DoubleTolerance(1e-12));
        Assert.Equal(-(pair01 + pair12 + pair02), values.Sum(), 12);   // Lucid's value
        Assert.Equal(new[] { 0.0 }, On(Objective.Alignment("x"), activations[..1]));
    }

    [Fact]
    public void Products_and_ratios_are_one_term_with_a_readable_description_and_the_union_of_taps()
    {
        var product = Objective.Channel("layer3", 7) * Objective.Channel("layer3", 9);
        Assert.Equal("channel layer3:7 × channel layer3:9", product.Description);
        Assert.Single(product.Terms);
        Assert.Equal([7, 9], product.Terms[0].Term.ChannelsRead);

        var ratio = (Objective.Channel("layer3", 7) - 0.5 * Objective.Layer("layer2")) / (product * Objective.Channel("layer3", 1));
        Assert.Equal("(channel layer3:7 - 0.5 * layer layer2) / ((channel layer3:7 × channel layer3:9) × channel layer3:1)", ratio.Description);
        Assert.Equal(["layer3", "layer2"], ratio.Taps);
        Assert.Null(ratio.Terms[0].Term.ChannelsRead);
        Assert.Equal([1, 7, 9], (product * Objective.Channel("layer3", 1)).Terms[0].Term.ChannelsRead);
        // Channels of two taps, or a factor that reads whole layers or none: no channel list.
        Assert.Null((Objective.Channel("layer3", 7) * Objective.Channel("layer2", 7)).Terms[0].Term.ChannelsRead);
        Assert.Null((Objective.Channel("layer3", 7) * Objective.TotalVariation()).Terms[0].Term.ChannelsRead);
    }

    [Fact]
    public void Products_and_ratios_equal_the_factors_values_multiplied_and_divided()
    {
        using var scope = NewDisposeScope();
        using var model = TinyModels.Smooth();
        var image = TinyModels.Image(8, batch: 3);
        Objective f = Objective.Channel("a", 1) + 2 * Objective.Neuron("b", 0), g = Objective.Layer("b");
        var (fv, gv) = (Values(f, model, image), Values(g, model, image));
        Assert.True(allclose(Values(f * g, model, image), fv * gv));
        Assert.True(allclose(Values(f / g, model, image), fv / gv));
        Assert.True(allclose(Values(3 * (f * g) - g, model, image), 3 * fv * gv - gv));
    }

    [Fact]
    public void The_gradient_of_a_product_follows_the_product_rule_and_finite_differences()
    {
        using var scope = NewDisposeScope();
        using var model = TinyModels.Smooth();
        Objective f = Objective.Channel("a", 1), g = Objective.Neuron("b", 3);
        var image = TinyModels.Image(9, batch: 2);
        Tensor Gradient(Objective o)
        {
            var x = image.clone().requires_grad_();
            Values(o, model, x).sum().backward();
            return x.grad!;
        }
        using var noGrad = no_grad();
        // d(f·g) = g·df + f·dg, per item.
        var fv = Values(f, model, image).reshape(2, 1, 1, 1);
        var gv = Values(g, model, image).reshape(2, 1, 1, 1);
        Tensor analytic;
        using (enable_grad()) analytic = Gradient(f * g);
        Tensor productRule;
        using (enable_grad()) productRule = gv * Gradient(f) + fv * Gradient(g);
        Assert.True(allclose(analytic, productRule, rtol: 1e-9, atol: 1e-12));

        const double eps = 1e-6;
        foreach (var (n, c, y, x) in new[] { (0, 0, 3, 3), (1, 2, 4, 5), (1, 1, 0, 7) })
        {
            double At(double delta)
            {
                var shifted = image.clone();
                shifted[n, c, y, x] += delta;
                return Values(f * g, model, shifted).sum().item<double>();
            }
            double numeric = (At(eps) - At(-eps)) / (2 * eps);
            double value = analytic[n, c, y, x].item<double>();
            Assert.True(Math.Abs(numeric - value) <= 1e-7 + 1e-4 * Math.Abs(value), $"({n},{c},{y},{x}): numeric {numeric} vs autograd {value}");
        }
    }
}
