using TorchSharp;
using ResearchKit.Parameterizations;
using static TorchSharp.torch;

namespace ResearchKit.Priors;

/// <summary>
/// Measures of how natural an [N,3,H,W] batch looks: edge energy and how its power is spread over spatial frequency.
/// Natural photos have an amplitude spectrum falling roughly as 1/f (power as 1/f²); unregularized feature
/// visualizations put much more of their power at high frequencies.
/// </summary>
public static class ImageStatistics
{
    // Keeps the gradient of the β-power finite on flat regions when β < 2.
    const double TotalVariationEpsilon = 1e-12;

    /// <summary>
    /// Mahendran &amp; Vedaldi's V^β per image, [N], differentiable: the mean over pixel positions of
    /// Σ_channels ((x[i,j+1]−x[i,j])² + (x[i+1,j]−x[i,j])²)^(β/2), over the (H−1)×(W−1) positions that have both
    /// neighbours. β = 2 is the squared-gradient energy; β = 1 the classic (edge-tolerant) total variation. For β &lt; 2
    /// a 1e-12 inside the power keeps the gradient finite where the image is flat.
    /// </summary>
    public static Tensor TotalVariation(Tensor image, double beta = 2)
    {
        ImageTensors.RequireBatch(image, nameof(image));
        if (!(beta > 0) || !double.IsFinite(beta)) throw new InvalidSettingException("β must be positive and finite.", nameof(beta), beta);
        long h = image.shape[2], w = image.shape[3];
        if (h < 2 || w < 2) throw new InvalidSettingException($"Total variation needs at least 2x2 pixels; got {ImageTensors.Shape(image)}.", nameof(image));
        using var scope = NewDisposeScope();
        var corner = image.narrow(2, 0, h - 1).narrow(3, 0, w - 1);
        var dx = image.narrow(2, 0, h - 1).narrow(3, 1, w - 1) - corner;
        var dy = image.narrow(2, 1, h - 1).narrow(3, 0, w - 1) - corner;
        var squared = dx.square() + dy.square();
        var powered = beta == 2 ? squared : beta > 2 ? squared.pow(beta / 2) : (squared + TotalVariationEpsilon).pow(beta / 2);
        return powered.sum(1).mean([1, 2]).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Per image, the fraction of spectral power (each channel's mean removed) at radial frequencies above
    /// <paramref name="cutoffFraction"/> × Nyquist (0.5 cycles per pixel). 0 for a flat image, 1 for a checkerboard.
    /// </summary>
    public static double[] HighFrequencyEnergy(Tensor image, double cutoffFraction = 0.5)
    {
        ImageTensors.RequireBatch(image, nameof(image));
        if (!(cutoffFraction >= 0 && cutoffFraction <= Math.Sqrt(2)))
            throw new InvalidSettingException("The cutoff is a fraction of Nyquist in [0, √2].", nameof(cutoffFraction), cutoffFraction);
        using var scope = NewDisposeScope();
        var (power, radius) = Spectrum(image); // [N,H,W], [H,W]
        var high = (radius > cutoffFraction * 0.5).to(power.dtype);
        var total = power.sum([1, 2]);
        var above = (power * high).sum([1, 2]);
        var fraction = where(total > 0, above / total.clamp_min(double.Epsilon), zeros_like(total));
        return fraction.to_type(ScalarType.Float64).cpu().data<double>().ToArray();
    }

    /// <summary>
    /// Mean spectral power per radial frequency bin, averaged over the batch and channels (each channel's mean removed;
    /// orthonormal FFT, so white noise of variance σ² is flat at σ²). Bin i covers frequencies in
    /// (i, i+1] × 0.5/<paramref name="bins"/> cycles per pixel; corners beyond Nyquist are left out. For charts, with
    /// <see cref="RadialFrequencies"/> as the x axis; natural images fall about as f⁻².
    /// </summary>
    public static double[] RadialPowerSpectrum(Tensor image, int bins = 32)
    {
        ImageTensors.RequireBatch(image, nameof(image));
        long side = Math.Min(image.shape[2], image.shape[3]);
        if (bins < 1 || bins > side / 2)
            throw new InvalidSettingException($"Use 1..{side / 2} bins for a {ImageTensors.Shape(image)} image (at most half its smaller side).", nameof(bins), bins);
        using var scope = NewDisposeScope();
        var (power, radius) = Spectrum(image);
        var meanPower = power.mean([0]) / image.shape[1]; // per channel
        var bin = (radius / (0.5 / bins)).ceil().to_type(ScalarType.Int64) - 1; // (0, width] → 0
        var inRange = (radius > 0) & (radius <= 0.5);
        var flatBins = bin.masked_select(inRange);
        var flatPower = meanPower.to_type(ScalarType.Float64).masked_select(inRange);
        var sums = zeros(bins, dtype: ScalarType.Float64, device: image.device).index_add(0, flatBins, flatPower, 1);
        var counts = zeros(bins, dtype: ScalarType.Float64, device: image.device).index_add(0, flatBins, ones_like(flatPower), 1);
        var result = sums.cpu().data<double>().ToArray();
        var n = counts.cpu().data<double>().ToArray();
        for (int i = 0; i < bins; i++) result[i] = n[i] > 0 ? result[i] / n[i] : double.NaN;
        return result;
    }

    /// <summary>Centre frequency, in cycles per pixel, of each <see cref="RadialPowerSpectrum"/> bin.</summary>
    public static double[] RadialFrequencies(int bins)
    {
        if (bins < 1) throw new InvalidSettingException("Use at least one bin.", nameof(bins), bins);
        return Enumerable.Range(0, bins).Select(i => (i + 0.5) * 0.5 / bins).ToArray();
    }

    // Channel-summed power |FFT|² of the mean-removed image, [N,H,W], and each frequency's radius in cycles per pixel.
    static (Tensor Power, Tensor Radius) Spectrum(Tensor image)
    {
        var x = image.detach().to_type(ScalarType.Float64);
        x = x - x.mean([2, 3], keepdim: true);
        var power = fft.fft2(x, norm: FFTNormType.Ortho).abs().square().sum(1);
        var fy = fft.fftfreq(image.shape[2], dtype: ScalarType.Float64, device: image.device).unsqueeze(1);
        var fx = fft.fftfreq(image.shape[3], dtype: ScalarType.Float64, device: image.device).unsqueeze(0);
        return (power, (fy.square() + fx.square()).sqrt());
    }
}
