using ResearchKit.Models;
using ResearchKit.Objectives;
using ResearchKit.Optimization;
using ResearchKit.Parameterizations;
using ResearchKit.Priors;
using ResearchKit.Transforms;

namespace ResearchKit.Rendering;

/// <summary>Creates the parameterization of a render from its seed.</summary>
public delegate Parameterization ParameterizationFactory(int height, int width, int batch, int seed);

/// <summary>
/// An immutable description of one render: model, objective, parameterization, transforms, priors, optimizer, steps
/// and seed. Every method returns a changed copy, so plans read as sentences and can be shared:
/// <code>Render.Plan(model, "layer3:7").WithPreset("lucid").Batch(4).Steps(256).Run()</code>
/// Defaults are Lucid's: Fourier + decorrelated colour, the standard transforms, Adam 0.05.
/// </summary>
public sealed record RenderPlan
{
    internal RenderPlan(Model model, Objective objective)
    {
        Model = model;
        Objective = objective;
        var lucid = PriorPresets.Get("lucid");
        (PresetName, CreateParameterization, Transforms, Priors, Optimizer, StepCount) =
            (lucid.Name, (h, w, n, s) => lucid.CreateParameterization(h, n, s), lucid.Transforms, lucid.Priors, lucid.Optimizer, lucid.DefaultSteps);
        Height = model.InputHeight;
        Width = model.InputWidth;
    }

    /// <summary>The network.</summary>
    public Model Model { get; init; }
    /// <summary>What to maximize.</summary>
    public Objective Objective { get; init; }
    /// <summary>Name of the preset the plan started from (null once the pieces no longer match it).</summary>
    public string? PresetName { get; init; }
    /// <summary>Makes the free parameters and maps them to an image.</summary>
    public ParameterizationFactory CreateParameterization { get; init; }
    /// <summary>Robustness transforms applied to the image every step.</summary>
    public ITransform Transforms { get; init; }
    /// <summary>Natural-image priors.</summary>
    public IReadOnlyList<Prior> Priors { get; init; }
    /// <summary>How parameters are updated.</summary>
    public OptimizerSettings Optimizer { get; init; }
    /// <summary>Optimizer steps.</summary>
    public int StepCount { get; init; }
    /// <summary>Seed for initialization and transforms.</summary>
    public int SeedValue { get; init; }
    /// <summary>Image height.</summary>
    public int Height { get; init; }
    /// <summary>Image width.</summary>
    public int Width { get; init; }
    /// <summary>Images rendered at once (objective per batch item).</summary>
    public int BatchSize { get; init; } = 1;
    /// <summary>Deliver a frame every this many steps (and at the last step).</summary>
    public int FrameInterval { get; init; }
    /// <summary>Receives frames.</summary>
    public Action<RenderFrame>? OnFrame { get; init; }
    /// <summary>The command line, recorded in the settings.</summary>
    public string? Command { get; init; }
    /// <summary>Where the render computes; null (the default) for wherever the model is when the plan runs.</summary>
    public RenderDevice? Device { get; init; }

    /// <summary>Takes parameterization, transforms, priors, optimizer and default steps from a preset.</summary>
    public RenderPlan WithPreset(PriorPreset preset) => this with
    {
        PresetName = preset.Name,
        CreateParameterization = (h, w, n, s) => preset.CreateParameterization(h, n, s),
        Transforms = preset.Transforms,
        Priors = preset.Priors,
        Optimizer = preset.Optimizer,
        StepCount = preset.DefaultSteps,
    };

    /// <summary>Takes the preset named <paramref name="name"/> (see <see cref="PriorPresets.All"/>).</summary>
    public RenderPlan WithPreset(string name) => WithPreset(PriorPresets.Get(name));

    /// <summary>Uses another parameterization.</summary>
    public RenderPlan WithParameterization(ParameterizationFactory factory) => this with { CreateParameterization = factory, PresetName = null };

    /// <summary>Uses other transforms.</summary>
    public RenderPlan WithTransforms(ITransform transforms) => this with { Transforms = transforms, PresetName = null };

    /// <summary>Replaces the priors.</summary>
    public RenderPlan WithPriors(params IReadOnlyList<Prior> priors) => this with { Priors = priors, PresetName = null };

    /// <summary>Adds priors to the current ones.</summary>
    public RenderPlan AddPriors(params IReadOnlyList<Prior> priors) => this with { Priors = [.. Priors, .. priors], PresetName = null };

    /// <summary>Uses another optimizer.</summary>
    public RenderPlan WithOptimizer(OptimizerSettings optimizer) => this with { Optimizer = optimizer, PresetName = null };

    /// <summary>Sets the number of optimizer steps.</summary>
    public RenderPlan Steps(int steps) => this with { StepCount = steps > 0 ? steps : throw new ArgumentOutOfRangeException(nameof(steps), steps, "steps must be positive") };

    /// <summary>Sets the seed.</summary>
    public RenderPlan Seed(int seed) => this with { SeedValue = seed };

    /// <summary>Sets a square image size.</summary>
    public RenderPlan Size(int size) => Size(size, size);

    /// <summary>Sets the image size.</summary>
    public RenderPlan Size(int height, int width) =>
        height is >= 8 and <= MaxSide && width is >= 8 and <= MaxSide
            ? this with { Height = height, Width = width }
            : throw new ArgumentOutOfRangeException(nameof(height), $"image size {height}x{width} is outside 8..{MaxSide}; use Dream with tiling for larger images");

    /// <summary>Renders <paramref name="batch"/> images at once.</summary>
    public RenderPlan Batch(int batch) => this with { BatchSize = batch is > 0 and <= 256 ? batch : throw new ArgumentOutOfRangeException(nameof(batch), batch, "batch must be in 1..256") };

    /// <summary>Calls <paramref name="onFrame"/> every <paramref name="interval"/> steps and at the end.</summary>
    public RenderPlan Every(int interval, Action<RenderFrame> onFrame) =>
        this with { FrameInterval = interval > 0 ? interval : throw new ArgumentOutOfRangeException(nameof(interval)), OnFrame = onFrame };

    /// <summary>
    /// Computes on <paramref name="device"/>: running the plan moves the model there (where it stays) and makes the
    /// parameters there; the images and values come back to the CPU.
    /// </summary>
    public RenderPlan OnDevice(RenderDevice device) => this with { Device = device ?? throw new ArgumentNullException(nameof(device)) };

    /// <summary>Computes on the device named <paramref name="device"/>: <c>cpu</c>, <c>cuda</c> or <c>cuda:N</c>.</summary>
    /// <exception cref="UnknownDeviceException">Not a device name.</exception>
    public RenderPlan OnDevice(string device) => OnDevice(RenderDevice.Parse(device));

    /// <summary>Records the command line that made this plan.</summary>
    public RenderPlan FromCommand(string command) => this with { Command = command };

    /// <summary>Largest side a single (untiled) render accepts.</summary>
    public const int MaxSide = 2048;

    /// <summary>Runs the plan (see <see cref="Renderer.Run"/>).</summary>
    public RenderResult Run(CancellationToken cancellation = default) => Renderer.Run(this, cancellation);
}
