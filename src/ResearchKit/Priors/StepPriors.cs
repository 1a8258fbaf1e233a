using ResearchKit.Parameterizations;
using static TorchSharp.torch;
using static ResearchKit.Priors.NaturalImageScale;

namespace ResearchKit.Priors;

/// <summary>
/// Yosinski et al. 2015's L2 decay as a step: after every step θ ← (1 − Rate)·θ, θ measured from grey. Keeps a few
/// extreme pixels from dominating.
/// </summary>
public sealed record Decay(double Rate) : StepPrior
{
    /// <summary>Fraction of each pixel's deviation from grey removed per step, in [0,1].</summary>
    public double Rate { get; init; } = Rate is >= 0 and <= 1 ? Rate : throw new InvalidSettingException("The decay rate must be in [0,1].", nameof(Rate), Rate);

    /// <inheritdoc/>
    public override void AfterStep(PriorStepContext context)
    {
        var image = PixelsOf(context);
        if (Rate == 0) return;
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        image.Pixels.sub_(image.Neutral).mul_(1 - Rate).add_(image.Neutral);
    }

    /// <inheritdoc/>
    public override string Describe() => $"decay {F(Rate)}/step";
}

/// <summary>
/// Yosinski et al. 2015: Gaussian-blur the pixels (σ = <see cref="Sigma"/>) after every <see cref="Every"/>-th step
/// (steps 0, k, 2k, …). Repeated blurring damps high frequencies that the gradient keeps re-adding, a cheap smoothness prior.
/// </summary>
public sealed record GaussianBlurEvery(int Every, double Sigma) : StepPrior
{
    /// <summary>Blur on steps that are multiples of this.</summary>
    public int Every { get; init; } = Every >= 1 ? Every : throw new InvalidSettingException("Blur every k ≥ 1 steps.", nameof(Every), Every);

    /// <summary>Blur standard deviation in pixels (Yosinski's "blur radius").</summary>
    public double Sigma { get; init; } = Sigma > 0 ? Sigma : throw new InvalidSettingException("σ must be > 0.", nameof(Sigma), Sigma);

    /// <inheritdoc/>
    public override void AfterStep(PriorStepContext context)
    {
        var image = PixelsOf(context);
        if (context.Step % Every != 0) return;
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        image.Pixels.copy_(ImageFilters.GaussianBlur(image.Pixels, Sigma));
    }

    /// <inheritdoc/>
    public override string Describe() => $"blur σ={F(Sigma)} every {Every}";
}

/// <summary>
/// Edge-preserving smoothing (this kit's variant of Yosinski's blur): a bilateral filter on the pixels after every
/// <see cref="Every"/>-th step. Like the Gaussian blur it removes high-frequency noise within regions, but it leaves
/// strong edges alone, so shapes stay crisp instead of washing out. Colour distances are measured on the rendered image
/// (so <see cref="SigmaColor"/> is in [0,1] colour units whatever the pixel range).
/// </summary>
public sealed record BilateralBlurEvery(int Every = 4, double SigmaSpace = 1, double SigmaColor = 0.2) : StepPrior
{
    /// <summary>Filter on steps that are multiples of this.</summary>
    public int Every { get; init; } = Every >= 1 ? Every : throw new InvalidSettingException("Filter every k ≥ 1 steps.", nameof(Every), Every);

    /// <summary>Spatial standard deviation in pixels (the window reaches 3σ).</summary>
    public double SigmaSpace { get; init; } = SigmaSpace > 0 ? SigmaSpace : throw new InvalidSettingException("σ (space) must be > 0.", nameof(SigmaSpace), SigmaSpace);

    /// <summary>Colour standard deviation, in [0,1] colour units: differences well above it count as edges.</summary>
    public double SigmaColor { get; init; } = SigmaColor > 0 ? SigmaColor : throw new InvalidSettingException("σ (colour) must be > 0.", nameof(SigmaColor), SigmaColor);

    /// <inheritdoc/>
    public override void AfterStep(PriorStepContext context)
    {
        var image = PixelsOf(context);
        if (context.Step % Every != 0) return;
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var guide = context.Parameterization.Image();
        image.Pixels.copy_(ImageFilters.Bilateral(image.Pixels, SigmaSpace, SigmaColor, guide));
    }

    /// <inheritdoc/>
    public override string Describe() => $"bilateral σs={F(SigmaSpace)} σc={F(SigmaColor)} every {Every}";
}

/// <summary>
/// Yosinski et al. 2015 (θ_n_pct): after each step, pixels whose RGB deviation from grey has a norm below the
/// <see cref="Percentile"/>-th percentile of the image are set to grey. Only the strongest pixels survive, which
/// localizes the visualization. 0 disables.
/// </summary>
public sealed record ClipByNorm(double Percentile) : StepPrior
{
    /// <summary>Percentile in [0,100] below which pixels are reset.</summary>
    public double Percentile { get; init; } = CheckPercentile(Percentile, nameof(Percentile));

    /// <inheritdoc/>
    public override void AfterStep(PriorStepContext context)
    {
        var image = PixelsOf(context);
        if (Percentile == 0) return;
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var norms = (image.Pixels - image.Neutral).square().sum(1).sqrt(); // [N,H,W]
        ResetToNeutral(image, BelowPercentile(norms, Percentile));
    }

    /// <inheritdoc/>
    public override string Describe() => $"clip norm <{F(Percentile)}th pct";
}

/// <summary>
/// Yosinski et al. 2015 (θ_c_pct): after each step, pixels whose contribution |Σ_channels (x − grey)·∂/∂x| — the
/// first-order change of the objective if the pixel were reset to grey — is below the <see cref="Percentile"/>-th
/// percentile are reset to grey. Unlike <see cref="ClipByNorm"/> this keeps the pixels that matter to the unit,
/// not merely the bright ones. Needs the pixel gradient. 0 disables.
/// </summary>
public sealed record ClipByContribution(double Percentile) : StepPrior
{
    /// <summary>Percentile in [0,100] below which pixels are reset.</summary>
    public double Percentile { get; init; } = CheckPercentile(Percentile, nameof(Percentile));

    /// <inheritdoc/>
    public override void AfterStep(PriorStepContext context)
    {
        var image = PixelsOf(context);
        if (Percentile == 0) return;
        using var scope = NewDisposeScope();
        var gradient = context.PixelGradient ?? image.Pixels.grad
            ?? throw new InvalidOperationException(
                $"The prior '{Describe()}' needs the pixel gradient of step {context.Step}; pass it in PriorStepContext.PixelGradient " +
                "or apply priors before the gradients are cleared.");
        if (!gradient.shape.SequenceEqual(image.Pixels.shape))
            throw new InvalidSettingException($"The pixel gradient {ImageTensors.Shape(gradient)} does not match the pixels {ImageTensors.Shape(image.Pixels)}.", nameof(context));
        using var _ = no_grad();
        var contribution = ((image.Pixels - image.Neutral) * gradient).sum(1).abs(); // [N,H,W]
        ResetToNeutral(image, BelowPercentile(contribution, Percentile));
    }

    /// <inheritdoc/>
    public override string Describe() => $"clip contribution <{F(Percentile)}th pct";
}

/// <summary>
/// Keeps the image in [0,1] after each step (the crop to the valid pixel range in Simonyan's and Yosinski's code).
/// Calls <see cref="Parameterization.Constrain"/>: clamps <see cref="PixelRange.Clamp"/> pixels, and does nothing for
/// parameterizations whose image is in range by construction (sigmoid, Fourier, CPPN).
/// </summary>
public sealed record PixelClamp : StepPrior
{
    /// <inheritdoc/>
    public override void AfterStep(PriorStepContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        context.Parameterization.Constrain();
    }

    /// <inheritdoc/>
    public override string Describe() => "clamp [0,1]";
}
