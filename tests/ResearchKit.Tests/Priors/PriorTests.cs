using System.Text.Json;
using ResearchKit.Native;
using ResearchKit.Objectives;
using ResearchKit.Parameterizations;
using ResearchKit.Priors;
using static TorchSharp.torch;

namespace ResearchKit.Tests.Priors;

public class PriorTests
{
    public PriorTests() => TorchRuntime.EnsureLoaded();

    // Low-amplitude noise around grey, as early in an optimization.
    static Tensor GreyNoise(int n, int size, int seed, double std = 0.05)
    {
        using var g = new Generator((ulong)seed);
        return (0.5 + std * randn([n, 3, size, size], generator: g)).clamp(0, 1);
    }

    static double MeanHighFrequency(Tensor image) => ImageStatistics.HighFrequencyEnergy(image).Average();

    [Fact]
    public void Gaussian_kernel_preserves_mass_and_has_variance_sigma_squared()
    {
        using var scope = NewDisposeScope();
        var delta = zeros(1, 1, 41, 41, dtype: ScalarType.Float64);
        delta[0, 0, 20, 20] = tensor(1.0);
        var blurred = ImageFilters.GaussianBlur(delta, 2.5);
        Assert.Equal(1.0, blurred.sum().item<double>(), 9);
        var offsets = (arange(41, dtype: ScalarType.Float64) - 20).square();
        double variance = (blurred[0, 0].sum(dim: 0) * offsets).sum().item<double>();
        Assert.Equal(2.5 * 2.5, variance, 2); // truncation at 4σ removes < 0.1 % of the variance
    }

    [Fact]
    public void Filters_leave_a_constant_image_unchanged()
    {
        using var scope = NewDisposeScope();
        var flat = full(2, 3, 12, 12, 0.7f);
        Assert.True((ImageFilters.GaussianBlur(flat, 1.3) - 0.7f).abs().max().item<float>() < 1e-6);
        Assert.True((ImageFilters.Bilateral(flat, 1.3, 0.1) - 0.7f).abs().max().item<float>() < 1e-6);
    }

    [Fact]
    public void Total_variation_descent_gaussian_blur_and_bilateral_blur_each_lower_high_frequency_energy()
    {
        using var noise = GreyNoise(2, 48, seed: 1);
        double before = MeanHighFrequency(noise);
        Assert.InRange(before, 0.6, 0.9); // white noise: most power above half Nyquist

        // Gradient descent on the TV penalty alone.
        using var tvPixels = Pixel.FromImage(noise);
        var tv = Objective.TotalVariation();
        for (int step = 0; step < 20; step++)
        {
            using var scope = NewDisposeScope();
            var penalty = tv.EvaluateImage(tvPixels.Image()).sum();
            penalty.backward();
            // Plain descent; the penalty's curvature is at most 16/(HW·V²) ≈ 3.1, so a step of 0.25 is stable.
            using (no_grad()) tvPixels.Pixels.sub_(tvPixels.Pixels.grad! * 0.25);
            tvPixels.Pixels.grad!.zero_();
        }

        using var gaussPixels = Pixel.FromImage(noise);
        new GaussianBlurEvery(1, 1.0).AfterStep(new PriorStepContext(0, gaussPixels));
        using var bilateralPixels = Pixel.FromImage(noise);
        new BilateralBlurEvery(1, 1.0, 0.2).AfterStep(new PriorStepContext(0, bilateralPixels)); // σc above the noise (std ≈ 0.12 in colour distance)

        using var s = NewDisposeScope();
        Assert.True(MeanHighFrequency(tvPixels.Image()) < before / 2, $"TV: {MeanHighFrequency(tvPixels.Image())} vs {before}");
        Assert.True(MeanHighFrequency(gaussPixels.Image()) < before / 3, $"Gaussian: {MeanHighFrequency(gaussPixels.Image())} vs {before}");
        Assert.True(MeanHighFrequency(bilateralPixels.Image()) < before / 2, $"bilateral: {MeanHighFrequency(bilateralPixels.Image())} vs {before}");
    }

    [Fact]
    public void Bilateral_filter_keeps_a_step_edge_that_a_gaussian_of_equal_sigma_blurs()
    {
        using var scope = NewDisposeScope();
        var cols = arange(32).reshape(1, 1, 1, 32).expand(1, 3, 32, 32);
        var step = where(cols < 16, full(1, 3, 32, 32, 0.2f), full(1, 3, 32, 32, 0.8f));
        using var g = new Generator(2);
        var noisy = step + 0.02f * randn([1, 3, 32, 32], generator: g);

        var gaussian = ImageFilters.GaussianBlur(noisy, 2.0);
        var bilateral = ImageFilters.Bilateral(noisy, 2.0, 0.1);

        // Error against the clean step in the 6 columns around the edge.
        double EdgeError(Tensor t) => (t - step).narrow(3, 13, 6).abs().mean().item<float>();
        double gaussianError = EdgeError(gaussian), bilateralError = EdgeError(bilateral);
        Assert.True(gaussianError > 0.08, $"Gaussian edge error {gaussianError}");
        Assert.True(bilateralError < gaussianError / 5, $"bilateral {bilateralError} vs Gaussian {gaussianError}");

        // …while still removing noise inside the flat halves.
        double FlatNoise(Tensor t) => (t - step).narrow(3, 2, 8).std().item<float>();
        Assert.True(FlatNoise(bilateral) < FlatNoise(noisy) / 2);
    }

    [Fact]
    public void Bilateral_filter_measures_colour_on_the_guide()
    {
        // Raw values with no edge, guided by an image with an edge: the filter must not mix across the guide's edge.
        using var scope = NewDisposeScope();
        var cols = arange(16).reshape(1, 1, 1, 16).expand(1, 3, 16, 16);
        var guide = where(cols < 8, zeros(1, 3, 16, 16), ones(1, 3, 16, 16));
        var raw = where(cols < 8, full(1, 3, 16, 16, -3f), full(1, 3, 16, 16, 3f)) + cols.to_type(ScalarType.Float32) * 0;
        var filtered = ImageFilters.Bilateral(raw, 1.5, 0.1, guide);
        Assert.True((filtered - raw).abs().max().item<float>() < 1e-4);
        Assert.Throws<InvalidSettingException>(() => ImageFilters.Bilateral(raw, 1, 0.1, zeros(1, 3, 8, 16)));
    }

    [Fact]
    public void Clip_by_norm_resets_the_expected_fraction_of_pixels_per_image()
    {
        using var image = GreyNoise(2, 20, seed: 3, std: 0.2);
        using var pixels = Pixel.FromImage(image);
        using var scope = NewDisposeScope();
        var normsBefore = (image - 0.5f).square().sum(1).sqrt();

        new ClipByNorm(30).AfterStep(new PriorStepContext(0, pixels));

        var reset = (pixels.Pixels == 0.5f).all(1); // [N,H,W]
        for (int n = 0; n < 2; n++)
        {
            double fraction = reset[n].to_type(ScalarType.Float32).mean().item<float>();
            Assert.InRange(fraction, 0.3 - 1.0 / 400, 0.3 + 1.0 / 400);
            // Every reset pixel was weaker than every kept one.
            float largestReset = normsBefore[n].masked_select(reset[n]).max().item<float>();
            float smallestKept = normsBefore[n].masked_select(reset[n].logical_not()).min().item<float>();
            Assert.True(largestReset <= smallestKept);
        }
        // Kept pixels are untouched.
        var kept = reset.logical_not().unsqueeze(1).expand_as(image);
        Assert.True(pixels.Pixels.masked_select(kept).eq(image.masked_select(kept)).all().item<bool>());
    }

    [Fact]
    public void Clip_by_contribution_resets_the_pixels_that_matter_least_to_the_objective()
    {
        // 1×4 image, 4 pixels; deviation from grey times gradient, summed over channels:
        // pixel 0: (0.1·1)·3 = 0.3, pixel 1: (0.4·1)·3 = 1.2, pixel 2: (−0.2·−1)·3 = 0.6 (sign cancels), pixel 3: (0.3·0.1)·3 = 0.09.
        using var image = tensor(new float[] { 0.6f, 0.9f, 0.3f, 0.8f }).reshape(1, 1, 1, 4).expand(1, 3, 1, 4).contiguous();
        using var gradient = tensor(new float[] { 1f, 1f, -1f, 0.1f }).reshape(1, 1, 1, 4).expand(1, 3, 1, 4).contiguous();
        using var pixels = Pixel.FromImage(image);

        new ClipByContribution(50).AfterStep(new PriorStepContext(0, pixels, gradient));

        using var scope = NewDisposeScope();
        // The two smallest contributions (pixels 3 and 0) go to grey; 1 and 2 stay.
        Assert.Equal(new[] { 0.5f, 0.9f, 0.3f, 0.5f }, pixels.Pixels[0, 0, 0].data<float>().ToArray());
    }

    [Fact]
    public void Clip_by_contribution_reads_the_leaf_gradient_and_explains_when_there_is_none()
    {
        using var pixels = new Pixel(4, 4, range: PixelRange.Clamp, std: 0.1, seed: 1);
        var error = Assert.Throws<InvalidOperationException>(() => new ClipByContribution(50).AfterStep(new PriorStepContext(7, pixels)));
        Assert.Contains("step 7", error.Message);

        using (var scope = NewDisposeScope()) pixels.Image().sum().backward();
        new ClipByContribution(50).AfterStep(new PriorStepContext(0, pixels));
        using var s = NewDisposeScope();
        Assert.Equal(8, (pixels.Pixels == 0.5f).all(1).sum().item<long>());
    }

    [Fact]
    public void Decay_shrinks_the_deviation_from_grey()
    {
        using var image = GreyNoise(1, 6, seed: 4, std: 0.2);
        using var pixels = Pixel.FromImage(image);
        new Decay(0.25).AfterStep(new PriorStepContext(0, pixels));
        using var scope = NewDisposeScope();
        Assert.True(((pixels.Pixels - 0.5f) - (image - 0.5f) * 0.75f).abs().max().item<float>() < 1e-6);
    }

    [Fact]
    public void Blur_every_k_acts_only_on_multiples_of_k()
    {
        using var image = GreyNoise(1, 10, seed: 5);
        using var pixels = Pixel.FromImage(image);
        var prior = new GaussianBlurEvery(3, 0.8);
        prior.AfterStep(new PriorStepContext(1, pixels));
        prior.AfterStep(new PriorStepContext(2, pixels));
        using var scope = NewDisposeScope();
        Assert.True(pixels.Pixels.eq(image).all().item<bool>());
        prior.AfterStep(new PriorStepContext(3, pixels));
        Assert.True((pixels.Pixels - ImageFilters.GaussianBlur(image, 0.8)).abs().max().item<float>() < 1e-6);
    }

    [Fact]
    public void Pixel_clamp_restores_the_valid_range()
    {
        using var pixels = new Pixel(5, 5, range: PixelRange.Clamp, std: 2, seed: 6);
        new PixelClamp().AfterStep(new PriorStepContext(0, pixels));
        using var scope = NewDisposeScope();
        Assert.InRange(pixels.Pixels.min().item<float>(), 0, 1);
        Assert.InRange(pixels.Pixels.max().item<float>(), 0, 1);
        Assert.Contains(0f, pixels.Pixels.flatten().data<float>().ToArray());
    }

    [Fact]
    public void Sigmoid_pixels_are_edited_in_logit_space_towards_their_grey()
    {
        using var pixels = new Pixel(6, 6, range: PixelRange.Sigmoid, std: 1, seed: 7);
        new ClipByNorm(100).AfterStep(new PriorStepContext(0, pixels)); // everything below the maximum → grey
        using var scope = NewDisposeScope();
        Assert.Equal(35, (pixels.Image() == 0.5f).all(1).sum().item<long>());
    }

    [Fact]
    public void Pixel_priors_explain_that_a_fourier_image_has_no_pixels()
    {
        using var fourier = Parameterization.Fourier(8, 8);
        var error = Assert.Throws<InvalidSettingException>(() => new GaussianBlurEvery(4, 1).AfterStep(new PriorStepContext(0, fourier)));
        Assert.Contains("blur σ=1 every 4", error.Message);
        Assert.Contains("fft+decorrelated 8x8 x1", error.Message);
        new PixelClamp().AfterStep(new PriorStepContext(0, fourier)); // in range by construction: nothing to do
    }

    [Fact]
    public void Priors_round_trip_through_json_with_their_settings()
    {
        StepPrior[] priors =
        [
            new Decay(0.0001),
            new GaussianBlurEvery(4, 1.0), new BilateralBlurEvery(4, 1.0, 0.1), new ClipByNorm(50),
            new ClipByContribution(90), new PixelClamp(),
        ];
        string json = JsonSerializer.Serialize(priors);
        Assert.Contains("\"kind\":\"gaussianBlurEvery\"", json);
        Assert.Contains("\"Sigma\":1", json);
        Assert.Equal(priors, JsonSerializer.Deserialize<StepPrior[]>(json));
    }

    [Fact]
    public void Settings_outside_their_range_are_rejected()
    {
        Assert.Throws<InvalidSettingException>(() => new ClipByNorm(101));
        Assert.Throws<InvalidSettingException>(() => new Decay(1.5));
        Assert.Throws<InvalidSettingException>(() => new GaussianBlurEvery(0, 1));
        Assert.Throws<InvalidSettingException>(() => new BilateralBlurEvery(4, 1, 0));
        Assert.Throws<InvalidSettingException>(() => Objective.TotalVariation(beta: -1));
        Assert.Throws<InvalidSettingException>(() => Objective.AlphaNorm(alpha: 0.5));
    }
}
