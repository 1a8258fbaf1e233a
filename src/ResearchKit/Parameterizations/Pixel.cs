using static TorchSharp.torch;

namespace ResearchKit.Parameterizations;

/// <summary>How raw pixel values become colours in [0,1].</summary>
public enum PixelRange
{
    /// <summary>image = sigmoid(p): unconstrained parameters, always a valid image (Lucid's choice).</summary>
    Sigmoid,

    /// <summary>
    /// image = p: pixel units, kept in [0,1] by <see cref="Parameterization.Constrain"/> after each step
    /// (Simonyan, Yosinski, DeepDream).
    /// </summary>
    Clamp,
}

/// <summary>
/// A parameterization whose leaf is a pixel grid, so that pixel-space step hooks (blur, clipping, decay) can edit it.
/// </summary>
public interface IPixelImage
{
    /// <summary>The raw pixel leaf, [N,C,H,W]. Edit it only under no_grad and in place.</summary>
    Tensor Pixels { get; }

    /// <summary>The raw value, [1,C,1,1], that renders as mid-grey: decay and clipping pull pixels towards it.</summary>
    Tensor Neutral { get; }

    /// <summary>How <see cref="Pixels"/> map to colours.</summary>
    PixelRange Range { get; }
}

/// <summary>Every pixel of every image is a free parameter.</summary>
public sealed class Pixel : Parameterization, IPixelImage
{
    // Keeps logit finite when a photo has exact 0 or 1 pixels.
    const double LogitMargin = 1e-4;

    Tensor _pixels;
    Tensor _neutral;

    /// <summary>
    /// Seeded noise around mid-grey: raw = neutral + std·N(0,1), from its own generator. <paramref name="channels"/> is
    /// the network's input channel count; decorrelated colour needs 3.
    /// </summary>
    public Pixel(int height, int width, int batch = 1, PixelRange range = PixelRange.Sigmoid, bool decorrelate = false,
        double std = 0.01, int seed = 0, int channels = 3)
        : base(batch, height, width, channels)
    {
        if (std < 0 || double.IsNaN(std)) throw new InvalidSettingException("The noise standard deviation must be ≥ 0.", nameof(std), std);
        RequireValid(range, decorrelate, channels);
        Range = range;
        Decorrelate = decorrelate;
        _neutral = Constant(NeutralValue(range, channels, CPU));
        using (NewDisposeScope())
        {
            using var generator = Seeded(seed);
            var noise = randn([batch, channels, height, width], generator: generator, device: CPU) * std;
            _pixels = Leaf(noise + _neutral);
        }
    }

    Pixel(Tensor image, PixelRange range)
        : base(checked((int)image.shape[0]), checked((int)image.shape[2]), checked((int)image.shape[3]), checked((int)image.shape[1]))
    {
        Range = range;
        _neutral = Constant(NeutralValue(range, Channels, image.device));
        using (NewDisposeScope())
        {
            var rgb = image.detach().to_type(ScalarType.Float32);
            _pixels = Leaf(range == PixelRange.Clamp ? rgb.clamp(0, 1) : rgb.clamp(LogitMargin, 1 - LogitMargin).logit());
        }
        FromPhoto = true;
    }

    /// <summary>
    /// The given [N,C,H,W] image in [0,1] (copied) as the parameter. With <see cref="PixelRange.Sigmoid"/> the leaf
    /// holds logits, so the first <see cref="Parameterization.Image"/> reproduces the image up to 1e-4 at saturated pixels.
    /// </summary>
    public static new Pixel FromImage(Tensor image, PixelRange range = PixelRange.Clamp)
    {
        ImageTensors.RequireBatch(image, nameof(image));
        RequireValid(range, decorrelate: false, channels: 3);
        return new Pixel(image, range);
    }

    /// <inheritdoc/>
    public PixelRange Range { get; }

    /// <summary>Whether the raw pixels live in <see cref="ColorDecorrelation"/>'s space (Sigmoid range only).</summary>
    public bool Decorrelate { get; }

    /// <summary>Whether the pixels started from a given image rather than noise.</summary>
    public bool FromPhoto { get; }

    /// <inheritdoc/>
    public Tensor Pixels => _pixels;

    /// <inheritdoc/>
    public Tensor Neutral => _neutral;

    /// <inheritdoc/>
    public override IReadOnlyList<Tensor> Parameters => [_pixels];

    /// <inheritdoc/>
    public override Tensor Image()
    {
        ThrowIfDisposed();
        if (Range == PixelRange.Clamp)
            return _pixels.clamp(0, 1); // the in-range identity; also guards against a renderer that skips Constrain
        return (Decorrelate ? ColorDecorrelation.ToRgb(_pixels) : _pixels).sigmoid();
    }

    /// <summary>Clamps the pixels into [0,1] in place (no-op for <see cref="PixelRange.Sigmoid"/>).</summary>
    public override void Constrain()
    {
        ThrowIfDisposed();
        if (Range != PixelRange.Clamp) return;
        using var _ = no_grad();
        _pixels.clamp_(0, 1);
    }

    /// <inheritdoc/>
    protected override void MoveTo(Device device)
    {
        _pixels = Moved(_pixels, device);
        _neutral = Moved(_neutral, device);
    }

    /// <inheritdoc/>
    public override string Describe() =>
        $"pixel({(Range == PixelRange.Clamp ? "clamp" : "sigmoid")}){(Decorrelate ? "+decorrelated" : "")} {Height}x{Width} x{Batch}" +
        $"{(Channels != 3 ? $", {Channels} channels" : "")}{(FromPhoto ? " from image" : "")}";

    static void RequireValid(PixelRange range, bool decorrelate, int channels)
    {
        if (decorrelate && channels != 3)
            throw new InvalidSettingException($"Decorrelated colour is for RGB images; these have {channels} channel(s).", nameof(decorrelate));
        if (!Enum.IsDefined(range)) throw new InvalidSettingException("Valid ranges: Sigmoid, Clamp.", nameof(range), range);
        if (decorrelate && range == PixelRange.Clamp)
            throw new InvalidSettingException("Decorrelated colour needs PixelRange.Sigmoid: with Clamp the parameter must stay in RGB pixel units.", nameof(decorrelate));
    }

    static Tensor NeutralValue(PixelRange range, long channels, Device device) =>
        full([1, channels, 1, 1], range == PixelRange.Clamp ? 0.5f : 0f, device: device);
}
