using System.Text.Json;
using ResearchKit.Native;
using ResearchKit.Transforms;
using static TorchSharp.torch;

namespace ResearchKit.Tests.Transforms;

public class TransformTests
{
    public TransformTests() => TorchRuntime.EnsureLoaded();

    static Tensor RandomImage(int n, int h, int w, int seed, ScalarType dtype = ScalarType.Float32)
    {
        using var g = new Generator((ulong)seed);
        return rand([n, 3, h, w], generator: g).to_type(dtype);
    }

    static bool Identical(Tensor a, Tensor b) => a.shape.SequenceEqual(b.shape) && a.eq(b).all().item<bool>();

    static long[] Shape(ITransform t, long[] input)
    {
        using var scope = NewDisposeScope();
        return t.Apply(rand(input), new Random(1)).shape;
    }

    [Fact]
    public void Each_transform_gives_the_documented_shape()
    {
        long[] input = [2, 3, 20, 24];
        Assert.Equal(new long[] { 2, 3, 44, 48 }, Shape(new Pad(12), input));
        Assert.Equal(new long[] { 2, 3, 26, 30 }, Shape(new Pad(3, PadMode.Reflect), input));
        Assert.Equal(new long[] { 2, 3, 12, 16 }, Shape(new Jitter(8), input));
        Assert.Equal(new long[] { 2, 3, 10, 12 }, Shape(Transform.Scale(0.5), input));
        Assert.Equal(new long[] { 2, 3, 25, 30 }, Shape(Transform.Scale(1.25), input));
        Assert.Equal(new long[] { 2, 3, 20, 24 }, Shape(Transform.Rotate(30), input));
        Assert.Equal(new long[] { 2, 3, 16, 30 }, Shape(new CropOrPad(16, 30), input));
        Assert.Equal(new long[] { 2, 3, 7, 9 }, Shape(new Resize(7, 9), input));
    }

    [Fact]
    public void Standard_keeps_batch_and_channels_and_shrinks_within_the_expected_range()
    {
        for (int seed = 0; seed < 10; seed++)
        {
            var shape = Shape(TransformPipeline.Standard, [2, 3, 64, 64]);
            Assert.Equal(2, shape[0]);
            Assert.Equal(3, shape[1]);
            // 64 + 24 pad − 8 jitter = 80, scaled by 0.9..1.1 (72..88), − 4 jitter.
            Assert.InRange(shape[2], 68, 84);
            Assert.Equal(shape[2], shape[3]);
        }
    }

    [Fact]
    public void Same_random_seed_gives_identical_bytes_and_other_seeds_differ()
    {
        using var image = RandomImage(2, 40, 40, seed: 3);
        using var scope = NewDisposeScope();
        var a = TransformPipeline.Standard.Apply(image, new Random(42));
        var b = TransformPipeline.Standard.Apply(image, new Random(42));
        Assert.Equal(a.shape, b.shape);
        Assert.Equal(a.data<float>().ToArray(), b.data<float>().ToArray());

        var outputs = Enumerable.Range(0, 5).Select(s => TransformPipeline.Standard.Apply(image, new Random(s))).ToArray();
        Assert.Contains(outputs, o => !o.shape.SequenceEqual(a.shape) || !o.data<float>().ToArray().SequenceEqual(a.data<float>().ToArray()));
    }

    [Fact]
    public void Rotating_by_zero_is_the_identity()
    {
        using var image = RandomImage(2, 11, 16, seed: 4);
        using var scope = NewDisposeScope();
        var rotated = Transform.Rotate(0).Apply(image, new Random(0));
        Assert.True((rotated - image).abs().max().item<float>() < 1e-5);
    }

    [Fact]
    public void Rotating_a_square_by_90_degrees_matches_rot90_counter_clockwise()
    {
        using var image = RandomImage(1, 12, 12, seed: 5);
        using var scope = NewDisposeScope();
        var rotated = Transform.Rotate(90).Apply(image, new Random(0));
        var expected = image.rot90(1, (2, 3));
        Assert.True((rotated - expected).abs().max().item<float>() < 1e-5);
    }

    [Fact]
    public void Rotation_is_rigid_on_non_square_images()
    {
        // A dot 4 pixels above the centre of a 21×41 image: a quarter turn counter-clockwise puts it 4 pixels left of
        // the centre (a rotation that ignored the aspect ratio would put it 4·41/21 ≈ 8 pixels left).
        using var scope = NewDisposeScope();
        var image = zeros(1, 3, 21, 41);
        image[0, .., 6, 20] = tensor(1f);
        var rotated = Transform.Rotate(90).Apply(image, new Random(0));
        var flatIndex = rotated[0, 0].argmax().item<long>();
        Assert.Equal((10L, 16L), (flatIndex / 41, flatIndex % 41));
        Assert.Equal(1f, rotated[0, 0, 10, 16].item<float>(), 4);
    }

    [Fact]
    public void Jitter_is_a_crop_at_an_offset_of_at_most_its_size()
    {
        using var image = RandomImage(2, 15, 18, seed: 6);
        for (int seed = 0; seed < 8; seed++)
        {
            using var scope = NewDisposeScope();
            var cropped = new Jitter(3).Apply(image, new Random(seed));
            bool found = false;
            for (int dy = 0; dy <= 3 && !found; dy++)
                for (int dx = 0; dx <= 3 && !found; dx++)
                    found = Identical(image.narrow(2, dy, 12).narrow(3, dx, 15), cropped);
            Assert.True(found);
        }
    }

    [Fact]
    public void Pad_fills_with_the_constant_or_mirrors_the_edge()
    {
        using var scope = NewDisposeScope();
        var image = RandomImage(1, 5, 6, seed: 7);
        var constant = new Pad(2, PadMode.Constant, 0.25).Apply(image, new Random(0));
        Assert.Equal(0.25f, constant[0, .., 0, ..].min().item<float>());
        Assert.Equal(0.25f, constant[0, .., 0, ..].max().item<float>());
        Assert.True(Identical(constant[0, .., 2..7, 2..8], image[0]));

        var mirrored = new Pad(2, PadMode.Reflect).Apply(image, new Random(0));
        // Column −1 mirrors column 1, column −2 mirrors column 2 (the edge pixel is not repeated).
        Assert.True(Identical(mirrored[0, .., 2..7, 1], image[0, .., .., 1]));
        Assert.True(Identical(mirrored[0, .., 2..7, 0], image[0, .., .., 2]));
    }

    [Fact]
    public void Scaling_by_one_changes_nothing_and_scaling_keeps_constant_images_constant()
    {
        using var scope = NewDisposeScope();
        var image = RandomImage(1, 9, 9, seed: 8);
        Assert.True(Identical(Transform.Scale(1.0).Apply(image, new Random(0)), image));
        var grey = full(1, 3, 10, 10, 0.3f);
        var scaled = Transform.Scale(1.37).Apply(grey, new Random(0));
        Assert.True((scaled - 0.3f).abs().max().item<float>() < 1e-6);
    }

    public static TheoryData<string> GradientCases =>
        ["pad", "pad-reflect", "jitter", "scale-down", "scale-up", "rotate", "crop", "pad-to", "resize-down", "resize-up", "standard"];

    static ITransform GradientCase(string name) => name switch
    {
        "pad" => new Pad(2),
        "pad-reflect" => new Pad(2, PadMode.Reflect),
        "jitter" => new Jitter(3),
        "scale-down" => Transform.Scale(0.7),
        "scale-up" => Transform.Scale(1.4),
        "rotate" => Transform.Rotate(17),
        "crop" => new CropOrPad(5, 6),
        "pad-to" => new CropOrPad(11, 12),
        "resize-down" => new Resize(5, 4),
        "resize-up" => new Resize(12, 13),
        "standard" => TransformPipeline.Standard,
        _ => throw new ArgumentException(name),
    };

    [Theory]
    [MemberData(nameof(GradientCases))]
    public void Gradients_flow_through_every_transform_and_match_finite_differences(string name)
    {
        var transform = GradientCase(name);
        using var scope = NewDisposeScope();
        var x = RandomImage(1, 8, 9, seed: 9, ScalarType.Float64).requires_grad_();
        var output = transform.Apply(x, new Random(5));
        using var generator = new Generator(11);
        var weights = randn(output.shape, dtype: ScalarType.Float64, generator: generator);
        (output * weights).sum().backward();
        var analytic = x.grad!.clone();
        Assert.True(analytic.abs().sum().item<double>() > 0);

        double F(Tensor input)
        {
            using var inner = NewDisposeScope();
            return (transform.Apply(input, new Random(5)) * weights).sum().item<double>();
        }

        const double h = 1e-4;
        var probe = x.detach().clone();
        foreach (var index in new[] { (0, 0, 0), (1, 3, 4), (2, 7, 8), (0, 4, 0), (2, 2, 6) })
        {
            var (c, i, j) = index;
            double original = probe[0, c, i, j].item<double>();
            probe[0, c, i, j] = tensor(original + h);
            double up = F(probe);
            probe[0, c, i, j] = tensor(original - h);
            double down = F(probe);
            probe[0, c, i, j] = tensor(original);
            Assert.Equal((up - down) / (2 * h), analytic[0, c, i, j].item<double>(), 6);
        }
    }

    [Fact]
    public void Pipelines_are_immutable_and_describe_themselves()
    {
        var pad = Transform.Pad(2);
        var padJitter = pad.Jitter(1);
        Assert.Single(pad.Steps);
        Assert.Equal(2, padJitter.Steps.Count);
        Assert.Equal("none", TransformPipeline.None.Describe());
        Assert.Equal("pad 12 (0.5) → jitter 8 → scale 0.9…1.1 (11 choices) → rotate -10°…10° (26 choices) → jitter 4",
            TransformPipeline.Standard.Describe());
        Assert.Equal("rotate {-5°,0°,5°}", Transform.Rotate(Transform.Range(-5, 5).Where(d => d % 5 == 0)).Steps[0].Describe());
    }

    [Fact]
    public void Standard_pipeline_round_trips_through_json()
    {
        string json = JsonSerializer.Serialize<ITransform>(TransformPipeline.Standard);
        Assert.Contains("\"kind\":\"rotate\"", json);
        var back = Assert.IsType<TransformPipeline>(JsonSerializer.Deserialize<ITransform>(json));
        Assert.Equal(TransformPipeline.Standard.Describe(), back.Describe());

        using var image = RandomImage(1, 30, 30, seed: 12);
        using var scope = NewDisposeScope();
        Assert.True(Identical(back.Apply(image, new Random(3)), TransformPipeline.Standard.Apply(image, new Random(3))));
    }

    [Fact]
    public void Impossible_settings_and_inputs_are_rejected()
    {
        var tooSmall = Assert.Throws<InvalidSettingException>(() => new Jitter(8).Apply(zeros(1, 3, 8, 20), new Random(0)));
        Assert.Contains("[1,3,8,20]", tooSmall.Message);
        Assert.Throws<InvalidSettingException>(() => new Pad(9, PadMode.Reflect).Apply(zeros(1, 3, 8, 20), new Random(0)));
        Assert.Throws<InvalidSettingException>(() => Transform.Scale());
        Assert.Throws<InvalidSettingException>(() => Transform.Scale(0));
        Assert.Throws<InvalidSettingException>(() => new Jitter(-1));
        Assert.Throws<InvalidSettingException>(() => new Jitter(1).Apply(zeros(3, 8, 8), new Random(0)));
    }
}
