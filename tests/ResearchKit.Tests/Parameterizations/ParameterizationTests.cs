using ResearchKit.Native;
using ResearchKit.Parameterizations;
using ResearchKit.Priors;
using static TorchSharp.torch;

namespace ResearchKit.Tests.Parameterizations;

public class ParameterizationTests
{
    public ParameterizationTests() => TorchRuntime.EnsureLoaded();

    static Tensor RandomImage(int n, int h, int w, int seed)
    {
        using var g = new Generator((ulong)seed);
        return rand([n, 3, h, w], generator: g);
    }

    static float MaxAbsDifference(Tensor a, Tensor b) => (a - b).abs().max().item<float>();

    public static TheoryData<string> Kinds => ["pixel-sigmoid", "pixel-clamp", "pixel-decorrelated", "fourier", "fourier-rgb", "cppn"];

    static Parameterization Make(string kind, int seed, int batch = 2, int h = 20, int w = 17) => kind switch
    {
        "pixel-sigmoid" => new Pixel(h, w, batch, PixelRange.Sigmoid, seed: seed, std: 0.5),
        "pixel-clamp" => new Pixel(h, w, batch, PixelRange.Clamp, seed: seed, std: 0.1),
        "pixel-decorrelated" => new Pixel(h, w, batch, PixelRange.Sigmoid, decorrelate: true, seed: seed, std: 0.5),
        "fourier" => new Fourier(h, w, batch, decorrelate: true, seed: seed),
        "fourier-rgb" => new Fourier(h, w, batch, decorrelate: false, seed: seed),
        "cppn" => new Cppn(h, w, batch, seed: seed, layers: 3, hidden: 8),
        _ => throw new ArgumentException(kind),
    };

    [Theory]
    [MemberData(nameof(Kinds))]
    public void Every_parameterization_makes_a_valid_batch_and_passes_gradients_to_its_parameters(string kind)
    {
        using var p = Make(kind, seed: 3);
        using var scope = NewDisposeScope();
        var image = p.Image();
        Assert.Equal(new long[] { 2, 3, 20, 17 }, image.shape);
        Assert.Equal(ScalarType.Float32, image.dtype);
        Assert.True(image.min().item<float>() >= 0 && image.max().item<float>() <= 1);

        // A loss that depends on every pixel; the CPPN's zero output layer must still receive a gradient.
        (image * arange(image.numel()).reshape(image.shape).to_type(ScalarType.Float32).sin()).sum().backward();
        Assert.All(p.Parameters, t => Assert.True(t.requires_grad && t.is_leaf));
        Assert.Contains(p.Parameters, t => t.grad is { } g && g.abs().sum().item<float>() > 0);
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public void Same_seed_gives_identical_bytes_and_another_seed_differs(string kind)
    {
        using var a = Make(kind, seed: 7);
        using var b = Make(kind, seed: 7);
        using var c = Make(kind, seed: 8);
        using var scope = NewDisposeScope();
        for (int i = 0; i < a.Parameters.Count; i++)
            Assert.Equal(a.Parameters[i].data<float>().ToArray(), b.Parameters[i].data<float>().ToArray());
        Assert.Equal(a.Image().data<float>().ToArray(), b.Image().data<float>().ToArray());
        Assert.NotEqual(a.Parameters[0].data<float>().ToArray(), c.Parameters[0].data<float>().ToArray());
    }

    [Fact]
    public void Seeding_leaves_the_global_generator_alone()
    {
        manual_seed(123);
        var expected = rand(5).data<float>().ToArray();
        manual_seed(123);
        using (new Fourier(8, 8, seed: 1)) { }
        using (new Pixel(8, 8, seed: 1)) { }
        Assert.Equal(expected, rand(5).data<float>().ToArray());
    }

    [Fact]
    public void Decorrelation_round_trips_and_has_unit_max_column_norm()
    {
        using var scope = NewDisposeScope();
        var x = randn(2, 3, 5, 4);
        Assert.True(MaxAbsDifference(ColorDecorrelation.FromRgb(ColorDecorrelation.ToRgb(x)), x) < 1e-5);
        Assert.True(MaxAbsDifference(ColorDecorrelation.ToRgb(ColorDecorrelation.FromRgb(x)), x) < 1e-5);

        var m = ColorDecorrelation.Matrix;
        var norms = Enumerable.Range(0, 3).Select(j => Math.Sqrt(m[0, j] * m[0, j] + m[1, j] * m[1, j] + m[2, j] * m[2, j])).ToArray();
        Assert.Equal(1.0, norms.Max(), 12);
        // First column of Lucid's matrix, [0.26, 0.27, 0.27], has the largest norm.
        Assert.Equal(0.26 / Math.Sqrt(0.26 * 0.26 + 0.27 * 0.27 * 2), m[0, 0], 12);

        // A pure decorrelated direction maps to RGB by the matrix column: (1,0,0) → luminance-like grey-ish colour.
        var unit = zeros(1, 3, 1, 1);
        unit[0, 0, 0, 0] = tensor(1f);
        var rgb = ColorDecorrelation.ToRgb(unit).flatten().data<float>().ToArray();
        Assert.Equal(new[] { m[0, 0], m[1, 0], m[2, 0] }.Select(v => (float)v), rgb, new FloatTolerance(1e-6f));
    }

    [Theory]
    [InlineData(true, 24, 24)]
    [InlineData(false, 15, 18)]
    [InlineData(true, 9, 13)]
    public void Fourier_from_image_reproduces_the_image(bool decorrelate, int h, int w)
    {
        using var image = RandomImage(2, h, w, seed: 5) * 0.9 + 0.05;
        using var fourier = Fourier.FromImage(image, decorrelate);
        using var scope = NewDisposeScope();
        Assert.Equal(h, fourier.Height);
        Assert.Equal(w, fourier.Width);
        Assert.True(MaxAbsDifference(fourier.Image(), image) < 1e-5);
    }

    [Fact]
    public void Pixel_from_image_copies_the_photo_in_both_ranges()
    {
        using var image = RandomImage(1, 6, 7, seed: 2);
        using var clamp = Parameterization.FromImage(image);
        using var sigmoid = Pixel.FromImage(image, PixelRange.Sigmoid);
        using var scope = NewDisposeScope();
        Assert.Equal(image.data<float>().ToArray(), clamp.Image().data<float>().ToArray());
        Assert.True(MaxAbsDifference(sigmoid.Image(), image) < 1e-4);

        // The parameter is a copy: editing it leaves the caller's photo untouched.
        using (no_grad()) clamp.Pixels.fill_(0.25);
        Assert.True(MaxAbsDifference(image, RandomImage(1, 6, 7, seed: 2)) == 0);
    }

    [Fact]
    public void Clamp_range_is_restored_by_constrain()
    {
        using var p = new Pixel(4, 4, range: PixelRange.Clamp, std: 3, seed: 1);
        using var scope = NewDisposeScope();
        Assert.True(p.Pixels.max().item<float>() > 1 && p.Pixels.min().item<float>() < 0);
        p.Constrain();
        Assert.True(p.Pixels.max().item<float>() <= 1 && p.Pixels.min().item<float>() >= 0);
        Assert.True(p.Pixels.is_leaf && p.Pixels.requires_grad);
    }

    [Fact]
    public void Noise_starts_around_mid_grey_in_image_space()
    {
        using var sigmoid = new Pixel(32, 32, std: 0.01, seed: 4);
        using var clamp = new Pixel(32, 32, range: PixelRange.Clamp, std: 0.01, seed: 4);
        using var fourier = new Fourier(32, 32, seed: 4);
        using var cppn = new Cppn(32, 32, seed: 4);
        using var scope = NewDisposeScope();
        foreach (Parameterization p in new Parameterization[] { sigmoid, clamp, fourier })
        {
            var image = p.Image();
            Assert.Equal(0.5, image.mean().item<float>(), 2);
            Assert.InRange(image.std().item<float>(), 1e-4, 0.02);
        }
        // The CPPN's output layer starts at zero: uniform grey.
        Assert.True(MaxAbsDifference(cppn.Image(), full(1, 3, 32, 32, 0.5f)) == 0);
    }

    [Fact]
    public void Fourier_initialization_has_a_one_over_f_spectrum_and_pixel_noise_is_white()
    {
        using var fourier = new Fourier(128, 128, batch: 2, decorrelate: true, seed: 11);
        using var pixel = new Pixel(128, 128, batch: 2, std: 0.01, seed: 11);
        using var scope = NewDisposeScope();
        // Amplitude ∝ 1/f means power ∝ f⁻²; white noise has a flat spectrum.
        Assert.InRange(SpectralSlope(fourier.Image()), -2.25, -1.75);
        Assert.InRange(SpectralSlope(pixel.Image()), -0.15, 0.15);
    }

    // Least-squares slope of log power against log frequency, between 1/16 and 7/16 cycles per pixel.
    static double SpectralSlope(Tensor image)
    {
        const int bins = 32;
        var power = ImageStatistics.RadialPowerSpectrum(image, bins);
        var freq = ImageStatistics.RadialFrequencies(bins);
        var points = Enumerable.Range(0, bins).Where(i => freq[i] > 1.0 / 16 && freq[i] < 7.0 / 16)
            .Select(i => (X: Math.Log(freq[i]), Y: Math.Log(power[i]))).ToArray();
        double mx = points.Average(p => p.X), my = points.Average(p => p.Y);
        return points.Sum(p => (p.X - mx) * (p.Y - my)) / points.Sum(p => (p.X - mx) * (p.X - mx));
    }

    [Fact]
    public void Describe_names_the_parameterization_and_shape()
    {
        using var fourier = Parameterization.Fourier(224, 224, batch: 4, decorrelate: true, seed: 0);
        using var pixel = Parameterization.Pixel(32, 32, range: PixelRange.Clamp);
        using var cppn = Parameterization.Cppn(16, 16, layers: 2, hidden: 4);
        Assert.Equal("fft+decorrelated 224x224 x4", fourier.Describe());
        Assert.Equal("pixel(clamp) 32x32 x1", pixel.Describe());
        Assert.Equal("cppn 2x4 16x16 x1", cppn.Describe());
    }

    [Fact]
    public void Bad_arguments_are_rejected_with_their_values()
    {
        var shape = Assert.Throws<InvalidSettingException>(() => Parameterization.FromImage(zeros(4, 8, 8)));
        Assert.Contains("[4,8,8]", shape.Message);
        Assert.Throws<InvalidSettingException>(() => new Pixel(8, 8, range: PixelRange.Clamp, decorrelate: true));
        Assert.Throws<InvalidSettingException>(() => new Fourier(0, 8));
        Assert.Throws<InvalidSettingException>(() => new Pixel(8, 8, batch: 0));
    }

    [Fact]
    public void Disposing_releases_the_parameters()
    {
        var p = new Fourier(8, 8);
        var leaf = p.Parameters[0];
        p.Dispose();
        Assert.True(leaf.IsInvalid);
        Assert.Throws<ObjectDisposedException>(() => p.Image());
    }

    [Fact]
    public void Fourier_parameters_can_be_fitted_to_a_target_image()
    {
        // The parameterization can represent a given picture by optimization, not only by inversion.
        using var target = RandomImage(1, 16, 16, seed: 9) * 0.6 + 0.2;
        using var fourier = new Fourier(16, 16, seed: 1);
        using var optimizer = optim.Adam(fourier.Parameters.Cast<TorchSharp.Modules.Parameter>(), 0.1);
        double first = 0, last = 0;
        for (int step = 0; step < 150; step++)
        {
            using var scope = NewDisposeScope();
            optimizer.zero_grad();
            var loss = (fourier.Image() - target).square().mean();
            loss.backward();
            optimizer.step();
            if (step == 0) first = loss.item<float>();
            last = loss.item<float>();
        }
        Assert.True(last < first / 100, $"loss {first} → {last}");
    }
}
