using TorchSharp;
using static TorchSharp.torch;

namespace ResearchKit.Models;

/// <summary>
/// Turns RGB images in [0,1] into a network's input: optional channel reversal (RGB→BGR), a scale factor, then
/// either a per-pixel mean image or per-channel mean and standard deviation. Differentiable, batch-aware.
/// </summary>
public sealed class Preprocessing : IDisposable
{
    Tensor? _meanImage;                 // [1,3,h,w] in the network's channel order and scale
    Tensor? _mean, _std;                // [1,3,1,1]
    // The mean image resized to each input size met, so that a render loop does not resize it every step.
    readonly Dictionary<(long H, long W), Tensor> _resizedMeans = [];
    const int MaxResizedMeans = 16;

    Preprocessing(string description, bool reverseChannels, float scale, Tensor? meanImage, float[]? mean, float[]? std)
    {
        Description = description;
        ReverseChannels = reverseChannels;
        Scale = scale;
        _meanImage = meanImage?.detach();
        if (mean is not null) _mean = tensor(mean, device: CPU).reshape(1, 3, 1, 1);
        if (std is not null) _std = tensor(std, device: CPU).reshape(1, 3, 1, 1);
    }

    /// <summary>What this preprocessing does, in words (recorded in render settings).</summary>
    public string Description { get; }

    /// <summary>True when the network takes BGR channel order.</summary>
    public bool ReverseChannels { get; }

    /// <summary>Factor applied to [0,1] pixels (255 for networks trained on 0–255 input).</summary>
    public float Scale { get; }

    /// <summary>RGB in [0,1], unchanged.</summary>
    public static Preprocessing Identity() => new("RGB in [0,1]", false, 1f, null, null, null);

    /// <summary>torchvision's ImageNet convention.</summary>
    public static Preprocessing ImageNet() => new("RGB, (x - [0.485,0.456,0.406]) / [0.229,0.224,0.225]", false, 1f, null,
        [0.485f, 0.456f, 0.406f], [0.229f, 0.224f, 0.225f]);

    /// <summary>Caffe/CNTK convention with a per-pixel mean image (given in the network's channel order and scale).</summary>
    public static Preprocessing MeanImage(Tensor meanImage, bool reverseChannels, float scale, string description) =>
        new(description, reverseChannels, scale, meanImage, null, null);

    /// <summary>Caffe convention with per-channel means (network's channel order and scale).</summary>
    public static Preprocessing ChannelMeans(float[] mean, bool reverseChannels, float scale, string description) =>
        new(description, reverseChannels, scale, null, mean, null);

    /// <summary>
    /// Applies the preprocessing to <paramref name="rgb"/> ([N,3,H,W], values in [0,1]); the identity takes images of
    /// any channel count ([N,C,H,W]).
    /// </summary>
    public Tensor Apply(Tensor rgb)
    {
        bool identity = !ReverseChannels && Scale == 1f && _meanImage is null && _mean is null && _std is null;
        if (rgb.dim() != 4 || (rgb.shape[1] != 3 && !identity))
            throw new InvalidSettingException($"expected an image batch of shape [N,3,H,W] for '{Description}', got [{string.Join(",", rgb.shape)}]");
        var x = ReverseChannels ? rgb.flip(1) : rgb;
        if (Scale != 1f) x = x * Scale;
        if (_meanImage is not null) x = x - MeanImageAt(_meanImage, x.shape[2], x.shape[3]);
        if (_mean is not null) x = x - _mean;
        if (_std is not null) x = x / _std;
        return x;
    }

    Tensor MeanImageAt(Tensor meanImage, long height, long width)
    {
        if (meanImage.shape[2] == height && meanImage.shape[3] == width) return meanImage;
        lock (_resizedMeans)
        {
            if (_resizedMeans.TryGetValue((height, width), out var resized)) return resized;
            if (_resizedMeans.Count >= MaxResizedMeans) ForgetResizedMeans();
            using var noGrad = no_grad();
            resized = nn.functional.interpolate(meanImage, [height, width], mode: InterpolationMode.Bilinear, align_corners: false)
                .DetachFromDisposeScope();
            return _resizedMeans[(height, width)] = resized;
        }
    }

    void ForgetResizedMeans()
    {
        lock (_resizedMeans)
        {
            foreach (var t in _resizedMeans.Values) t.Dispose();
            _resizedMeans.Clear();
        }
    }

    /// <summary>Moves the mean and standard deviation to <paramref name="device"/>, in place (with the model).</summary>
    internal void To(Device device)
    {
        ForgetResizedMeans();
        _meanImage = Moved(_meanImage, device);
        _mean = Moved(_mean, device);
        _std = Moved(_std, device);
    }

    static Tensor? Moved(Tensor? value, Device device)
    {
        if (value is null) return null;
        var moved = value.to(device).DetachFromDisposeScope();
        value.Dispose();
        return moved;
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        ForgetResizedMeans();
        _meanImage?.Dispose();
        _mean?.Dispose();
        _std?.Dispose();
    }
}
