using ResearchKit.Native;
using ResearchKit.Priors;
using static TorchSharp.torch;

namespace ResearchKit.Tests.Priors;

public class ImageStatisticsTests
{
    public ImageStatisticsTests() => TorchRuntime.EnsureLoaded();

    // Channel 0 = [[0,1,3],[2,4,2]], other channels flat. Positions (0,0): dx=1, dy=2 → 5; (0,1): dx=2, dy=3 → 13.
    static Tensor TwoByThree()
    {
        var image = zeros(1, 3, 2, 3, dtype: ScalarType.Float64);
        image[0, 0] = tensor(new double[] { 0, 1, 3, 2, 4, 2 }, [2, 3]);
        return image;
    }

    [Theory]
    [InlineData(2.0)]
    [InlineData(1.0)]
    [InlineData(3.0)]
    public void Total_variation_matches_a_hand_computed_value(double beta)
    {
        using var scope = NewDisposeScope();
        double expected = (Math.Pow(5, beta / 2) + Math.Pow(13, beta / 2)) / 2;
        Assert.Equal(expected, ImageStatistics.TotalVariation(TwoByThree(), beta).item<double>(), 5);
    }

    [Fact]
    public void Total_variation_is_per_image()
    {
        using var scope = NewDisposeScope();
        var batch = cat([TwoByThree(), zeros(1, 3, 2, 3, dtype: ScalarType.Float64), TwoByThree() * 2]);
        Assert.Equal(new[] { 9.0, 0.0, 36.0 }, ImageStatistics.TotalVariation(batch).data<double>().ToArray());
    }

    [Theory]
    [InlineData(2.0)]
    [InlineData(1.0)]
    [InlineData(1.5)]
    public void Total_variation_gradient_matches_finite_differences(double beta)
    {
        using var scope = NewDisposeScope();
        using var g = new Generator(21);
        var x = rand([2, 3, 5, 6], dtype: ScalarType.Float64, generator: g).requires_grad_();
        ImageStatistics.TotalVariation(x, beta).sum().backward();
        var analytic = x.grad!.clone();
        var probe = x.detach().clone();
        const double h = 1e-6;
        foreach (var (n, c, i, j) in new[] { (0, 0, 0, 0), (1, 2, 4, 5), (0, 1, 2, 3), (1, 0, 4, 0), (0, 2, 0, 5) })
        {
            double original = probe[n, c, i, j].item<double>();
            probe[n, c, i, j] = tensor(original + h);
            double up = ImageStatistics.TotalVariation(probe, beta).sum().item<double>();
            probe[n, c, i, j] = tensor(original - h);
            double down = ImageStatistics.TotalVariation(probe, beta).sum().item<double>();
            probe[n, c, i, j] = tensor(original);
            Assert.Equal((up - down) / (2 * h), analytic[n, c, i, j].item<double>(), 5);
        }
    }

    [Fact]
    public void High_frequency_energy_is_zero_for_flat_and_smooth_images_and_one_for_a_checkerboard()
    {
        using var scope = NewDisposeScope();
        var flat = full(1, 3, 16, 16, 0.3f);
        var rows = arange(16).reshape(16, 1);
        var cols = arange(16).reshape(1, 16);
        var checker = ((rows + cols) % 2).to_type(ScalarType.Float32).expand(1, 3, 16, 16);
        var smooth = (0.5 + 0.4 * (cols.to_type(ScalarType.Float32) * (2 * Math.PI / 16)).sin()).expand(1, 3, 16, 16);

        var energy = ImageStatistics.HighFrequencyEnergy(cat([flat, checker, smooth]), cutoffFraction: 0.5);
        Assert.Equal(0, energy[0]);
        Assert.Equal(1, energy[1], 9);
        Assert.Equal(0, energy[2], 9);
    }

    [Fact]
    public void Radial_spectrum_is_flat_at_the_variance_for_white_noise_and_peaks_at_a_sinusoids_frequency()
    {
        using var scope = NewDisposeScope();
        using var g = new Generator(3);
        var noise = randn([4, 3, 64, 64], generator: g) * 0.1;
        var spectrum = ImageStatistics.RadialPowerSpectrum(noise, bins: 16);
        Assert.All(spectrum, p => Assert.InRange(p, 0.01 * 0.85, 0.01 * 1.15));

        // 8 cycles across 64 pixels = 0.125 cycles/pixel: bin 4 of 16 (each 1/32 wide) covers (0.125, 0.15625]… and
        // bin 3 covers (0.09375, 0.125].
        var cols = arange(64).to_type(ScalarType.Float32).reshape(1, 64);
        var wave = (cols * (2 * Math.PI * 8 / 64)).sin().expand(1, 3, 64, 64);
        var waveSpectrum = ImageStatistics.RadialPowerSpectrum(wave, bins: 16);
        Assert.Equal(3, Array.IndexOf(waveSpectrum, waveSpectrum.Max()));
        Assert.Equal(new[] { 1 / 64.0, 3 / 64.0 }, ImageStatistics.RadialFrequencies(16).Take(2));
    }

    [Fact]
    public void Statistics_reject_bad_shapes_and_settings()
    {
        Assert.Throws<InvalidSettingException>(() => ImageStatistics.TotalVariation(zeros(3, 8, 8)));
        Assert.Throws<InvalidSettingException>(() => ImageStatistics.TotalVariation(zeros(1, 3, 1, 8)));
        Assert.Throws<InvalidSettingException>(() => ImageStatistics.TotalVariation(zeros(1, 3, 4, 4), beta: 0));
        var bins = Assert.Throws<InvalidSettingException>(() => ImageStatistics.RadialPowerSpectrum(zeros(1, 3, 16, 16), bins: 9));
        Assert.Contains("1..8", bins.Message);
    }
}
