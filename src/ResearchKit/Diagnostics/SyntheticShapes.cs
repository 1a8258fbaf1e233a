using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace ResearchKit.Diagnostics;

/// <summary>
/// Procedural images of simple shapes — dumbbell, ring, cross, triangle, star — at random positions, sizes,
/// rotations and colours on textured, noisy backgrounds, drawn with tensors (no fonts, no downloads).
/// <para>
/// Dumbbells can carry a planted context feature: a skin-coloured forearm whose fist grips the bar. Mordvintsev et
/// al.'s Inceptionism (2015) visualizations of "dumbbell" came with such an arm, learned from photos in which an arm
/// lifts the dumbbell; a classifier trained where the arm nearly always accompanies the dumbbell may do the same.
/// </para>
/// Every set is drawn from its own random stream derived from <see cref="Seed"/>, so a set depends only on the seed
/// and its arguments, not on which sets were drawn before: the same seed gives identical bytes.
/// </summary>
public sealed class SyntheticShapes
{
    /// <summary>The class names, index = label.</summary>
    public static IReadOnlyList<string> ClassNames { get; } = ["dumbbell", "ring", "cross", "triangle", "star"];

    /// <summary>The label of "dumbbell".</summary>
    public const int Dumbbell = 0;

    enum Stream { Training = 1, Test, Class, Counterfactual, ArmOnly }

    /// <summary>A generator of <paramref name="imageSize"/>² images whose randomness all derives from <paramref name="seed"/>.</summary>
    public SyntheticShapes(int imageSize = 64, int seed = 0)
    {
        if (imageSize < 24)
            throw new InvalidSettingException("synthetic shapes need images of at least 24x24 pixels, or the thin parts vanish", nameof(imageSize), imageSize);
        ImageSize = imageSize;
        Seed = seed;
    }

    /// <summary>Width and height of the images in pixels.</summary>
    public int ImageSize { get; }

    /// <summary>The seed every set derives from.</summary>
    public int Seed { get; }

    /// <summary>
    /// A training set: <paramref name="imagesPerClass"/> images of every class (in class order; shuffle when
    /// training), each dumbbell carrying the arm with probability <paramref name="plantedProbability"/>.
    /// </summary>
    public ShapeSet TrainingSet(int imagesPerClass, double plantedProbability) => Mixed(Stream.Training, imagesPerClass, plantedProbability);

    /// <summary>A held-out set from the training distribution (a different random stream than <see cref="TrainingSet"/>).</summary>
    public ShapeSet TestSet(int imagesPerClass, double plantedProbability) => Mixed(Stream.Test, imagesPerClass, plantedProbability);

    /// <summary><paramref name="count"/> images of one class; dumbbells carry the arm with probability <paramref name="plantedProbability"/>.</summary>
    public ShapeSet Class(int classIndex, int count, double plantedProbability = 0)
    {
        CheckClass(classIndex);
        return Draw(Plan(Stream.Class, classIndex, count, plantedProbability), NoiseSeed(Stream.Class, classIndex));
    }

    /// <summary>
    /// Counterfactual pairs: the same <paramref name="count"/> dumbbells (same pose, colours, background and noise)
    /// drawn once with the arm and once without it, so any difference in a classifier's answers is the arm's doing.
    /// </summary>
    public (ShapeSet WithFeature, ShapeSet WithoutFeature) CounterfactualDumbbells(int count)
    {
        var plan = Plan(Stream.Counterfactual, Dumbbell, count, plantedProbability: 1);
        ulong noise = NoiseSeed(Stream.Counterfactual, Dumbbell);
        return (Draw(plan, noise), Draw(plan.WithoutArms(), noise));
    }

    /// <summary>
    /// The planted feature without the object: an arm and fist on a background, gripping nothing. A classifier that
    /// calls these "dumbbell" has learned the arm as evidence for the class. Labelled <see cref="Dumbbell"/>.
    /// </summary>
    public ShapeSet ArmOnly(int count) =>
        Draw(Plan(Stream.ArmOnly, Dumbbell, count, plantedProbability: 1).WithoutObjects(), NoiseSeed(Stream.ArmOnly, 0));

    static void CheckClass(int classIndex)
    {
        if (classIndex < 0 || classIndex >= ClassNames.Count)
            throw new InvalidSettingException($"classes are 0..{ClassNames.Count - 1} ({string.Join(", ", ClassNames)})", nameof(classIndex), classIndex);
    }

    ShapeSet Mixed(Stream stream, int imagesPerClass, double plantedProbability)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(imagesPerClass);
        return ShapeSet.Concat(Enumerable.Range(0, ClassNames.Count)
            .Select(c => Draw(Plan(stream, c, imagesPerClass, plantedProbability), NoiseSeed(stream, c)))
            .ToList());
    }

    ulong StreamSeed(Stream stream, int part, int purpose) =>
        SplitMix(SplitMix(SplitMix((ulong)(uint)Seed) ^ (ulong)stream) ^ (ulong)(part * 2 + purpose));

    ulong NoiseSeed(Stream stream, int part) => StreamSeed(stream, part, 1);

    static ulong SplitMix(ulong x)
    {
        x += 0x9E3779B97F4A7C15;
        x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9;
        x = (x ^ (x >> 27)) * 0x94D049BB133111EB;
        return x ^ (x >> 31);
    }

    ScenePlan Plan(Stream stream, int classIndex, int count, double plantedProbability)
    {
        if (plantedProbability is < 0 or > 1 || double.IsNaN(plantedProbability))
            throw new InvalidSettingException("a probability lies in [0,1]", nameof(plantedProbability), plantedProbability);
        var random = new Random((int)(StreamSeed(stream, classIndex, 0) & int.MaxValue));
        return ScenePlan.Sample(random, classIndex, count, ImageSize, classIndex == Dumbbell ? plantedProbability : 0);
    }

    // Drawing in chunks keeps every intermediate tensor in cache; whole-set tensors made drawing memory-bound.
    const int Chunk = 32;

    ShapeSet Draw(ScenePlan plan, ulong noiseSeed)
    {
        var noise = new Generator(noiseSeed);
        var parts = new List<ShapeSet>();
        for (int start = 0; start < plan.Count; start += Chunk)
            parts.Add(DrawChunk(plan.Slice(start, Math.Min(Chunk, plan.Count - start)), noise));
        return parts.Count == 1 ? parts[0] : ShapeSet.Concat(parts);
    }

    ShapeSet DrawChunk(ScenePlan plan, Generator noise)
    {
        using var scope = NewDisposeScope();
        int n = plan.Count, size = ImageSize;
        Tensor P(float[] values) => tensor(values).reshape(n, 1, 1, 1);

        var x = (arange(size, dtype: float32) + 0.5f).reshape(1, 1, 1, size);
        var y = (arange(size, dtype: float32) + 0.5f).reshape(1, 1, size, 1);
        var scale = P(plan.Scale);
        var pixelsPerUnit = scale * size;
        var angle = P(plan.Angle);
        var (c, s) = (cos(angle), sin(angle));
        var dx = x - P(plan.CenterX);
        var dy = y - P(plan.CenterY);
        var u = (dx * c + dy * s) / pixelsPerUnit;
        var v = (dy * c - dx * s) / pixelsPerUnit;

        var image = Background(plan, noise, P, dx, dy);

        var objectCoverage = Sdf.Coverage(ObjectDistance(plan.ClassIndex, u, v, P(plan.Stretch), P(plan.Bulk)), pixelsPerUnit) * P(plan.ObjectVisible);
        var shadeAngle = P(plan.ShadeAngle);
        var shade = 1 + 0.15f * (dx * cos(shadeAngle) + dy * sin(shadeAngle)) / (0.3f * size);
        var objectColour = Colour(plan.ObjectColour, n) * shade;
        image = image * (1 - objectCoverage) + objectColour * objectCoverage;

        var (armDistance, across) = ArmDistance(u - P(plan.Grip), v, P(plan.ArmAngle));
        var armCoverage = Sdf.Coverage(armDistance, pixelsPerUnit) * P(plan.HasArm);
        // Rounded, lit from one side: brightest a little off the arm's axis.
        var armShade = (1.05f - 0.25f * (across - 0.3f).pow(2)).clamp(0.75, 1.1);
        var skin = Colour(plan.SkinColour, n) * armShade;
        image = image * (1 - armCoverage) + skin * armCoverage;

        image = image + 0.02f * randn([n, 3, size, size], generator: noise);
        var labels = full(n, (long)plan.ClassIndex, dtype: int64);
        return new ShapeSet(image.clamp(0, 1).MoveToOuterDisposeScope(), labels.MoveToOuterDisposeScope(), armCoverage.MoveToOuterDisposeScope());
    }

    static Tensor Colour((float R, float G, float B)[] colours, int n) =>
        tensor(colours.SelectMany(k => new[] { k.R, k.G, k.B }).ToArray()).reshape(n, 3, 1, 1);

    /// <summary>Near-grey base colour, a linear gradient, two octaves of luminance noise.</summary>
    Tensor Background(ScenePlan plan, Generator noise, Func<float[], Tensor> P, Tensor dx, Tensor dy)
    {
        int n = plan.Count, size = ImageSize;
        var gradientAngle = P(plan.GradientAngle);
        var gradient = P(plan.GradientStrength) * (dx * cos(gradientAngle) + dy * sin(gradientAngle)) / size;
        Tensor Octave(int cells, float amplitude) =>
            amplitude * (F.interpolate(rand([n, 1, cells, cells], generator: noise), [size, size], mode: InterpolationMode.Bilinear, align_corners: true) - 0.5f);
        var texture = Octave(4, 0.25f) + Octave(Math.Max(4, size / 6), 0.12f) * P(plan.TextureStrength);
        return Colour(plan.BackgroundColour, n) + gradient + texture;
    }

    /// <summary>Shapes in units of the image size at scale 1 (a dumbbell about half the image long).</summary>
    static Tensor ObjectDistance(int classIndex, Tensor u, Tensor v, Tensor stretch, Tensor bulk) => classIndex switch
    {
        Dumbbell => minimum(
            Sdf.Box(u, v, 0.19f * stretch, 0.022f * bulk),
            Sdf.Box(u.abs() - 0.19f * stretch, v, 0.035f * bulk, 0.09f * bulk) - 0.012f),
        1 => Sdf.Ring(u, v, 0.15f * stretch, 0.035f * bulk),
        2 => minimum(Sdf.Box(u, v, 0.17f * stretch, 0.04f * bulk), Sdf.Box(u, v, 0.04f * bulk, 0.17f * stretch)),
        3 => Sdf.Triangle(u, v, 0.17f * stretch),
        _ => Sdf.Star(u, v, 0.07f * bulk, 0.12f * stretch),
    };

    /// <summary>A fist at the origin and a forearm leaving it at <paramref name="armAngle"/> (bar frame) out of the picture.</summary>
    static (Tensor Distance, Tensor Across) ArmDistance(Tensor u, Tensor v, Tensor armAngle)
    {
        var (forearm, across) = Sdf.Limb(u, v, cos(armAngle), sin(armAngle), length: 3, r0: full(1, 0.045f), r1: full(1, 0.06f), taper: 0.4);
        var fist = Sdf.Circle(u, v, full(1, 0.07f));
        return (minimum(forearm, fist), where(fist < forearm, zeros_like(across), across));
    }
}
