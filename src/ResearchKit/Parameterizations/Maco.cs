using TorchSharp;
using static TorchSharp.torch;

namespace ResearchKit.Parameterizations;

/// <summary>
/// MaCo (Fel et al. 2023, "Unlocking Feature Visualization for Deeper Networks with MAgnitude Constrained
/// Optimization"): the image is the inverse Fourier transform of a fixed natural-image amplitude spectrum
/// (<see cref="NaturalSpectrum"/>) with a free phase, so every image the search can reach has a photo's distribution of
/// energy over frequencies and only the arrangement (the phase, which carries what humans recognize) is optimized.
/// <para>
/// As in the reference implementation (xplique), colours are decorrelated: the spectrum is measured in
/// <see cref="ColorDecorrelation"/>'s space and the image mixed back to RGB before a sigmoid squashes it into [0,1];
/// the image before the mix is standardized. Because the amplitudes are fixed and the DC term is 0, every phase gives
/// the same pixel variance (Parseval), so the standardization is a constant: the spectrum is scaled once to give unit
/// standard deviation, and the pre-squash image's amplitude spectrum is exactly <see cref="Magnitude"/>. Deviations
/// from the reference: the phase starts uniform on the circle (the reference draws N(0,1) phases, which are partly
/// aligned and start with a bright spot in the corner) and is not re-standardized each step (a phase is an angle).
/// </para>
/// </summary>
public sealed class Maco : Parameterization
{
    Tensor _phase;     // [N,C,H,W/2+1]
    Tensor _magnitude; // [1,C,H,W/2+1]
    Tensor _reflection;
    Tensor _selfConjugate;

    /// <summary>
    /// Seeded phases, uniform in [−π, π), for images of <paramref name="channels"/> channels (3 or 1);
    /// <paramref name="decorrelate"/> (RGB only) measures and optimizes colour in the decorrelated space.
    /// </summary>
    public Maco(int height, int width, int batch = 1, int seed = 0, int channels = 3, bool decorrelate = true)
        : base(batch, height, width, channels)
    {
        if (decorrelate && channels != 3)
            throw new InvalidSettingException($"Decorrelated colour is for RGB images; these have {channels} channel(s).", nameof(decorrelate));
        Decorrelate = decorrelate;
        using (NewDisposeScope())
        {
            var magnitude = NaturalSpectrum.Magnitude(height, width, channels, decorrelate);
            var zeroPhaseImage = fft.irfft2(magnitude.to_type(ScalarType.ComplexFloat32), s: [height, width], norm: FFTNormType.Ortho);
            _magnitude = Constant((magnitude / zeroPhaseImage.square().mean().sqrt()).DetachFromDisposeScope());
            _reflection = Constant(NaturalSpectrum.Reflection(height).DetachFromDisposeScope());
            _selfConjugate = Constant(NaturalSpectrum.SelfConjugateColumns(width).DetachFromDisposeScope());
            using var generator = Seeded(seed);
            _phase = Leaf((rand([batch, channels, height, width / 2 + 1], generator: generator, device: CPU) * 2 - 1) * Math.PI);
        }
    }

    /// <summary>Whether colours live in the decorrelated space.</summary>
    public bool Decorrelate { get; }

    /// <summary>
    /// The fixed amplitudes, [1,C,H,W/2+1] (rfft2 layout, orthonormal): the photos' average spectrum scaled so the
    /// pre-squash image has unit standard deviation. Not a parameter: no gradient reaches it.
    /// </summary>
    public Tensor Magnitude => _magnitude;

    /// <summary>The free phases, [N,C,H,W/2+1], in radians: the only parameter.</summary>
    public Tensor Phase => _phase;

    /// <inheritdoc/>
    public override IReadOnlyList<Tensor> Parameters => [_phase];

    /// <inheritdoc/>
    public override Tensor Image()
    {
        ThrowIfDisposed();
        // On the columns that hold their own conjugates a real image's phase is odd in the vertical frequency; keeping
        // only the odd part there makes the spectrum exactly that of a real image, so no amplitude is lost in irfft2.
        var odd = (_phase - _phase.index_select(2, _reflection)) / 2;
        var phase = where(_selfConjugate, odd, _phase);
        var standardized = fft.irfft2(polar(_magnitude.expand_as(phase), phase), s: [Height, Width], norm: FFTNormType.Ortho);
        return (Decorrelate ? ColorDecorrelation.ToRgb(standardized) : standardized).sigmoid();
    }

    /// <inheritdoc/>
    protected override void MoveTo(Device device)
    {
        _phase = Moved(_phase, device);
        _magnitude = Moved(_magnitude, device);
        _reflection = Moved(_reflection, device);
        _selfConjugate = Moved(_selfConjugate, device);
    }

    /// <inheritdoc/>
    public override string Describe() =>
        $"maco{(Decorrelate ? "+decorrelated" : "")} {Height}x{Width} x{Batch}{(Channels != 3 ? $", {Channels} channels" : "")}";
}
