using ResearchKit.IO;
using ResearchKit.Models;
using ResearchKit.Parameterizations;
using ResearchKit.Priors;
using ResearchKit.Transforms;
using TorchSharp;
using static TorchSharp.torch;

namespace ResearchKit.Rendering;

/// <summary>
/// The one optimization loop of the kit: parameterization → transforms → model → objective − penalties → optimizer
/// step → step priors. Renders from noise, DeepDream (a schedule of renders that start from a photo, see
/// <see cref="Dreaming.Dream"/>) and the dumbbell lab's class visualizations all run here.
/// </summary>
public static class Renderer
{
    /// <summary>
    /// Runs <paramref name="plan"/> on its device (moving the model there). Memory stays flat (each step lives in a
    /// dispose scope). Cancellation or a non-finite objective or gradient stops at the next step and returns the last
    /// good image; the result says why it stopped. Images come back on the CPU.
    /// </summary>
    /// <exception cref="DeviceUnavailableException">The plan's device is not in this build or on this machine.</exception>
    public static RenderResult Run(RenderPlan plan, CancellationToken cancellation = default)
    {
        var device = plan.Device?.Resolve() ?? plan.Model.Device;
        var model = plan.Model.To(device);
        var loss = new RenderLoss(plan.Objective, plan.Penalties);
        foreach (var tap in loss.Taps) model.ResolveTap(tap);
        var random = new Random(plan.SeedValue);
        using var parameterization = plan.CreateParameterization(new ImageShape(plan.BatchSize, model.InputChannels, plan.Height, plan.Width), plan.SeedValue);
        parameterization.To(device);
        using var optimizer = plan.Optimizer.Create(parameterization.Parameters);
        var pixelLeaf = (parameterization as IPixelImage)?.Pixels;
        var stage = plan.Stage ?? new RenderStage("", 0, plan.StepCount);
        var transforms = plan.EffectiveTransforms();
        var history = new RenderHistory();
        var transparencyMap = NewTransparencyMap(plan, parameterization);

        Tensor lastGood = Snapshot(parameterization);
        var stop = RenderStop.Completed;
        int done = 0;
        bool silent = true;
        // Per batch item: silent while its objective has been exactly 0 at every step; judged once, when the whole
        // render's dead start would be (items of a batch render different units, and one may never fire).
        var itemSilent = Enumerable.Repeat(true, plan.BatchSize).ToArray();
        int[]? deadItems = null;
        for (int step = 0; step < plan.StepCount; step++)
        {
            if (cancellation.IsCancellationRequested) { stop = RenderStop.Cancelled; break; }
            using var scope = NewDisposeScope();
            // The whole step runs on the model's kernels: other threads' models cannot switch them mid-step.
            using var pass = model.Pass();
            optimizer.ZeroGrad();
            var image = parameterization.Image();
            if (transparencyMap is not null) image.retain_grad();
            var input = transforms.Apply(image, random);
            Tensor values;
            try
            {
                using var redirected = ReluGradient.Redirect(plan.RedirectedRelu.AppliesAt(step));
                values = loss.Backward(pass, input, image, plan.Tile);
            }
            catch (ModelRunException e) when (!(plan.FixedInputSize ?? model.TakesOneSize))
            {
                throw new ModelRunException(model.Name, $"{e.Failure} — the transforms ({transforms.Describe()}) made a " +
                    $"{input.shape[3]}x{input.shape[2]} input; if this network takes one input size, render with a fixed size " +
                    $"(--fixed-size, or plan.FixedSize(true)), which resizes the transformed image to {model.InputWidth}x{model.InputHeight}", e);
            }
            // One read-back per step: the values and the gradients' total magnitude (NaN or ∞ anywhere makes it
            // non-finite; exactly 0 means nothing reached the parameters).
            var gradientSize = parameterization.Parameters.Select(p => p.grad is { } g ? g.abs().sum() : zeros(1, device: device).sum());
            var read = cat([values, stack(gradientSize).sum().reshape(1)]).to_type(ScalarType.Float64).cpu().data<double>().ToArray();
            if (read.Any(v => !double.IsFinite(v))) { stop = RenderStop.NonFinite; break; }
            silent &= read[0] == 0 || read[^1] == 0;
            int items = 2 + loss.Names.Count;
            for (int i = 0; i < itemSilent.Length; i++) itemSilent[i] &= read[items + i] == 0;
            if (transparencyMap is not null && image.grad is { } imageGradient) transparencyMap.add_(imageGradient.abs().sum(1, keepdim: true));
            optimizer.Step();
            using (no_grad())
            {
                foreach (var prior in plan.Priors) prior.AfterStep(new PriorStepContext(step, parameterization, pixelLeaf?.grad));
                parameterization.Constrain();
            }

            done = step + 1;
            double objective = read[0];
            var terms = loss.Names.Select((name, k) => (name, value: read[2 + k])).ToDictionary(t => t.name, t => t.value);
            history.Add(done, objective, terms);
            var progress = new RenderProgress(stage.StepsBefore + done, stage.TotalSteps, objective, stage.Label.Length > 0 ? stage.Label : null);
            plan.Progress?.Report(progress);
            bool frame = plan.OnFrame is not null && (done % plan.FrameInterval == 0 || done == plan.StepCount);
            if (frame || done == plan.StepCount || cancellation.IsCancellationRequested)
            {
                var snapshot = Snapshot(parameterization);
                lastGood.Dispose();
                lastGood = snapshot;
            }
            if (frame) plan.OnFrame!(new RenderFrame(progress, lastGood, terms));
            // Dead once the redirect (if any) is over and could not wake the unit; a redirect throughout gets every step.
            if (done == plan.StepCount || done >= DeadAfterSteps && !plan.RedirectedRelu.AppliesAt(done))
            {
                deadItems ??= [.. Enumerable.Range(0, itemSilent.Length).Where(i => silent || itemSilent[i])];
                if (silent) { stop = RenderStop.Dead; break; }
            }
        }
        // After an early stop the parameters hold the last completed step's image; keep it if it is finite.
        if (stop != RenderStop.Completed && done > 0)
        {
            var current = Snapshot(parameterization);
            if (current.isfinite().all().item<bool>()) (lastGood, current) = (current, lastGood);
            current.Dispose();
        }
        return new RenderResult(lastGood, history, Settings(plan, transforms, parameterization) with { TransparencyMap = transparencyMap is not null },
            Provenance.Of(model, plan.SeedValue, plan.Command), stop, done, OnCpu(transparencyMap), deadItems ?? []);
    }

    /// <summary>
    /// A render whose objective (or whole gradient) is exactly 0 at each of its first this many steps stops as
    /// <see cref="RenderStop.Dead"/> (when the redirected ReLU gradient is on, once its steps are over): Lucid's
    /// redirect window, long enough for a redirected gradient to wake a unit.
    /// </summary>
    public const int DeadAfterSteps = 16;

    static Tensor Snapshot(Parameterization parameterization)
    {
        // Owned by the caller across steps, so it must not belong to any step's dispose scope.
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        return parameterization.Image().detach().to(CPU, copy: true).DetachFromDisposeScope();
    }

    static RenderSettings Settings(RenderPlan plan, ITransform transforms, Parameterization parameterization) => new()
    {
        Objective = plan.Objective.Description,
        Penalties = plan.Penalties?.Description,
        Preset = plan.PresetName,
        Parameterization = parameterization.Describe(),
        Transforms = transforms.Describe(),
        Priors = plan.Priors,
        Optimizer = plan.Optimizer,
        Height = plan.Height,
        Width = plan.Width,
        Batch = plan.BatchSize,
        Steps = plan.StepCount,
        Tile = plan.Tile,
        RedirectedRelu = plan.RedirectedRelu,
        Transparent = parameterization is Transparent,
    };

    // MaCo's transparency map (Fel et al. 2023): Σ over steps of |∂loss/∂image|, summed over channels, [N,1,H,W];
    // null unless the plan asks for it (by default: MaCo parameterizations).
    static Tensor? NewTransparencyMap(RenderPlan plan, Parameterization parameterization)
    {
        if (!(plan.TransparencyMap ?? parameterization is Maco or Transparent { Colour: Maco })) return null;
        using var scope = NewDisposeScope();
        return zeros([parameterization.Batch, 1, parameterization.Height, parameterization.Width], device: parameterization.Device).DetachFromDisposeScope();
    }

    static Tensor? OnCpu(Tensor? map)
    {
        if (map is null) return null;
        using var scope = NewDisposeScope();
        var cpu = map.to(CPU, copy: true).DetachFromDisposeScope();
        map.Dispose();
        return cpu;
    }
}
