using System.Diagnostics;
using ResearchKit.Dreaming;
using ResearchKit.Imaging;
using ResearchKit.Models;
using ResearchKit.Models.Execution;
using ResearchKit.Objectives;
using ResearchKit.Optimization;
using ResearchKit.Parameterizations;
using ResearchKit.Rendering;
using ResearchKit.Transforms;
using TorchSharp;
using static TorchSharp.torch;

namespace ResearchKit.Benchmarks;

/// <summary>The figures of <c>researchkit bench</c>, measured the same way as the PyTorch peer in <c>bench/peer.py</c>.</summary>
public sealed record BenchmarkFigures
{
    /// <summary>Activation-maximization steps per second: ResNet-18 to layer3, 224², channel objective, pixel parameters, Adam, jitter 8.</summary>
    public double ActivationMaxStepsPerSecond { get; init; }
    /// <summary>Forward to global pooling and backward to the input, one 224² image, median milliseconds.</summary>
    public double ForwardBackwardMs { get; init; }
    /// <summary>Forward to global pooling, one 224² image, median milliseconds.</summary>
    public double ForwardMs { get; init; }
    /// <summary>Multiply-adds ×2 of every convolution in that forward pass.</summary>
    public double ConvGigaFlops { get; init; }
    /// <summary>Achieved GFLOP/s of the forward pass (conv FLOPs / forward time).</summary>
    public double ForwardGigaFlopsPerSecond { get; init; }
    /// <summary>DeepDream of a 512² image, 4 octaves × 10 steps at layer3, seconds.</summary>
    public double Dream512Seconds { get; init; }
    /// <summary>Resident memory growth over the render steps, percent of the resident memory after warm-up.</summary>
    public double RssGrowthPercent { get; init; }
    /// <summary>Render steps the memory growth was measured over.</summary>
    public int RssSteps { get; init; }
    /// <summary>Peak resident memory of the process after a tiled 4096² dream (tile 512), GiB; 0 when skipped.</summary>
    public double TiledDream4096PeakGiB { get; init; }
    /// <summary>Seconds the tiled 4096² dream took (4 octaves × 2 steps), 0 when skipped.</summary>
    public double TiledDream4096Seconds { get; init; }
    /// <summary>libtorch intra-op threads.</summary>
    public int Threads { get; init; }
    /// <summary>The model's execution mode (<c>exact</c>, <c>fast</c>, <c>bf16</c>).</summary>
    public string Kernels { get; init; } = "";
}

/// <summary>
/// Where a step of the activation-max loop goes, pass by pass, read against what the machine can do: the step's
/// forward pass (with autograd recording, as in a render) and its backward pass to the input are timed on their own at
/// the step's shape; the rest (parameterization, transforms, the optimizer, bookkeeping) is the steady-state step
/// time less both.
/// </summary>
/// <param name="StepMs">Mean step time of the loop at steady state (steps 61 to 160), ms.</param>
/// <param name="ForwardMs">Forward to the tap, median ms.</param>
/// <param name="BackwardMs">Backward from the objective to the input, median ms (forward + backward less forward).</param>
/// <param name="ConvGigaFlop">Convolution GFLOP of the forward pass as run (pruned channels count as not computed). The
/// backward pass computes each convolution's input gradient and no weight gradient: the same multiply-adds again.</param>
/// <param name="Peak">The machine's measured peak.</param>
public sealed record StepPassFigures(double StepMs, double ForwardMs, double BackwardMs, double ConvGigaFlop, MachinePeakFigures Peak)
{
    /// <summary>Step time outside the two passes, ms.</summary>
    public double RestMs => StepMs - ForwardMs - BackwardMs;
    /// <summary>Achieved GFLOP/s of the forward pass.</summary>
    public double ForwardGigaFlopsPerSecond => ConvGigaFlop / (ForwardMs / 1000);
    /// <summary>Achieved GFLOP/s of the backward pass.</summary>
    public double BackwardGigaFlopsPerSecond => ConvGigaFlop / (BackwardMs / 1000);
    /// <summary>Achieved GFLOP/s of the whole step (both passes' convolutions over the step time).</summary>
    public double StepGigaFlopsPerSecond => 2 * ConvGigaFlop / (StepMs / 1000);
}

/// <summary>Start-up of a command, in seconds since the process started.</summary>
/// <param name="CommandStart">When the command began (runtime loaded, options parsed).</param>
/// <param name="ModelLoaded">When the model was imported and audited.</param>
/// <param name="FirstStepDone">When the first render step finished.</param>
/// <param name="Marks">Every moment the loader, importer and audit marked, in order.</param>
public sealed record StartupFigures(double CommandStart, double ModelLoaded, double FirstStepDone, IReadOnlyList<string> Marks);

/// <summary>Runs the benchmark figures on a model (ResNet-18 by default).</summary>
public static class BenchmarkSuite
{
    /// <summary>Measures every figure; <paramref name="rssSteps"/> render steps for the memory check; the 4096² dream last (it sets the peak).</summary>
    public static BenchmarkFigures Run(Model model, int rssSteps = 2000, bool tiledDream = true, Action<string>? log = null)
    {
        log ??= _ => { };
        var figures = new BenchmarkFigures { Threads = get_num_threads(), RssSteps = rssSteps, Kernels = model.Execution.Name };

        log("forward and backward at 224x224");
        double forward;
        using (var image = rand(1, 3, 224, 224))
        using (no_grad())
            forward = Measure.MedianMilliseconds(() => { using var s = NewDisposeScope(); model.Run(image, "pool"); });
        double flops = ConvFlops(model, 224) / 1e9;
        figures = figures with
        {
            ForwardMs = forward,
            ForwardBackwardMs = Measure.PassMilliseconds(model, "pool", 224),
            ConvGigaFlops = flops,
            ForwardGigaFlopsPerSecond = flops / (forward / 1000),
        };

        log("activation maximization steps/s");
        var plan = ActivationMaxPlan(model);
        using (ReadingTheObjectiveChannel(model))
            figures = figures with { ActivationMaxStepsPerSecond = WarmStepsPerSecond(plan) };

        log("DeepDream 512x512, 4 octaves x 10 steps");
        figures = figures with { Dream512Seconds = DreamBenchmarks.DreamTime(model).Seconds };

        log($"resident memory over {rssSteps} render steps");
        plan.Steps(50).Run().Dispose();
        GC.Collect();
        long before = Measure.ResidentBytes();
        plan.Steps(rssSteps).Run().Dispose();
        GC.Collect();
        long after = Measure.ResidentBytes();
        figures = figures with { RssGrowthPercent = 100.0 * (after - before) / before };

        if (tiledDream)
        {
            log("tiled DeepDream 4096x4096 (tile 512)");
            var tiled = DreamBenchmarks.TiledPeakMemory(model);
            figures = figures with { TiledDream4096Seconds = tiled.Seconds, TiledDream4096PeakGiB = tiled.PeakRssBytes / (double)(1L << 30) };
        }
        return figures;
    }

    /// <summary>
    /// Steps per second from step <paramref name="first"/> to step <paramref name="steps"/> of one render: start-up
    /// is left out, the warm-up of the first steps after it (oneDNN building kernels, .NET compiling hot methods) is
    /// not, as a user sees it. Measured first thing after loading, like the peer's figure.
    /// </summary>
    public static double WarmStepsPerSecond(RenderPlan plan, int steps = 220, int first = 20)
    {
        var clock = Stopwatch.StartNew();
        double atFirst = 0, atLast = 0;
        plan.Steps(steps).Every(first, frame =>
        {
            if (frame.Step == first) atFirst = clock.Elapsed.TotalSeconds;
            if (frame.Step == steps) atLast = clock.Elapsed.TotalSeconds;
        }).Run().Dispose();
        return (steps - first) / (atLast - atFirst);
    }

    /// <summary>
    /// Where start-up went, as <c>visualize --steps 1</c> spends it: the marks of the loader, the import and the audit,
    /// then one render step of the default (Lucid) plan. <paramref name="start"/> and <paramref name="loaded"/> are
    /// <see cref="Benchmarks.Startup.Now"/> before and after the command loaded the model.
    /// </summary>
    public static StartupFigures Startup(Model model, double start, double loaded)
    {
        Benchmarks.Startup.Mark("first step begins");
        Render.Plan(model, Objective.Channel("layer3", 7)).Steps(1).Run().Dispose();
        Benchmarks.Startup.Mark("first step done");
        var marks = Benchmarks.Startup.Moments;
        return new StartupFigures(start, loaded, marks[^1].Seconds, [.. marks.Select(m => $"{m.Seconds:0.000} s {m.Name}")]);
    }

    /// <summary>
    /// <see cref="StepPassFigures"/> of <see cref="ActivationMaxPlan"/>, measured after that loop has warmed up, then
    /// the machine's peak. Inside <see cref="ReadingTheObjectiveChannel"/> it measures the bench's pruned loop.
    /// </summary>
    public static StepPassFigures Passes(Model model)
    {
        double stepMs = 1000 / WarmStepsPerSecond(ActivationMaxPlan(model), steps: 160, first: 60);
        // The loop's input: the 224² image less the jitter's 8 pixels. Under the reading scope the tap's other channels
        // are constant zeros, so the mean's gradient takes the objective channel's path alone.
        const int side = 216;
        double forwardMs = Measure.PassMilliseconds(model, "layer3", side, backward: false, repeats: 20);
        double bothMs = Measure.PassMilliseconds(model, "layer3", side, repeats: 20);
        return new StepPassFigures(stepMs, forwardMs, bothMs - forwardMs, ConvFlops(model, side, "layer3") / 1e9, MachinePeak.Measure());
    }

    /// <summary>The benchmark objectives read channel 7 of layer3 only: the network computes no other channel of its last convolution.</summary>
    public static IDisposable ReadingTheObjectiveChannel(Model model) => model.ReadingOnly("layer3", 7);

    /// <summary>Lucid's default path (the <c>lucid</c> preset: Fourier, decorrelated colour, its transforms), channel 7 of layer3, 224².</summary>
    public static RenderPlan LucidPlan(Model model) => Render.Plan(model, Objective.Channel("layer3", 7)).Size(224);

    /// <summary>Seconds of a 512² dream of layer3 (4 octaves × 10 steps), measured first thing after loading like the peer's.</summary>
    public static double DreamSeconds(Model model)
    {
        using var chelsea = SampleImages.Load("chelsea");
        using var photo = ImageOps.Resize(chelsea, 512, 512);
        var clock = Stopwatch.StartNew();
        using (Dream.Run(model, photo, new DreamSettings("layer3"))) { }
        return clock.Elapsed.TotalSeconds;
    }

    /// <summary>The loop the peer runs too: pixel parameters (sigmoid), jitter 8, Adam 0.05, channel 7 of layer3, 224².</summary>
    public static RenderPlan ActivationMaxPlan(Model model) =>
        Render.Plan(model, Objective.Channel("layer3", 7)).Size(224)
            .WithParameterization((shape, s) => Parameterization.Pixel(shape, PixelRange.Sigmoid, seed: s))
            .WithTransforms(Transform.Jitter(8))
            .WithPriors([])
            .WithOptimizer(new Adam(0.05));

    /// <summary>
    /// FLOPs (2 × multiply-adds) of the 2-D convolutions one forward pass of a <paramref name="size"/>² image to
    /// <paramref name="tap"/> runs, counted as they run (<see cref="FlopCount"/>): channels a reading scope prunes count
    /// as not computed. 0 for models whose convolutions are not the kit's own (<see cref="SequentialModel"/>).
    /// </summary>
    public static double ConvFlops(Model model, int size, string tap = "pool")
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        using var count = FlopCount.Start();
        model.Run(rand(1, model.InputChannels, size, size), tap);
        return count.Flops;
    }
}
