using TorchSharp;
using static TorchSharp.torch;

namespace ResearchKit.Parameterizations;

/// <summary>
/// Images as 2-D Fourier coefficients (Lucid's fft_image; Olah et al. 2017, "Feature Visualization").
/// Each coefficient is scaled by 1/f^decayPower, so equal steps on all parameters give the 1/f amplitude spectrum of
/// natural images instead of white noise: gradient descent then favours low frequencies, which suppresses the
/// high-frequency patterns that pixel-space optimization produces. Colours may be decorrelated
/// (<see cref="ColorDecorrelation"/>); a sigmoid maps the result into [0,1].
/// </summary>
public sealed class Fourier : Parameterization
{
    // Lucid divides the inverse transform by 4 (a "magic constant"): it lowers the initial contrast, keeping the
    // sigmoid in its near-linear part early on.
    const double OutputDivisor = 4.0;
    const double LogitMargin = 1e-4;

    Tensor _spectrum; // [N,C,H,W/2+1,2]: real and imaginary parts
    Tensor _scale;    // [1,1,H,W/2+1,1]

    /// <summary>
    /// Seeded random coefficients: N(0, std²) before frequency scaling (Lucid: std 0.01, decay power 1), for images of
    /// <paramref name="channels"/> channels (decorrelated colour needs 3).
    /// </summary>
    public Fourier(int height, int width, int batch = 1, bool decorrelate = true, double std = 0.01, double decayPower = 1,
        int seed = 0, int channels = 3)
        : base(batch, height, width, channels)
    {
        if (std < 0 || double.IsNaN(std)) throw new InvalidSettingException("The standard deviation must be ≥ 0.", nameof(std), std);
        if (decorrelate && channels != 3)
            throw new InvalidSettingException($"Decorrelated colour is for RGB images; these have {channels} channel(s).", nameof(decorrelate));
        Decorrelate = decorrelate;
        DecayPower = decayPower;
        _scale = Constant(FrequencyScale(height, width, decayPower, CPU));
        using (NewDisposeScope())
        {
            using var generator = Seeded(seed);
            _spectrum = Leaf(randn([batch, channels, height, width / 2 + 1, 2], generator: generator, device: CPU) * std);
        }
    }

    Fourier(Tensor image, bool decorrelate, double decayPower)
        : base(checked((int)image.shape[0]), checked((int)image.shape[2]), checked((int)image.shape[3]), checked((int)image.shape[1]))
    {
        Decorrelate = decorrelate;
        DecayPower = decayPower;
        _scale = Constant(FrequencyScale(Height, Width, decayPower, image.device));
        using (NewDisposeScope())
        {
            var raw = image.detach().to_type(ScalarType.Float32).clamp(LogitMargin, 1 - LogitMargin).logit();
            if (decorrelate) raw = ColorDecorrelation.FromRgb(raw);
            var spectrum = fft.rfft2(raw * OutputDivisor, norm: FFTNormType.Ortho);
            _spectrum = Leaf(view_as_real(spectrum) / _scale);
        }
    }

    /// <summary>
    /// The coefficients that reproduce <paramref name="image"/> ([N,C,H,W] in [0,1]; decorrelated only when RGB) exactly, up to 1e-4 at saturated
    /// pixels: the inverse of <see cref="Image"/>. Start a Fourier-space search from a photo with this.
    /// </summary>
    public static Fourier FromImage(Tensor image, bool decorrelate = true, double decayPower = 1)
    {
        ImageTensors.RequireBatch(image, nameof(image));
        return new Fourier(image, decorrelate && image.shape[1] == 3, decayPower);
    }

    /// <summary>Whether colours are optimized in the decorrelated space.</summary>
    public bool Decorrelate { get; }

    /// <summary>Exponent of the 1/f coefficient scaling (1 in Lucid).</summary>
    public double DecayPower { get; }

    /// <inheritdoc/>
    public override IReadOnlyList<Tensor> Parameters => [_spectrum];

    /// <inheritdoc/>
    public override Tensor Image()
    {
        ThrowIfDisposed();
        var spectrum = view_as_complex(_spectrum * _scale);
        var raw = fft.irfft2(spectrum, s: [Height, Width], norm: FFTNormType.Ortho) / OutputDivisor;
        return (Decorrelate ? ColorDecorrelation.ToRgb(raw) : raw).sigmoid();
    }

    /// <inheritdoc/>
    protected override void MoveTo(Device device)
    {
        _spectrum = Moved(_spectrum, device);
        _scale = Moved(_scale, device);
    }

    /// <inheritdoc/>
    public override string Describe() =>
        $"fft{(Decorrelate ? "+decorrelated" : "")} {Height}x{Width} x{Batch}{(Channels != 3 ? $", {Channels} channels" : "")}";

    /// <summary>
    /// 1/max(f, 1/max(H,W))^decayPower for the rfft2 layout, f the radial frequency in cycles per pixel; the floor keeps
    /// the DC term finite. With the orthonormal inverse transform this matches Lucid's √(HW)-scaled unnormalized one.
    /// Computed on the CPU, so that every device gets the same values.
    /// </summary>
    static Tensor FrequencyScale(int height, int width, double decayPower, Device device)
    {
        using var scope = NewDisposeScope();
        var fy = fft.fftfreq(height, device: CPU).unsqueeze(1);
        var fx = fft.rfftfreq(width, device: CPU).unsqueeze(0);
        var radius = (fy * fy + fx * fx).sqrt().clamp_min(1.0 / Math.Max(height, width));
        var scale = radius.pow(-decayPower).to_type(ScalarType.Float32);
        return scale.reshape(1, 1, height, width / 2 + 1, 1).to(device).MoveToOuterDisposeScope();
    }
}
