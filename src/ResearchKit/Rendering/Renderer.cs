using ResearchKit.Objectives;
using ResearchKit.Parameterizations;
using ResearchKit.Priors;
using TorchSharp;
using static TorchSharp.torch;

namespace ResearchKit.Rendering;

/// <summary>The one optimization loop: parameterization → transforms → model → objective − penalties → step → priors.</summary>
public static class Renderer
{
    /// <summary>
    /// Runs <paramref name="plan"/> on its device (moving the model there). Memory stays flat (each step lives in a
    /// dispose scope). Cancellation or a non-finite objective stops at the next step and returns the last good image;
    /// the result says why it stopped. Images come back on the CPU.
    /// </summary>
    /// <exception cref="DeviceUnavailableException">The plan's device is not in this build or on this machine.</exception>
    public static RenderResult Run(RenderPlan plan, CancellationToken cancellation = default)
    {
        var device = plan.Device?.Resolve() ?? plan.Model.Device;
        var model = plan.Model.To(device);
        var objective = plan.Objective;
        foreach (var tap in objective.Taps) model.ResolveTap(tap);
        var random = new Random(plan.SeedValue);
        using var parameterization = plan.CreateParameterization(plan.Height, plan.Width, plan.BatchSize, plan.SeedValue);
        parameterization.To(device);
        using var optimizer = plan.Optimizer.Create(parameterization.Parameters);
        var pixelLeaf = (parameterization as IPixelImage)?.Pixels;
        var history = new RenderHistory();
        var settings = Settings(plan, parameterization, device);

        Tensor lastGood = SnapshotImage(parameterization);
        var stop = RenderStop.Completed;
        int done = 0;
        for (int step = 0; step < plan.StepCount; step++)
        {
            if (cancellation.IsCancellationRequested) { stop = RenderStop.Cancelled; break; }
            using (var scope = NewDisposeScope())
            using (model.Kernels())
            {
                var image = parameterization.Image();
                var transformed = plan.Transforms.Apply(image, random);
                var activations = model.Run(transformed, objective.Taps);
                var termValues = objective.EvaluateTerms(new ObjectiveContext(model, activations, image));
                var total = termValues.Select((v, k) => v * objective.Terms[k].Weight).Aggregate((a, b) => a + b);
                var penalties = plan.Priors.Select(p => (Prior: p, Value: p.Penalty(image))).Where(p => p.Value is not null).ToList();
                var loss = -total.sum();
                foreach (var (_, value) in penalties) loss = loss + value!.sum();

                double objectiveValue = total.mean().item<float>();
                if (!double.IsFinite(objectiveValue) || !double.IsFinite(loss.item<float>())) { stop = RenderStop.NonFinite; break; }
                optimizer.ZeroGrad();
                loss.backward();
                if (parameterization.Parameters.Any(p => p.grad is { } g && !g.isfinite().all().item<bool>())) { stop = RenderStop.NonFinite; break; }
                optimizer.Step();
                using (no_grad())
                {
                    foreach (var prior in plan.Priors)
                        prior.AfterStep(new PriorStepContext(step, parameterization, pixelLeaf?.grad));
                    parameterization.Constrain();
                }

                var terms = new Dictionary<string, double>();
                for (int k = 0; k < termValues.Count; k++)
                    terms[objective.Terms[k].Term.Description] = termValues[k].mean().item<float>();
                foreach (var (prior, value) in penalties)
                    terms[$"penalty: {prior.Describe()}"] = value!.mean().item<float>();
                history.Add(step + 1, objectiveValue, terms);
                done = step + 1;

                bool frame = plan.OnFrame is not null && (done % plan.FrameInterval == 0 || done == plan.StepCount);
                bool keep = frame || done == plan.StepCount || cancellation.IsCancellationRequested;
                if (keep)
                {
                    var snapshot = SnapshotImage(parameterization);
                    lastGood.Dispose();
                    lastGood = snapshot;
                }
                if (frame) plan.OnFrame!(new RenderFrame(done, plan.StepCount, lastGood, objectiveValue, terms));
            }
        }
        // After an early stop the parameters hold the last completed step's image; keep it if it is finite.
        if (stop != RenderStop.Completed && done > 0)
        {
            var current = SnapshotImage(parameterization);
            if (current.isfinite().all().item<bool>()) (lastGood, current) = (current, lastGood);
            current.Dispose();
        }
        return new RenderResult(lastGood, history, settings with { Steps = plan.StepCount }, stop, done);
    }

    static Tensor SnapshotImage(Parameterization parameterization)
    {
        // Owned by the caller across steps, so it must not belong to any step's dispose scope.
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        return parameterization.Image().detach().to(CPU, copy: true).DetachFromDisposeScope();
    }

    static RenderSettings Settings(RenderPlan plan, Parameterization parameterization, Device device) => new()
    {
        Model = plan.Model.Name,
        Normalization = plan.Model.NormalizationDescription,
        Objective = plan.Objective.Description,
        Preset = plan.PresetName,
        Parameterization = parameterization.Describe(),
        Transforms = plan.Transforms.Describe(),
        Priors = plan.Priors,
        Optimizer = plan.Optimizer,
        Height = plan.Height,
        Width = plan.Width,
        Batch = plan.BatchSize,
        Steps = plan.StepCount,
        Seed = plan.SeedValue,
        Device = RenderDevice.Of(device).ToString(),
        Kernels = plan.Model.Execution.Name,
        Command = plan.Command,
    };
}
