using ResearchKit.Models;
using ResearchKit.Objectives;
using ResearchKit.Optimization;
using ResearchKit.Parameterizations;
using ResearchKit.Priors;
using ResearchKit.Transforms;
using static TorchSharp.torch;

namespace ResearchKit.Rendering;

/// <summary>A render's place in a longer run (a dream's octaves, zoom frames): how its steps are counted in progress reports.</summary>
/// <param name="Label">What this render is within the run, e.g. <c>octave 2/4</c>.</param>
/// <param name="StepsBefore">Steps of the run done before this render starts.</param>
/// <param name="TotalSteps">Steps in the whole run.</param>
public sealed record RenderStage(string Label, int StepsBefore, int TotalSteps);

/// <summary>
/// An immutable description of one render: model, objective, penalties, parameterization, transforms, step priors,
/// optimizer, steps and seed. Every method returns a changed copy, so plans read as sentences and can be shared:
/// <code>Render.Plan(model, "layer3:7").WithPreset("lucid").Size(128, 256).Batch(4).Steps(256).Run()</code>
/// Defaults are Lucid's: Fourier + decorrelated colour, the standard transforms, Adam 0.05.
/// </summary>
public sealed record RenderPlan
{
    internal RenderPlan(Model model, Objective objective)
    {
        Model = model;
        Objective = objective;
        var lucid = PriorPresets.Lucid;
        (PresetName, CreateParameterization, Transforms, Penalties, Priors, Optimizer, StepCount, RedirectedRelu) =
            (lucid.Name, lucid.CreateParameterization, lucid.Transforms, lucid.Penalties, lucid.Priors, lucid.Optimizer, lucid.DefaultSteps, lucid.RedirectedRelu);
        Height = model.InputHeight;
        Width = model.InputWidth;
    }

    /// <summary>The network.</summary>
    public Model Model { get; init; }
    /// <summary>What to maximize.</summary>
    public Objective Objective { get; init; }
    /// <summary>Regularizer terms subtracted from the objective (e.g. a preset's total variation); null for none.</summary>
    public Objective? Penalties { get; init; }
    /// <summary>Name of the preset the plan started from (null once the pieces no longer match it).</summary>
    public string? PresetName { get; init; }
    /// <summary>Makes the free parameters and maps them to an image.</summary>
    public ParameterizationFactory CreateParameterization { get; init; }
    /// <summary>Robustness transforms applied to the image every step.</summary>
    public ITransform Transforms { get; init; }
    /// <summary>Pixel edits after each step (blur every k steps, clipping, decay).</summary>
    public IReadOnlyList<StepPrior> Priors { get; init; }
    /// <summary>How parameters are updated.</summary>
    public OptimizerSettings Optimizer { get; init; }
    /// <summary>Optimizer steps.</summary>
    public int StepCount { get; init; }
    /// <summary>
    /// When the ReLUs take the redirected gradient (<see cref="ReluGradient"/>), so that units silent for the starting
    /// image still get a gradient: Lucid's first 16 steps by default.
    /// </summary>
    public ReluRedirect RedirectedRelu { get; init; }
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
    /// <summary>Told after every step (no image: cheap enough for a progress bar).</summary>
    public IProgress<RenderProgress>? Progress { get; init; }
    /// <summary>This render's place in a longer run, for progress reports; null for a render on its own.</summary>
    public RenderStage? Stage { get; init; }
    /// <summary>The command line, recorded in the provenance.</summary>
    public string? Command { get; init; }
    /// <summary>Where the render computes; null (the default) for wherever the model is when the plan runs.</summary>
    public RenderDevice? Device { get; init; }
    /// <summary>Compute the objective's gradient tile by tile, tiles at most this many pixels per side; null for the whole image at once.</summary>
    public int? Tile { get; init; }
    /// <summary>
    /// Whether the preset's transforms shrink with small images (<see cref="TransformPipeline.ScaledTo"/>): true after
    /// <see cref="WithPreset(PriorPreset)"/>, false once transforms are chosen with <see cref="WithTransforms"/>.
    /// </summary>
    public bool ScaleTransforms { get; init; } = true;
    /// <summary>
    /// Whether the transformed image is resized to the model's input size before it goes in (Lucent's
    /// <c>fixed_image_size</c>), for networks that take one size only; null decides from the model (vision
    /// transformers, whose position embeddings fix the number of patches, do).
    /// </summary>
    public bool? FixedInputSize { get; init; }

    /// <summary>Takes parameterization, transforms, penalties, step priors, optimizer and default steps from a preset.</summary>
    public RenderPlan WithPreset(PriorPreset preset) => this with
    {
        PresetName = preset.Name,
        CreateParameterization = preset.CreateParameterization,
        Transforms = preset.Transforms,
        Penalties = preset.Penalties,
        Priors = preset.Priors,
        Optimizer = preset.Optimizer,
        StepCount = preset.DefaultSteps,
        RedirectedRelu = preset.RedirectedRelu,
        ScaleTransforms = true,
    };

    /// <summary>Takes the preset named <paramref name="name"/> (see <see cref="PriorPresets.All"/>).</summary>
    public RenderPlan WithPreset(string name) => WithPreset(PriorPresets.Get(name));

    /// <summary>Uses another parameterization.</summary>
    public RenderPlan WithParameterization(ParameterizationFactory factory) => this with { CreateParameterization = factory, PresetName = null };

    /// <summary>
    /// Starts from <paramref name="image"/> ([N,3,H,W] in [0,1], kept by reference until the plan runs) as pixels in
    /// pixel units, clamped to [0,1] after every step: the image's size and batch become the plan's.
    /// </summary>
    public RenderPlan StartingFrom(Tensor image)
    {
        ImageTensors.RequireBatch(image, nameof(image));
        return this with
        {
            CreateParameterization = (_, _) => Parameterization.FromImage(image),
            Height = (int)image.shape[2],
            Width = (int)image.shape[3],
            BatchSize = (int)image.shape[0],
            PresetName = null,
        };
    }

    /// <summary>Uses other transforms.</summary>
    public RenderPlan WithTransforms(ITransform transforms) => this with { Transforms = transforms, PresetName = null, ScaleTransforms = false };

    /// <summary>Resizes the transformed image to the model's input size (true), never (false), or as the model needs (null).</summary>
    public RenderPlan FixedSize(bool? fixedInputSize) => this with { FixedInputSize = fixedInputSize };

    /// <summary>The transforms the render applies: the plan's, shrunk for small images when they come from a preset, then a resize to the model's input size when it needs one.</summary>
    public ITransform EffectiveTransforms()
    {
        var transforms = ScaleTransforms && Transforms is TransformPipeline pipeline ? pipeline.ScaledTo(Math.Min(Height, Width)) : Transforms;
        if (!(FixedInputSize ?? Model.TakesOneSize)) return transforms;
        var resize = new Resize(Model.InputHeight, Model.InputWidth);
        return transforms is TransformPipeline steps ? steps.Then(resize) : new TransformPipeline([transforms, resize]);
    }

    /// <summary>Replaces the penalties subtracted from the objective (null for none).</summary>
    public RenderPlan WithPenalties(Objective? penalties) => this with { Penalties = penalties, PresetName = null };

    /// <summary>Replaces the step priors.</summary>
    public RenderPlan WithPriors(params IReadOnlyList<StepPrior> priors) => this with { Priors = priors, PresetName = null };

    /// <summary>Adds step priors to the current ones.</summary>
    public RenderPlan AddPriors(params IReadOnlyList<StepPrior> priors) => this with { Priors = [.. Priors, .. priors], PresetName = null };

    /// <summary>Uses another optimizer.</summary>
    public RenderPlan WithOptimizer(OptimizerSettings optimizer) => this with { Optimizer = optimizer, PresetName = null };

    /// <summary>Takes the redirected ReLU gradient as <paramref name="redirect"/> says (off, first N steps, throughout).</summary>
    public RenderPlan RedirectRelu(ReluRedirect redirect) => this with { RedirectedRelu = redirect, PresetName = redirect == RedirectedRelu ? PresetName : null };

    /// <summary>Sets the number of optimizer steps.</summary>
    public RenderPlan Steps(int steps) => this with { StepCount = steps > 0 ? steps : throw new InvalidSettingException("steps must be positive", nameof(steps), steps) };

    /// <summary>Sets the seed.</summary>
    public RenderPlan Seed(int seed) => this with { SeedValue = seed };

    /// <summary>Sets a square image size.</summary>
    public RenderPlan Size(int size) => Size(size, size);

    /// <summary>Sets the image size.</summary>
    public RenderPlan Size(int height, int width) =>
        height is >= MinSide and <= MaxSide && width is >= MinSide and <= MaxSide
            ? this with { Height = height, Width = width }
            : throw new InvalidSettingException($"image size {width}x{height} is outside {MinSide}..{MaxSide} pixels per side (width x height); use Dream with tiling for larger images", nameof(height));

    /// <summary>Renders <paramref name="batch"/> images at once.</summary>
    public RenderPlan Batch(int batch) => this with { BatchSize = batch is > 0 and <= MaxBatch ? batch : throw new InvalidSettingException($"batch must be in 1..{MaxBatch}", nameof(batch), batch) };

    /// <summary>Calls <paramref name="onFrame"/> every <paramref name="interval"/> steps and at the end.</summary>
    public RenderPlan Every(int interval, Action<RenderFrame> onFrame) =>
        this with { FrameInterval = interval > 0 ? interval : throw new InvalidSettingException($"{nameof(interval)} is out of range", nameof(interval)), OnFrame = onFrame };

    /// <summary>Tells <paramref name="progress"/> where the render stands after every step.</summary>
    public RenderPlan ReportTo(IProgress<RenderProgress>? progress) => this with { Progress = progress };

    /// <summary>Counts this render's steps as part of a longer run in progress reports.</summary>
    public RenderPlan InStage(RenderStage? stage) => this with { Stage = stage };

    /// <summary>Computes the objective's gradient over tiles of at most <paramref name="tile"/> pixels per side (null: whole image).</summary>
    public RenderPlan Tiled(int? tile) => this with
    {
        Tile = tile is null or >= MinTile ? tile : throw new InvalidSettingException($"tiles must be at least {MinTile} pixels per side", nameof(tile), tile),
    };

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

    /// <summary>Smallest side a render accepts.</summary>
    public const int MinSide = 8;

    /// <summary>Largest side a render from noise accepts (larger images: start from a photo and tile).</summary>
    public const int MaxSide = 2048;

    /// <summary>Largest batch.</summary>
    public const int MaxBatch = 256;

    /// <summary>Smallest tile side.</summary>
    public const int MinTile = 32;

    /// <summary>
    /// Whether the render sums |∂loss/∂image| over its steps into a transparency map (MaCo's attribution, Fel et al.
    /// 2023; <see cref="RenderResult.TransparencyMap"/>); null (the default) records it for MaCo parameterizations only (with or without alpha).
    /// </summary>
    public bool? TransparencyMap { get; init; }

    /// <summary>Records the transparency map (true), never (false), or for MaCo only (null); see <see cref="TransparencyMap"/>.</summary>
    public RenderPlan WithTransparencyMap(bool? record = true) => this with { TransparencyMap = record };

    /// <summary>
    /// Renders with transparency (Mordvintsev et al. 2018): the parameterization gains an alpha channel
    /// (<see cref="Parameterization.WithAlpha"/>), a <see cref="RandomBackground"/> goes first in the transforms so the
    /// network sees the image over new noise every step, and <paramref name="alphaPenalty"/> × <see cref="Objective.AlphaMean"/>
    /// joins the penalties, so the image keeps only what the objective needs. The result is RGBA (alpha last). Call it
    /// after choosing the parameterization and transforms: it wraps the ones the plan has.
    /// </summary>
    public RenderPlan Transparent(double alphaPenalty = 1)
    {
        if (!(alphaPenalty >= 0) || !double.IsFinite(alphaPenalty))
            throw new InvalidSettingException("The alpha penalty's weight must be ≥ 0 and finite.", nameof(alphaPenalty), alphaPenalty);
        var alpha = alphaPenalty * Objective.AlphaMean();
        return this with
        {
            CreateParameterization = Parameterization.WithAlpha(CreateParameterization),
            Transforms = Transforms is TransformPipeline pipeline ? pipeline.BehindRandomBackground() : new TransformPipeline([new RandomBackground(), Transforms]),
            Penalties = alphaPenalty == 0 ? Penalties : Penalties is null ? alpha : Penalties + alpha,
            PresetName = null,
        };
    }

    /// <summary>Runs the plan (see <see cref="Renderer.Run"/>).</summary>
    public RenderResult Run(CancellationToken cancellation = default) => Renderer.Run(this, cancellation);
}
