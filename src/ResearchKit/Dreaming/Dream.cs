using ResearchKit.Imaging;
using ResearchKit.IO;
using ResearchKit.Models;
using ResearchKit.Objectives;
using ResearchKit.Optimization;
using ResearchKit.Rendering;
using ResearchKit.Transforms;
using TorchSharp;
using static TorchSharp.torch;

namespace ResearchKit.Dreaming;

/// <summary>
/// DeepDream (Mordvintsev, Olah &amp; Tyka 2015): gradient ascent on a photo so that a layer sees more of whatever it
/// already sees. The algorithm is the original notebook's: an octave loop that dreams small scales first and carries
/// the detail up, each octave a few of the notebook's <c>make_step</c>s — which here is a render of the kit's one
/// engine (<see cref="Renderer"/>) that starts from the octave's image: a random roll as the jitter, normalized
/// gradient ascent as the optimizer, pixels clamped to [0,1] after each step, gradients tile by tile for large images.
/// The zoom loop and layer comparisons are schedules of dreams:
/// <code>using var dream = Dream.Run(model, photo, new DreamSettings("layer3"));</code>
/// </summary>
public static class Dream
{
    /// <summary>Smallest side, in pixels, an octave may have.</summary>
    public const int MinOctaveSide = 16;

    /// <summary>
    /// Dreams <paramref name="photo"/> ([1,3,H,W] or [3,H,W], values in [0,1]) on the model's device (see
    /// <see cref="Model.To"/>); the dream comes back on the CPU. Cancellation, or a gradient that is NaN or infinite,
    /// stops at the next step and still returns a full-size image (the detail dreamt so far carried up); the result
    /// says why it stopped.
    /// </summary>
    /// <param name="progress">Told after every step; the stage names the octave.</param>
    /// <param name="onStep">Called after every step with a copy of the image at the octave's size (e.g. to show the dream unfolding in a notebook).</param>
    /// <exception cref="InvalidSettingException">Not a single RGB image, too small for the octaves, or a setting out of range.</exception>
    /// <exception cref="UnknownTapException">The objective reads a layer the model does not have.</exception>
    public static DreamResult Run(Model model, Tensor photo, DreamSettings settings, IProgress<RenderProgress>? progress = null,
        Action<RenderFrame>? onStep = null, CancellationToken cancellation = default) =>
        Run(model, photo, settings, new DreamSchedule(progress, onStep, null, 0, settings.TotalSteps), cancellation);

    internal static DreamResult Run(Model model, Tensor photo, DreamSettings settings, DreamSchedule schedule, CancellationToken cancellation)
    {
        settings.Validate();
        foreach (var tap in settings.Objective.Taps) model.ResolveTap(tap);
        using var scope = NewDisposeScope();
        var start = SinglePhoto(photo).to(CPU);
        OctaveSizes(start.shape[2], start.shape[3], settings.Octaves, settings.OctaveScale);
        double before = Tiling.Measure(model, settings.Objective, start, settings.Tile);
        var stop = RenderStop.Completed;
        int done = 0;

        var dream = DeepDream(start, settings.Octaves, settings.OctaveScale, (image, octave) =>
        {
            if (stop != RenderStop.Completed || settings.StepsPerOctave == 0) return image;
            var plan = Render.Plan(model, settings.Objective).StartingFrom(image)
                .WithTransforms(Transform.Roll(settings.Jitter))
                .WithPenalties(null).WithPriors()
                .WithOptimizer(new NormalizedAscent(settings.StepSize)).RedirectRelu(ReluRedirect.Off)
                .Steps(settings.StepsPerOctave).Seed(OctaveSeed(settings.Seed, octave)).Tiled(settings.Tile)
                .InStage(schedule.Stage(octave, settings)).ReportTo(schedule.Progress);
            if (schedule.OnStep is { } onStep) plan = plan.Every(1, onStep);
            using var result = plan.Run(cancellation);
            done += result.StepsDone;
            stop = result.Stop;
            return result.Images.clone();
        });

        double after = Tiling.Measure(model, settings.Objective, dream, settings.Tile);
        var record = new DreamRecord(settings, (int)dream.shape[3], (int)dream.shape[2]);
        return new DreamResult(dream.MoveToOuterDisposeScope(), record, Provenance.Of(model, settings.Seed), stop, done, before, after);
    }

    // Each octave's jitter has its own stream: frame f of a zoom (seed + f) and octave k never share one.
    static int OctaveSeed(int seed, int octave) => unchecked((int)((uint)seed * 2654435761u + (uint)octave));

    /// <summary>
    /// The notebook's <c>deepdream</c>: base images for every octave (the photo, then each one shrunk by
    /// <paramref name="octaveScale"/>), dreamt smallest first by <paramref name="dreamOctave"/> (image, octave → the
    /// dreamt image); the detail an octave added (dreamt − base) is upscaled and added to the next octave's base.
    /// </summary>
    internal static Tensor DeepDream(Tensor photo, int octaveCount, double octaveScale, Func<Tensor, int, Tensor> dreamOctave)
    {
        var octaves = new List<Tensor> { photo };
        foreach (var (height, width) in OctaveSizes(photo.shape[2], photo.shape[3], octaveCount, octaveScale).Skip(1))
            octaves.Add(ImageOps.Resize(octaves[^1], height, width));
        octaves.Reverse();

        var detail = zeros_like(octaves[0]);
        for (int octave = 0; ; octave++)
        {
            var octaveBase = octaves[octave];
            if (octave > 0)
            {
                using var smaller = detail;
                detail = ImageOps.Resize(smaller, (int)octaveBase.shape[2], (int)octaveBase.shape[3]);
            }
            var dreamt = dreamOctave(detail.add_(octaveBase), octave);   // the octave starts from its base plus the detail so far
            if (octave == octaves.Count - 1) return dreamt;
            detail = dreamt.sub_(octaveBase);                            // the detail produced up to this octave
            octaveBase.Dispose();
        }
    }

    /// <summary>Octave sizes (height, width), the photo's first, each the previous divided by <paramref name="scale"/> and rounded.</summary>
    /// <exception cref="InvalidSettingException">The smallest octave would be under <see cref="MinOctaveSide"/> pixels.</exception>
    public static IReadOnlyList<(int Height, int Width)> OctaveSizes(long height, long width, int octaves, double scale)
    {
        var sizes = new List<(int, int)> { ((int)height, (int)width) };
        for (int k = 1; k < octaves; k++)
        {
            var (h, w) = sizes[^1];
            sizes.Add(((int)Math.Round(h / scale), (int)Math.Round(w / scale)));
        }
        var (smallH, smallW) = sizes[^1];
        if (Math.Min(smallH, smallW) < MinOctaveSide)
            throw new InvalidSettingException($"a {width}×{height} photo is too small for {octaves} octaves at scale {scale}: the smallest octave " +
                $"would be {smallW}×{smallH}, and an octave needs at least {MinOctaveSide} pixels per side; use fewer octaves or a larger photo");
        return sizes;
    }

    /// <summary>
    /// The guided dream's objective (the notebook's <c>objective_guide</c>): each position's activation at
    /// <paramref name="layer"/> is matched to the guide image's feature with the largest dot product, and the mean of
    /// those dot products is maximized, so the photo takes on the guide's features where they fit best.
    /// </summary>
    /// <param name="guide">The guide image ([1,3,H,W] or [3,H,W], values in [0,1]); its features are computed once, now.</param>
    /// <param name="name">How descriptions name the guide (e.g. its file name).</param>
    public static Objective Guide(Model model, string layer, Tensor guide, string name = "image")
    {
        Tensor features;
        using (var scope = NewDisposeScope())
        using (no_grad())
        {
            var activations = model.Run(SinglePhoto(guide), layer);
            if (activations.dim() != 4)
                throw new InvalidSettingException($"layer '{layer}' of model '{model.Name}' has shape [{string.Join(",", activations.shape)}]; a guide needs a spatial layer [N,C,H,W]");
            features = activations[0].flatten(1).detach().clone().DetachFromDisposeScope();   // [C, guide positions]
        }
        return Objective.Custom($"guide {layer} ({name})", [layer], ctx =>
        {
            var a = ctx[layer].flatten(2);                                          // [N, C, positions]
            var dots = matmul(a.transpose(1, 2), features.to(a.dtype, a.device));   // [N, positions, guide positions]
            return dots.max(2).values.mean([1]);
        });
    }

    /// <summary>
    /// The same photo dreamt at each of <paramref name="layers"/> (by default the model's numbered blocks,
    /// <see cref="Model.NumberedLayers"/>), with <see cref="Objective.Layer"/> at each and otherwise
    /// <paramref name="settings"/>; see <see cref="LayerComparison.Sheet"/> for the contact sheet.
    /// </summary>
    public static LayerComparison CompareLayers(Model model, Tensor photo, DreamSettings settings, IReadOnlyList<string>? layers = null,
        IProgress<RenderProgress>? progress = null, Action<RenderFrame>? onStep = null, CancellationToken cancellation = default)
    {
        var chosen = layers ?? model.NumberedLayers();
        if (chosen.Count == 0)
            throw new InvalidSettingException(layers is null
                ? $"model '{model.Name}' has no layer1, layer2, ... aliases; name the layers to compare (e.g. from `researchkit layers`)"
                : "give at least one layer to compare", nameof(layers));
        foreach (var layer in chosen) model.ResolveTap(layer);
        var dreams = new List<(string, DreamResult)>();
        try
        {
            for (int k = 0; k < chosen.Count && !cancellation.IsCancellationRequested; k++)
            {
                var schedule = new DreamSchedule(progress, onStep, chosen[k], k * settings.TotalSteps, chosen.Count * settings.TotalSteps);
                dreams.Add((chosen[k], Run(model, photo, settings with { Objective = Objective.Layer(chosen[k]) }, schedule, cancellation)));
            }
            using var scope = NewDisposeScope();
            return new LayerComparison(SinglePhoto(photo).clone().MoveToOuterDisposeScope(), dreams, Provenance.Of(model, settings.Seed));
        }
        catch
        {
            foreach (var (_, dream) in dreams) dream.Dispose();
            throw;
        }
    }

    /// <summary>The photo as a [1,3,H,W] floating-point view.</summary>
    internal static Tensor SinglePhoto(Tensor photo)
    {
        ArgumentNullException.ThrowIfNull(photo);
        var batch = photo.dim() == 3 ? photo.unsqueeze(0) : photo.alias();
        if (batch.dim() != 4 || batch.shape[0] != 1 || batch.shape[1] != 3 || !batch.is_floating_point())
            throw new InvalidSettingException($"a dream starts from one RGB image of shape [1,3,H,W] or [3,H,W] with values in [0,1]; got {photo.dtype} [{string.Join(",", photo.shape)}]", nameof(photo));
        return batch;
    }

    /// <summary>Where one dream's steps go: progress, step callbacks, and its place in a longer run (zoom frames, compared layers).</summary>
    internal sealed record DreamSchedule(IProgress<RenderProgress>? Progress, Action<RenderFrame>? OnStep, string? Label, int StepsBefore, int TotalSteps)
    {
        public RenderStage Stage(int octave, DreamSettings settings) => new(
            $"{(Label is null ? "" : Label + " · ")}octave {octave + 1}/{settings.Octaves}",
            StepsBefore + octave * settings.StepsPerOctave, TotalSteps);
    }
}
