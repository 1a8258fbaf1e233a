using ResearchKit.Imaging;
using ResearchKit.Models;
using ResearchKit.Objectives;
using ResearchKit.Rendering;
using TorchSharp;
using static TorchSharp.torch;

namespace ResearchKit.Dreaming;

/// <summary>
/// DeepDream (Mordvintsev, Olah &amp; Tyka 2015): gradient ascent on a photo so that a layer sees more of whatever it
/// already sees. The algorithm is the original notebook's: <see cref="MakeStep"/> (jitter, gradient, normalized step,
/// clip) and an octave loop that dreams small scales first and carries the detail up. Tiling, the zoom loop and layer
/// comparisons wrap it:
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
    /// <param name="progress">Told after every step.</param>
    /// <param name="onStep">Called after every step with the live image (e.g. to show it in a notebook).</param>
    /// <exception cref="ArgumentException">Not a single RGB image, too small for the octaves, or a setting out of range.</exception>
    /// <exception cref="UnknownTapException">The objective reads a layer the model does not have.</exception>
    public static DreamResult Run(Model model, Tensor photo, DreamSettings settings, IProgress<DreamProgress>? progress = null,
        Action<DreamStep>? onStep = null, CancellationToken cancellation = default) =>
        Run(model, photo, settings, new Reporter(progress, onStep), cancellation);

    internal static DreamResult Run(Model model, Tensor photo, DreamSettings settings, Reporter reporter, CancellationToken cancellation)
    {
        settings.Validate();
        foreach (var tap in settings.Objective.Taps) model.ResolveTap(tap);
        using var scope = NewDisposeScope();
        var start = SinglePhoto(photo).to(model.Device);
        OctaveSizes(start.shape[2], start.shape[3], settings.Octaves, settings.OctaveScale);
        var random = new Random(settings.Seed);
        var stop = DreamStop.Completed;
        int done = 0;
        double before = DreamGradient.Value(model, settings.Objective, start, settings.Tile);

        var dream = DeepDream(start, settings.Octaves, settings.OctaveScale, settings.StepsPerOctave, (image, octave, step) =>
        {
            if (cancellation.IsCancellationRequested)
            {
                stop = DreamStop.Cancelled;
                return false;
            }
            if (!MakeStep(model, image, settings, random))
            {
                stop = DreamStop.NonFinite;
                return false;
            }
            done++;
            reporter.Report(octave + 1, settings.Octaves, step + 1, settings.StepsPerOctave, image);
            return true;
        });

        double after = DreamGradient.Value(model, settings.Objective, dream, settings.Tile);
        var record = new DreamRecord(model.Name, model.NormalizationDescription, settings, (int)dream.shape[3], (int)dream.shape[2])
        {
            Device = RenderDevice.Of(model.Device).ToString(),
            Kernels = model.Execution.Name,
        };
        return new DreamResult(dream.cpu().MoveToOuterDisposeScope(), record, stop, done, before, after);
    }

    /// <summary>
    /// One step of gradient ascent, the notebook's <c>make_step</c>: shift the image by a random jitter (a wrap-around
    /// roll), take the objective's gradient, move along it by <see cref="DreamSettings.StepSize"/> divided by the
    /// gradient's mean magnitude, shift back, and clip to valid pixels. Changes <paramref name="image"/> ([1,3,h,w]) in place.
    /// </summary>
    /// <returns>False, leaving the image as it was, when the gradient is NaN or infinite.</returns>
    public static bool MakeStep(Model model, Tensor image, DreamSettings settings, Random random)
    {
        using var scope = NewDisposeScope();
        int jitter = settings.Jitter;
        int shiftX = random.Next(-jitter, jitter + 1), shiftY = random.Next(-jitter, jitter + 1);
        var g = settings.Tile is { } tile
            ? DreamGradient.Tiled(model, settings.Objective, image, shiftY, shiftX, tile)
            : DreamGradient.Whole(model, settings.Objective, image, shiftY, shiftX);
        using var noGrad = no_grad();
        double meanMagnitude = linalg.vector_norm(g, ord: 1).ToDouble() / g.numel();   // mean |g| without an image-sized temporary
        if (!double.IsFinite(meanMagnitude)) return false;
        image.add_(g, alpha: settings.StepSize / (meanMagnitude + 1e-12));
        image.clamp_(0, 1);
        return true;
    }

    /// <summary>
    /// The notebook's <c>deepdream</c>: base images for every octave (the photo, then each one shrunk by
    /// <paramref name="octaveScale"/>), dreamt smallest first; the detail the steps added at one octave (dreamt − base)
    /// is upscaled and added to the next octave's base. <paramref name="makeStep"/> changes the image in place and
    /// returns false to skip the remaining steps (the carry still runs, so the result has the photo's size).
    /// </summary>
    internal static Tensor DeepDream(Tensor photo, int octaveCount, double octaveScale, int steps, Func<Tensor, int, int, bool> makeStep)
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
            var image = detail.add_(octaveBase);            // the octave starts from its base plus the detail so far
            for (int step = 0; step < steps && makeStep(image, octave, step); step++) { }
            if (octave == octaves.Count - 1) return image;
            detail = image.sub_(octaveBase);                // the detail produced up to this octave
            octaveBase.Dispose();
        }
    }

    /// <summary>Octave sizes (height, width), the photo's first, each the previous divided by <paramref name="scale"/> and rounded.</summary>
    /// <exception cref="ArgumentException">The smallest octave would be under <see cref="MinOctaveSide"/> pixels.</exception>
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
            throw new ArgumentException($"a {width}×{height} photo is too small for {octaves} octaves at scale {scale}: the smallest octave " +
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
                throw new ArgumentException($"layer '{layer}' of model '{model.Name}' has shape [{string.Join(",", activations.shape)}]; a guide needs a spatial layer [N,C,H,W]");
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
    /// The same photo dreamt at each of <paramref name="layers"/> (by default the model's <c>layerN</c> aliases in order),
    /// with <see cref="Objective.Layer"/> at each and otherwise <paramref name="settings"/>; see
    /// <see cref="LayerComparison.Sheet"/> for the contact sheet.
    /// </summary>
    public static LayerComparison CompareLayers(Model model, Tensor photo, DreamSettings settings, IReadOnlyList<string>? layers = null,
        IProgress<DreamProgress>? progress = null, Action<DreamStep>? onStep = null, CancellationToken cancellation = default)
    {
        var chosen = layers ?? NumberedLayers(model);
        if (chosen.Count == 0) throw new ArgumentException("give at least one layer to compare", nameof(layers));
        foreach (var layer in chosen) model.ResolveTap(layer);
        var dreams = new List<(string, DreamResult)>();
        try
        {
            for (int k = 0; k < chosen.Count && !cancellation.IsCancellationRequested; k++)
            {
                var reporter = new Reporter(progress, onStep, k + 1, chosen.Count, chosen[k]);
                dreams.Add((chosen[k], Run(model, photo, settings with { Objective = Objective.Layer(chosen[k]) }, reporter, cancellation)));
            }
            using var scope = NewDisposeScope();
            return new LayerComparison(SinglePhoto(photo).clone().MoveToOuterDisposeScope(), dreams);
        }
        catch
        {
            foreach (var (_, dream) in dreams) dream.Dispose();
            throw;
        }
    }

    /// <summary>The model's <c>layer1</c>, <c>layer2</c>, ... aliases in numeric order (ResNet's blocks).</summary>
    /// <exception cref="ArgumentException">The model has no such aliases; the message says to name the taps.</exception>
    public static IReadOnlyList<string> NumberedLayers(Model model)
    {
        var layers = model.Aliases.Keys
            .Where(k => k.Length > 5 && k.StartsWith("layer", StringComparison.OrdinalIgnoreCase) && k[5..].All(char.IsAsciiDigit))
            .OrderBy(k => int.Parse(k[5..])).ToList();
        return layers.Count > 0 ? layers
            : throw new ArgumentException($"model '{model.Name}' has no layer1, layer2, ... aliases; name the layers to compare (e.g. from `researchkit layers`)");
    }

    /// <summary>The photo as a [1,3,H,W] floating-point view.</summary>
    internal static Tensor SinglePhoto(Tensor photo)
    {
        ArgumentNullException.ThrowIfNull(photo);
        var batch = photo.dim() == 3 ? photo.unsqueeze(0) : photo.alias();
        if (batch.dim() != 4 || batch.shape[0] != 1 || batch.shape[1] != 3 || !batch.is_floating_point())
            throw new ArgumentException($"a dream starts from one RGB image of shape [1,3,H,W] or [3,H,W] with values in [0,1]; got {photo.dtype} [{string.Join(",", photo.shape)}]", nameof(photo));
        return batch;
    }

    /// <summary>Turns steps of one dream into progress reports and step callbacks, with the dream's place in a longer run.</summary>
    internal sealed record Reporter(IProgress<DreamProgress>? Progress, Action<DreamStep>? OnStep, int Frame = 1, int Frames = 1, string? Label = null)
    {
        public void Report(int octave, int octaves, int step, int steps, Tensor image)
        {
            if (Progress is null && OnStep is null) return;
            var progress = new DreamProgress(Frame, Frames, octave, octaves, step, steps, Label);
            Progress?.Report(progress);
            OnStep?.Invoke(new DreamStep(progress, image));
        }
    }
}
