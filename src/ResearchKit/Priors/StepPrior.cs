using System.Text.Json.Serialization;
using ResearchKit.Parameterizations;
using static TorchSharp.torch;

namespace ResearchKit.Priors;

/// <summary>
/// A natural-image prior that acts on the pixels after each optimizer step (blur every k steps, clipping, decay): what
/// is not a loss. Priors that are losses are objective terms (<see cref="Objectives.Objective.TotalVariation"/>,
/// <see cref="Objectives.Objective.AlphaNorm"/>, ...). Step priors are records holding only settings, so a render's
/// priors serialize to JSON as they are.
/// </summary>
[JsonPolymorphic(TypeDiscriminatorPropertyName = "kind")]
[JsonDerivedType(typeof(Decay), "decay")]
[JsonDerivedType(typeof(GaussianBlurEvery), "gaussianBlurEvery")]
[JsonDerivedType(typeof(BilateralBlurEvery), "bilateralBlurEvery")]
[JsonDerivedType(typeof(ClipByNorm), "clipByNorm")]
[JsonDerivedType(typeof(ClipByContribution), "clipByContribution")]
[JsonDerivedType(typeof(PixelClamp), "pixelClamp")]
public abstract record StepPrior
{
    /// <summary>A no_grad, in-place edit of the parameters after the optimizer step.</summary>
    public abstract void AfterStep(PriorStepContext context);

    /// <summary>Short text for captions and JSON, e.g. "blur σ=1 every 4".</summary>
    public abstract string Describe();

    /// <summary>The pixel leaf this prior edits, or a clear error when the parameterization has none.</summary>
    protected IPixelImage PixelsOf(PriorStepContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        return context.Parameterization as IPixelImage ?? throw new InvalidSettingException(
            $"The prior '{Describe()}' edits pixels after each step, but the parameterization " +
            $"'{context.Parameterization.Describe()}' has no pixel grid. Use Parameterization.Pixel(...) or " +
            "Parameterization.FromImage(...), or a penalty term such as Objective.TotalVariation().");
    }

    /// <summary>Sets pixels where <paramref name="mask"/> ([N,1,H,W] or [N,H,W]) is true to the neutral grey.</summary>
    protected static void ResetToNeutral(IPixelImage pixels, Tensor mask)
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var m = mask.dim() == 3 ? mask.unsqueeze(1) : mask;
        var p = pixels.Pixels;
        p.copy_(where(m, pixels.Neutral.expand_as(p), p));
    }

    /// <summary>Per image, which pixels lie strictly below the <paramref name="percentile"/>-th percentile of <paramref name="score"/> [N,H,W].</summary>
    protected static Tensor BelowPercentile(Tensor score, double percentile)
    {
        long n = score.shape[0];
        var flat = score.reshape(n, -1).to_type(ScalarType.Float32);
        var threshold = flat.quantile(tensor(percentile / 100.0, ScalarType.Float32, score.device), dim: 1, keepdim: true);
        return (flat < threshold).reshape(score.shape);
    }

    /// <summary>Throws unless <paramref name="percentile"/> is in [0,100].</summary>
    protected static double CheckPercentile(double percentile, string paramName) =>
        percentile is >= 0 and <= 100 ? percentile : throw new InvalidSettingException("A percentile must be in [0,100].", paramName, percentile);
}

/// <summary>What a prior's <see cref="StepPrior.AfterStep"/> sees.</summary>
/// <param name="Step">The optimizer step just taken, counting from 0.</param>
/// <param name="Parameterization">The parameterization being optimized.</param>
/// <param name="PixelGradient">
/// The gradient w.r.t. the pixel leaf from this step's backward pass (either sign: priors use it only through
/// absolute values), or null; when null, priors that need it read the leaf's <c>grad</c>.
/// </param>
public sealed record PriorStepContext(int Step, Parameterization Parameterization, Tensor? PixelGradient = null);
