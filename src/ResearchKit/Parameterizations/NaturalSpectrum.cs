using System.Collections.Concurrent;
using ResearchKit.Imaging;
using TorchSharp;
using static TorchSharp.torch;

namespace ResearchKit.Parameterizations;

/// <summary>
/// The average Fourier amplitude spectrum of natural photos at a given image size, the fixed magnitude of
/// <see cref="Maco"/>. MaCo (Fel et al. 2023) averages ImageNet's spectra; nothing is downloaded here, so the spectrum
/// comes from the six sample photos in <c>data/</c> (<see cref="SampleImages"/>), computed at run time for the exact
/// size asked (no resampling of a stored table, which would blur the spectrum's 1/f fall-off) and cached per size.
/// Each photo is scaled to cover the size at 1× and 2× and cut into up to nine crops per scale (corners, edge
/// middles, centre); each crop's channel means are removed, it is multiplied by a 2-D Hann window (scaled to keep its
/// power) and |rfft2| (orthonormal) is averaged over all crops. Without the window the crops' edges, which do not
/// wrap around, put a bright cross on the frequency axes, and every MaCo image inherits horizontal and vertical streaks.
/// </summary>
public static class NaturalSpectrum
{
    static readonly ConcurrentDictionary<(int Height, int Width, int Channels, bool Decorrelate), float[]> Cache = new();

    /// <summary>
    /// [1,C,H,W/2+1] float32 on the CPU, the rfft2 layout: per channel the mean amplitude |F| of the photos' crops, for
    /// RGB in <see cref="ColorDecorrelation"/>'s space when <paramref name="decorrelate"/>, for one channel their luma.
    /// The DC term is 0 (means removed) and the self-conjugate columns are exactly symmetric, so any phase that
    /// respects a real image's symmetry keeps every amplitude.
    /// </summary>
    /// <exception cref="InvalidSettingException">A channel count other than 1 or 3 (photos have no other equivalent).</exception>
    public static Tensor Magnitude(int height, int width, int channels = 3, bool decorrelate = true)
    {
        if (channels is not (1 or 3))
            throw new InvalidSettingException($"The natural spectrum comes from photos: RGB (3 channels) or grey (1); a {channels}-channel image has no photo equivalent.", nameof(channels), channels);
        if (height < 4 || width < 4) throw new InvalidSettingException($"A spectrum needs at least 4x4 pixels; got {width}x{height}.", nameof(height));
        var key = (height, width, channels, decorrelate && channels == 3);
        var values = Cache.GetOrAdd(key, k => Compute(k.Height, k.Width, k.Channels, k.Decorrelate));
        return tensor(values, [1, channels, height, width / 2 + 1], device: CPU);
    }

    static float[] Compute(int height, int width, int channels, bool decorrelate)
    {
        using var scope = NewDisposeScope();
        var sum = zeros([1, channels, height, width / 2 + 1], dtype: ScalarType.Float64, device: CPU);
        var window = hann_window(height, periodic: false, dtype: ScalarType.Float64, device: CPU).unsqueeze(1) * hann_window(width, periodic: false, dtype: ScalarType.Float64, device: CPU).unsqueeze(0);
        window = window / window.square().mean().sqrt();
        int count = 0;
        foreach (var path in SampleImages.All)
        {
            var photo = ImageIO.Load(path);
            long h = photo.shape[2], w = photo.shape[3];
            foreach (double scale in new[] { 1.0, 2.0 })
            {
                double factor = scale * Math.Max((double)height / h, (double)width / w);
                int rh = Math.Max(height, (int)Math.Round(h * factor)), rw = Math.Max(width, (int)Math.Round(w * factor));
                var resized = ImageOps.Resize(photo, rh, rw);
                foreach (int top in new[] { 0, (rh - height) / 2, rh - height }.Distinct())
                    foreach (int left in new[] { 0, (rw - width) / 2, rw - width }.Distinct())
                    {
                        var crop = resized.narrow(2, top, height).narrow(3, left, width).to_type(ScalarType.Float64);
                        crop = channels == 1 ? ImageOps.ToChannels(crop, 1) : decorrelate ? ColorDecorrelation.FromRgb(crop) : crop;
                        crop = (crop - crop.mean([2, 3], keepdim: true)) * window;
                        sum.add_(fft.rfft2(crop, norm: FFTNormType.Ortho).abs());
                        count++;
                    }
            }
        }
        var mean = sum / count;
        // |F| of a real image is exactly symmetric in the vertical frequency on the columns that hold their own
        // conjugates (horizontal frequency 0, and W/2 for even W); make the rounding agree.
        var reflected = mean.index_select(2, Reflection(height));
        var symmetric = SelfConjugateColumns(width);
        mean = where(symmetric, (mean + reflected) / 2, mean);
        mean[.., .., 0, 0].fill_(0);
        return mean.to_type(ScalarType.Float32).contiguous().data<float>().ToArray();
    }

    /// <summary>Row k ↦ row (H − k) mod H: where a frequency's conjugate sits, as an index for <c>index_select</c>.</summary>
    internal static Tensor Reflection(int height) =>
        tensor(Enumerable.Range(0, height).Select(k => (long)((height - k) % height)).ToArray(), device: CPU);

    /// <summary>[1,1,1,W/2+1] true on the rfft2 columns that hold their own conjugates: 0, and W/2 for even W.</summary>
    internal static Tensor SelfConjugateColumns(int width)
    {
        var mask = new bool[width / 2 + 1];
        mask[0] = true;
        if (width % 2 == 0) mask[width / 2] = true;
        return tensor(mask, device: CPU).reshape(1, 1, 1, width / 2 + 1);
    }
}
