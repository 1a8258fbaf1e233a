using static TorchSharp.torch;

namespace ResearchKit.Parameterizations;

/// <summary>
/// An image with an alpha channel (Mordvintsev et al. 2018, "Differentiable Image Parameterizations", Lucid's
/// transparency notebook): a colour parameterization and a one-channel alpha parameterization of the same kind, each
/// made by the wrapped factory, stacked into [N,C+1,H,W] with alpha last, in [0,1]. Colour decorrelation, where the
/// factory uses it, applies to the colour part only (a one-channel image has nothing to decorrelate). Alpha starts
/// where the factory's first image does (about 0.5 for Fourier and sigmoid pixels). Pixel-editing step priors do not
/// apply: there is no single pixel grid.
/// </summary>
public sealed class Transparent : Parameterization
{
    // The alpha part gets its own noise: the same seed would copy the first colour channel's start.
    const int AlphaSeedOffset = 0x5EED;

    readonly Parameterization _colour;
    readonly Parameterization _alpha;

    /// <summary>Colour from <paramref name="colour"/>(shape, seed), alpha from it at one channel (seed offset).</summary>
    public Transparent(ParameterizationFactory colour, ImageShape shape, int seed)
        : base(shape.Batch, shape.Height, shape.Width, shape.Channels + 1)
    {
        ArgumentNullException.ThrowIfNull(colour);
        _colour = colour(shape, seed);
        try
        {
            _alpha = colour(shape with { Channels = 1 }, unchecked(seed + AlphaSeedOffset));
        }
        catch
        {
            _colour.Dispose();
            throw;
        }
        if (_colour.Channels != shape.Channels || _alpha.Channels != 1)
            throw new InvalidSettingException($"The wrapped parameterization made {_colour.Channels} and {_alpha.Channels} channel(s) for {shape.Channels} and 1.", nameof(colour));
    }

    /// <summary>The colour part.</summary>
    public Parameterization Colour => _colour;

    /// <summary>The alpha part (one channel).</summary>
    public Parameterization Alpha => _alpha;

    /// <inheritdoc/>
    public override IReadOnlyList<Tensor> Parameters => [.. _colour.Parameters, .. _alpha.Parameters];

    /// <inheritdoc/>
    public override Tensor Image()
    {
        ThrowIfDisposed();
        return cat([_colour.Image(), _alpha.Image()], 1);
    }

    /// <inheritdoc/>
    public override void Constrain()
    {
        _colour.Constrain();
        _alpha.Constrain();
    }

    /// <inheritdoc/>
    protected override void MoveTo(Device device)
    {
        _colour.To(device);
        _alpha.To(device);
    }

    /// <inheritdoc/>
    public override string Describe() => $"{_colour.Describe()} + alpha";

    /// <inheritdoc/>
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _colour.Dispose();
            _alpha.Dispose();
        }
        base.Dispose(disposing);
    }
}
