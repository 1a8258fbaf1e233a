using System.Text.Json;
using ResearchKit.Native;
using ResearchKit.Optimization;
using ResearchKit.Parameterizations;
using static TorchSharp.torch;

namespace ResearchKit.Tests.Optimization;

public class OptimizerSettingsTests
{
    public OptimizerSettingsTests() => TorchRuntime.EnsureLoaded();

    // A pixel leaf holding [1, 2, 3, 4] (clamp range keeps pixel units) and the loss Σ g·p, so ∂loss/∂p = g.
    static (Pixel Pixels, float[] Gradient) LinearProblem()
    {
        using var image = tensor(new float[] { 0.1f, 0.2f, 0.3f, 0.4f, 0.5f, 0.6f }).reshape(1, 3, 1, 2);
        var pixels = Pixel.FromImage(image);
        return (pixels, [1f, -2f, 3f, -4f, 0.5f, 0.5f]);
    }

    static float[] Step(OptimizerSettings settings, Pixel pixels, float[] gradient)
    {
        using var optimizer = settings.Create(pixels.Parameters);
        using var scope = NewDisposeScope();
        optimizer.ZeroGrad();
        (pixels.Pixels * tensor(gradient).reshape(1, 3, 1, 2)).sum().backward();
        optimizer.Step();
        return pixels.Pixels.flatten().data<float>().ToArray();
    }

    [Fact]
    public void Normalized_ascent_steps_by_the_gradient_over_its_mean_magnitude()
    {
        var (pixels, g) = LinearProblem();
        using var _ = pixels;
        float[] before = pixels.Pixels.flatten().data<float>().ToArray();
        float[] after = Step(new NormalizedAscent(0.01), pixels, g);
        float meanAbs = g.Select(Math.Abs).Average(); // 11/6
        Assert.Equal(before.Zip(g, (p, gi) => p - 0.01f * gi / meanAbs), after, new FloatTolerance(1e-6f));
    }

    [Fact]
    public void Gradient_ascent_steps_by_the_rate_times_the_gradient()
    {
        var (pixels, g) = LinearProblem();
        using var _ = pixels;
        float[] before = pixels.Pixels.flatten().data<float>().ToArray();
        float[] after = Step(new GradientAscent(0.05), pixels, g);
        Assert.Equal(before.Zip(g, (p, gi) => p - 0.05f * gi), after, new FloatTolerance(1e-6f));
    }

    [Fact]
    public void Adams_first_step_moves_every_parameter_by_the_learning_rate_against_its_gradient()
    {
        var (pixels, g) = LinearProblem();
        using var _ = pixels;
        float[] before = pixels.Pixels.flatten().data<float>().ToArray();
        float[] after = Step(new Adam(0.02), pixels, g);
        Assert.Equal(before.Zip(g, (p, gi) => p - 0.02f * Math.Sign(gi)), after, new FloatTolerance(1e-5f));
    }

    [Fact]
    public void Zero_grad_clears_the_gradients()
    {
        using var fourier = new Fourier(6, 6);
        using var optimizer = new NormalizedAscent().Create(fourier.Parameters);
        using (NewDisposeScope()) fourier.Image().sum().backward();
        optimizer.ZeroGrad();
        using var scope = NewDisposeScope();
        Assert.Equal(0f, fourier.Parameters[0].grad!.abs().sum().item<float>());
    }

    [Fact]
    public void Settings_validate_and_round_trip_through_json()
    {
        Assert.Throws<InvalidSettingException>(() => new Adam(0));
        Assert.Throws<InvalidSettingException>(() => new NormalizedAscent(double.NaN));
        using var plain = zeros(3).requires_grad_();
        Assert.Throws<InvalidSettingException>(() => new Adam().Create([plain]));
        Assert.Throws<InvalidSettingException>(() => new GradientAscent(1).Create([zeros(3)]));

        OptimizerSettings[] settings = [new Adam(0.05), new NormalizedAscent(0.01), new GradientAscent(2)];
        string json = JsonSerializer.Serialize(settings);
        Assert.Equal(settings, JsonSerializer.Deserialize<OptimizerSettings[]>(json));
        Assert.Equal("Adam lr 0.05", settings[0].Describe());
    }
}
