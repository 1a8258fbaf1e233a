using ResearchKit.Models;
using ResearchKit.Objectives;
using TorchSharp;
using static TorchSharp.torch;

namespace ResearchKit.Diagnostics;

/// <summary>
/// Settings of a plain pixel-space class visualization with the regularizers of Yosinski et al. 2015 ("Understanding
/// Neural Networks Through Deep Visualization"): random jitter, a blur every few steps, and a total-variation penalty.
/// </summary>
/// <param name="Steps">Adam steps.</param>
/// <param name="LearningRate">Adam's step size on the pre-sigmoid pixels.</param>
/// <param name="Jitter">Largest random shift, as a fraction of the image size, applied before every step.</param>
/// <param name="TotalVariationWeight">Weight of the quadratic total variation subtracted from the class logit.</param>
/// <param name="BlurEvery">Blur the pixels every this many steps (0: never).</param>
/// <param name="BlurSigma">Standard deviation of that Gaussian blur in pixels.</param>
public sealed record PixelAscentSettings(int Steps = 160, double LearningRate = 0.05, double Jitter = 0.06, double TotalVariationWeight = 2,
    int BlurEvery = 4, double BlurSigma = 0.5);

/// <summary>
/// Gradient ascent on a class logit directly in pixel space (sigmoid-parameterized, so pixels stay in [0,1]), starting
/// from faint seeded noise. A simple baseline for <see cref="IClassVisualizer"/>; the kit's renderer with its priors
/// gives more natural images through the same seam.
/// </summary>
public sealed class PixelAscentVisualizer(PixelAscentSettings? settings = null) : IClassVisualizer
{
    /// <summary>The settings in use.</summary>
    public PixelAscentSettings Settings { get; } = settings ?? new PixelAscentSettings();

    /// <inheritdoc/>
    public string Description => FormattableString.Invariant(
        $"pixel-space ascent on the class logit: {Settings.Steps} Adam steps (lr {Settings.LearningRate}), jitter {Settings.Jitter:0.###}, TV weight {Settings.TotalVariationWeight}, blur σ {Settings.BlurSigma} every {Settings.BlurEvery} steps");

    /// <inheritdoc/>
    public Tensor Visualize(Model model, int classIndex, int seed, CancellationToken cancellationToken = default)
    {
        int height = model.InputHeight, width = model.InputWidth;
        int jitter = (int)Math.Round(Settings.Jitter * Math.Min(height, width));
        var shifts = new Random(seed);
        var objective = Objective.ClassLogit(classIndex) - Settings.TotalVariationWeight * Objective.TotalVariation();
        using var pixels = new TorchSharp.Modules.Parameter(0.1f * randn([1, 3, height, width], generator: new Generator((ulong)seed)));
        using var optimizer = optim.Adam([pixels], Settings.LearningRate);
        for (int step = 1; step <= Settings.Steps; step++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            using var scope = NewDisposeScope();
            using var kernels = model.Kernels();
            var image = sigmoid(pixels);
            var shifted = image.roll([shifts.Next(-jitter, jitter + 1), shifts.Next(-jitter, jitter + 1)], [2, 3]);
            var value = objective.Evaluate(new ObjectiveContext(model, model.Run(shifted, objective.Taps), image)).sum();
            // Gradients for the pixels only: the network's weights stay untouched.
            pixels.grad = torch.autograd.grad([-value], [pixels])[0];
            optimizer.step();
            if (Settings.BlurEvery > 0 && step % Settings.BlurEvery == 0)
                using (no_grad()) pixels.copy_(Priors.ImageFilters.GaussianBlur(pixels, Settings.BlurSigma));
        }
        using (no_grad()) return sigmoid(pixels).detach();
    }
}
