using static TorchSharp.torch;
using ResearchKit.Priors;
using static ResearchKit.Priors.NaturalImageScale;

namespace ResearchKit.Objectives;

// Regularizers are objective terms like any other, subtracted with a weight:
//   Objective.Channel("layer3", 7) - 0.01 * Objective.TotalVariation() - 0.1 * Objective.AlphaNorm()
// One scale for all of them: per image, summed over colour channels and averaged over pixel positions, and divided by
// the typical value of a natural photo where the paper gives one (Mahendran & Vedaldi 2016), so that a natural image
// scores about 1 and a weight reads as "how much one natural image's worth of roughness costs".
public sealed partial class Objective
{
    /// <summary>
    /// Total variation V^β (Mahendran &amp; Vedaldi 2015) divided by V^β with V = <see cref="NeighbourDifference"/> (a
    /// natural image scores about 1): a penalty (subtract it) that prefers piecewise-smooth images. β = 2 smooths
    /// everything; β = 1 tolerates edges. See <see cref="ImageStatistics.TotalVariation"/>.
    /// </summary>
    public static Objective TotalVariation(double beta = 2)
    {
        if (!(beta > 0) || !double.IsFinite(beta)) throw new InvalidSettingException("β must be positive and finite.", nameof(beta), beta);
        return Penalty($"TV β={F(beta)}", image => ImageStatistics.TotalVariation(image, beta) / Math.Pow(NeighbourDifference, beta));
    }

    /// <summary>
    /// The α-norm (Mahendran &amp; Vedaldi 2015, α = 6): mean over positions of Σ_channels |x − 0.5|^α / B^α with
    /// B = <see cref="PixelRange"/>, a steep penalty (subtract it) on colours far from grey that keeps the image within a
    /// natural dynamic range without hard clipping.
    /// </summary>
    public static Objective AlphaNorm(double alpha = 6)
    {
        if (!(alpha >= 1) || !double.IsFinite(alpha)) throw new InvalidSettingException("α must be finite and at least 1.", nameof(alpha), alpha);
        return Penalty($"α-norm α={F(alpha)}", image => ((image - Grey).abs() / PixelRange).pow(alpha).sum(1).mean([1, 2]));
    }

    /// <summary>
    /// L2 regularization of the image (Simonyan et al. 2013: maximize S_c(I) − λ‖I‖²): mean over positions of
    /// Σ_channels (x − <paramref name="center"/>)², a penalty (subtract it).
    /// </summary>
    public static Objective L2(double center = Grey) =>
        Penalty($"L2 (center {F(center)})", image => (image - center).square().sum(1).mean([1, 2]));

    /// <summary>
    /// Distance of the image from a Gaussian-blurred copy of itself, the blur held constant (Lucid's
    /// blur_input_each_step), Σ_channels mean over positions of ½(x − blur(x))²: a penalty (subtract it) that pulls the
    /// image towards its smoothed version. Unlike the <see cref="GaussianBlurEvery"/> step prior it never edits pixels.
    /// </summary>
    public static Objective Blur(double sigma = 1) =>
        Penalty($"blur σ={F(sigma)}", image => 0.5 * (image - ImageFilters.GaussianBlur(image.detach(), sigma)).square().sum(1).mean([1, 2]));

    /// <summary>
    /// The mean alpha of a transparent image (Mordvintsev et al. 2018), per image the mean over positions of its last
    /// channel: a penalty (subtract it) that makes every opaque pixel pay, so the image keeps only what the objective
    /// needs. An opaque image scores 1, a fully transparent one 0. The image must carry alpha: one channel more than
    /// the network takes (see <see cref="Rendering.RenderPlan.Transparent"/>).
    /// </summary>
    public static Objective AlphaMean() =>
        From(new ObjectiveTerm("alpha mean", [], ctx =>
        {
            long channels = ctx.Image.shape[1];
            bool hasAlpha = ctx.Model is { } model ? channels == model.InputChannels + 1 : channels is 2 or 4;
            if (!hasAlpha)
                throw new InvalidSettingException($"The alpha-mean penalty reads the alpha channel of a transparent image (the network's channels plus alpha); " +
                    $"this image is [{string.Join(",", ctx.Image.shape)}]. Render with plan.Transparent().", "penalties");
            return ctx.Image.narrow(1, channels - 1, 1).mean([1, 2, 3]);
        }));

    static Objective Penalty(string description, Func<Tensor, Tensor> perImage) =>
        From(new ObjectiveTerm(description, [], ctx => perImage(ctx.Image)));
}
