using TorchSharp;
using static TorchSharp.torch;

namespace ResearchKit.Parameterizations;

/// <summary>The images a parameterization makes: how many, with how many channels (the network's input channels), of what size.</summary>
public readonly record struct ImageShape(int Batch, int Channels, int Height, int Width);

/// <summary>Creates the parameterization of a render (shape, seed → a new parameterization the caller disposes).</summary>
public delegate Parameterization ParameterizationFactory(ImageShape shape, int seed);

/// <summary>
/// Owns the free tensors of an image search and maps them to an RGB batch in [0,1].
/// The optimizer changes <see cref="Parameters"/>; <see cref="Image"/> is a differentiable function of them.
/// <para>
/// The parameter tensors are <see cref="TorchSharp.Modules.Parameter"/> leaves detached from every dispose scope: they live until
/// the parameterization is disposed. <see cref="Image"/> creates its result (and intermediates) in the caller's scope.
/// </para>
/// </summary>
public abstract class Parameterization : IDisposable
{
    readonly List<Tensor> _owned = [];
    bool _disposed;

    /// <summary>Checks and stores the image batch size, image size and channel count.</summary>
    protected Parameterization(int batch, int height, int width, int channels = 3)
    {
        if (batch < 1) throw new InvalidSettingException("The batch must hold at least one image.", nameof(batch), batch);
        if (channels < 1) throw new InvalidSettingException("An image has at least one channel.", nameof(channels), channels);
        if (height < 1 || width < 1)
            throw new InvalidSettingException("Image height and width must be at least 1.", nameof(height), $"{height}x{width}");
        Batch = batch;
        Height = height;
        Width = width;
        Channels = channels;
    }

    /// <summary>Number of images produced by <see cref="Image"/>.</summary>
    public int Batch { get; }

    /// <summary>Image height in pixels.</summary>
    public int Height { get; }

    /// <summary>Image width in pixels.</summary>
    public int Width { get; }

    /// <summary>Channels per pixel: 3 (RGB) unless made for a network that takes another count (1 for grayscale).</summary>
    public int Channels { get; }

    /// <summary>The leaf tensors to optimize (each a <see cref="TorchSharp.Modules.Parameter"/> with requires_grad).</summary>
    public abstract IReadOnlyList<Tensor> Parameters { get; }

    /// <summary>
    /// The current images, [Batch,Channels,Height,Width] in [0,1] (RGB for 3 channels), differentiable w.r.t.
    /// <see cref="Parameters"/>.
    /// </summary>
    public abstract Tensor Image();

    /// <summary>Short text for captions and JSON, e.g. "fft+decorrelated 224x224 x4".</summary>
    public abstract string Describe();

    /// <summary>Where the parameters live: the CPU until <see cref="To"/> moves them.</summary>
    public Device Device => Parameters[0].device;

    /// <summary>
    /// Moves the parameters and constants to <paramref name="device"/>, values unchanged, and returns this. Call it
    /// before optimizing: an optimizer made earlier holds the old tensors. Parameterizations start on the CPU, drawn
    /// from a CPU generator, so a seed gives the same start on every device.
    /// </summary>
    /// <exception cref="NotSupportedException">A parameterization class that does not implement <see cref="MoveTo"/>.</exception>
    public Parameterization To(Device device)
    {
        ArgumentNullException.ThrowIfNull(device);
        ThrowIfDisposed();
        if (!Devices.Same(device, Device)) MoveTo(device);
        return this;
    }

    /// <summary>Replaces each tensor the subclass holds by <see cref="Moved"/>.</summary>
    protected virtual void MoveTo(Device device) =>
        throw new NotSupportedException($"{GetType().Name} cannot move to {device}: it does not override MoveTo");

    /// <summary>
    /// A copy on <paramref name="device"/> of a tensor made by <see cref="Leaf"/> or <see cref="Constant"/> (a leaf stays a
    /// trainable leaf), owned in its place; the original is released.
    /// </summary>
    protected Tensor Moved(Tensor owned, Device device)
    {
        int index = _owned.FindIndex(t => ReferenceEquals(t, owned));
        if (index < 0) throw new InvalidSettingException("only tensors made by Leaf or Constant can be moved", nameof(owned));
        Tensor moved;
        using (NewDisposeScope())
            moved = owned.detach().to(device).DetachFromDisposeScope();
        if (owned is TorchSharp.Modules.Parameter) moved = new TorchSharp.Modules.Parameter(moved, requires_grad: true);
        _owned[index] = moved;
        owned.Dispose();
        return moved;
    }

    /// <summary>
    /// Restores the parameterization's own constraint after an optimizer step (a no_grad, in-place edit).
    /// Only <see cref="Parameterizations.Pixel"/> with <see cref="PixelRange.Clamp"/> has one; the renderer calls this after every step.
    /// </summary>
    public virtual void Constrain() { }

    /// <inheritdoc/>
    public override string ToString() => Describe();

    /// <summary>A pixel-grid parameterization with seeded noise around mid-grey.</summary>
    /// <param name="std">Noise standard deviation (in the raw parameter's units; Lucid uses 0.01).</param>
    /// <param name="channels">Channels per pixel (the network's <c>InputChannels</c>).</param>
    public static Pixel Pixel(int height, int width, int batch = 1, PixelRange range = PixelRange.Sigmoid, bool decorrelate = false,
        double std = 0.01, int seed = 0, int channels = 3) =>
        new(height, width, batch, range, decorrelate, std, seed, channels);

    /// <summary>A pixel grid for images of <paramref name="shape"/> (see <see cref="Pixel(int, int, int, PixelRange, bool, double, int, int)"/>).</summary>
    public static Pixel Pixel(ImageShape shape, PixelRange range = PixelRange.Sigmoid, bool decorrelate = false, double std = 0.01, int seed = 0) =>
        new(shape.Height, shape.Width, shape.Batch, range, decorrelate && shape.Channels == 3, std, seed, shape.Channels);

    /// <summary>Fourier coefficients for images of <paramref name="shape"/> (see <see cref="Fourier(int, int, int, bool, int, double, double, int)"/>).</summary>
    public static Fourier Fourier(ImageShape shape, bool decorrelate = true, int seed = 0, double std = 0.01, double decayPower = 1) =>
        Fourier(shape.Height, shape.Width, shape.Batch, decorrelate, seed, std, decayPower, shape.Channels);

    /// <summary>
    /// Lucid's default: Fourier coefficients with 1/f scaling, optionally decorrelated colour, squashed by a sigmoid.
    /// Colour decorrelation applies to RGB; for other channel counts it is left out.
    /// </summary>
    public static Fourier Fourier(int height, int width, int batch = 1, bool decorrelate = true, int seed = 0, double std = 0.01,
        double decayPower = 1, int channels = 3) =>
        new(height, width, batch, decorrelate && channels == 3, std, decayPower, seed, channels);

    /// <summary>
    /// The given photo as the parameter ([N,C,H,W] in [0,1], copied). The default <see cref="PixelRange.Clamp"/>
    /// keeps pixel units, which is what DeepDream's normalized steps and pixel-space priors expect.
    /// </summary>
    public static Pixel FromImage(Tensor image, PixelRange range = PixelRange.Clamp) =>
        Parameterizations.Pixel.FromImage(image, range);

    /// <summary>A compositional pattern-producing network mapping pixel coordinates to colour (Lucid's cppn).</summary>
    public static Cppn Cppn(int height, int width, int batch = 1, int seed = 0, int layers = 8, int hidden = 24, int channels = 3) =>
        new(height, width, batch, seed, layers, hidden, channels);

    /// <summary>A CPPN for images of <paramref name="shape"/>.</summary>
    public static Cppn Cppn(ImageShape shape, int seed = 0, int layers = 8, int hidden = 24) =>
        new(shape.Height, shape.Width, shape.Batch, seed, layers, hidden, shape.Channels);

    /// <summary>
    /// A factory for images with an alpha channel: each image from <paramref name="colour"/> plus a one-channel alpha
    /// of the same kind (see <see cref="Parameterizations.Transparent"/>), [N,C+1,H,W].
    /// </summary>
    public static ParameterizationFactory WithAlpha(ParameterizationFactory colour)
    {
        ArgumentNullException.ThrowIfNull(colour);
        return (shape, seed) => new Transparent(colour, shape, seed);
    }

    /// <summary>
    /// MaCo (Fel et al. 2023): Fourier magnitude fixed to the sample photos' average spectrum, only the phase free
    /// (see <see cref="Parameterizations.Maco"/>).
    /// </summary>
    public static Maco Maco(ImageShape shape, int seed = 0, bool decorrelate = true) =>
        new(shape.Height, shape.Width, shape.Batch, seed, shape.Channels, decorrelate && shape.Channels == 3);

    /// <summary>The parameterizations <see cref="Named"/> knows, by name.</summary>
    public static IReadOnlyList<string> Names { get; } = ["fourier", "pixel", "maco", "cppn"];

    /// <summary>
    /// The factory called <paramref name="name"/> (case-insensitive), with its published defaults: <c>fourier</c>
    /// (Lucid's, decorrelated colour), <c>pixel</c> (sigmoid pixels), <c>maco</c> (phase only), <c>cppn</c>.
    /// </summary>
    /// <exception cref="InvalidSettingException">Not one of <see cref="Names"/>.</exception>
    public static ParameterizationFactory Named(string name) => name?.Trim().ToLowerInvariant() switch
    {
        "fourier" => (shape, seed) => Fourier(shape, seed: seed),
        "pixel" => (shape, seed) => Pixel(shape, seed: seed),
        "maco" => (shape, seed) => Maco(shape, seed),
        "cppn" => (shape, seed) => Cppn(shape, seed),
        _ => throw new InvalidSettingException($"Unknown parameterization '{name}'. Valid: {string.Join(", ", Names)}.", nameof(name), name),
    };

    /// <summary>
    /// A trainable float32 leaf holding a copy of <paramref name="initial"/> (never sharing its storage, so in-place
    /// steps cannot edit the caller's tensor); owned and disposed by this parameterization.
    /// </summary>
    protected Tensor Leaf(Tensor initial)
    {
        Tensor data;
        using (NewDisposeScope())
            data = initial.detach().to_type(ScalarType.Float32).contiguous().clone().DetachFromDisposeScope();
        var leaf = new TorchSharp.Modules.Parameter(data, requires_grad: true);
        _owned.Add(leaf);
        return leaf;
    }

    /// <summary>Keeps a constant tensor alive for the lifetime of this parameterization.</summary>
    protected Tensor Constant(Tensor value)
    {
        value.DetachFromDisposeScope();
        _owned.Add(value);
        return value;
    }

    /// <summary>Throws once the parameterization has been disposed.</summary>
    protected void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(_disposed, this);

    /// <summary>Disposes the parameter and constant tensors.</summary>
    public void Dispose()
    {
        Dispose(true);
        GC.SuppressFinalize(this);
    }

    /// <summary>Releases owned tensors.</summary>
    protected virtual void Dispose(bool disposing)
    {
        if (_disposed) return;
        _disposed = true;
        if (!disposing) return;
        foreach (var t in _owned) t.Dispose();
        _owned.Clear();
    }

    /// <summary>A generator seeded for one parameterization, so that no global RNG state is read or changed.</summary>
    protected static Generator Seeded(int seed) => new((ulong)seed);
}
