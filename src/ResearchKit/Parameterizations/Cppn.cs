using static TorchSharp.torch;

namespace ResearchKit.Parameterizations;

/// <summary>
/// A compositional pattern-producing network (Stanley 2007; Lucid's cppn, Mordvintsev et al. 2018 "Differentiable
/// Image Parameterizations"): a small per-pixel MLP from (x, y) to RGB. The image is a smooth function of the
/// coordinates, so the search yields resolution-independent, flowing patterns. Each image of the batch has its own
/// network. Lucid optimizes it with Adam at a small learning rate (about 0.005).
/// </summary>
public sealed class Cppn : Parameterization
{
    readonly List<(Tensor Weight, Tensor Bias)> _layers = [];
    Tensor _coordinates; // [1,2,H·W]
    readonly List<Tensor> _parameters = [];

    /// <summary>
    /// <paramref name="layers"/> hidden 1×1 layers of <paramref name="hidden"/> units, each followed by Lucid's composite
    /// arctan activation (which doubles the width); weights N(0, 1/fan-in) from a seeded generator; the output layer
    /// starts at zero, so the first image is uniform grey.
    /// </summary>
    public Cppn(int height, int width, int batch = 1, int seed = 0, int layers = 8, int hidden = 24, int channels = 3)
        : base(batch, height, width, channels)
    {
        if (layers < 1) throw new InvalidSettingException("A CPPN needs at least one hidden layer.", nameof(layers), layers);
        if (hidden < 1) throw new InvalidSettingException("A CPPN layer needs at least one unit.", nameof(hidden), hidden);
        LayerCount = layers;
        HiddenUnits = hidden;
        using (NewDisposeScope())
        {
            using var generator = Seeded(seed);
            // Coordinates spread over ±√3 have unit standard deviation, as in Lucid.
            double r = Math.Sqrt(3);
            var y = linspace(-r, r, height, device: CPU).unsqueeze(1).expand(height, width);
            var x = linspace(-r, r, width, device: CPU).unsqueeze(0).expand(height, width);
            _coordinates = Constant(stack([x, y]).reshape(1, 2, (long)height * width).contiguous());

            int fanIn = 2;
            for (int i = 0; i < layers; i++)
            {
                var w = randn([batch, hidden, fanIn], generator: generator, device: CPU) * Math.Sqrt(1.0 / fanIn);
                AddLayer(w, zeros(batch, hidden, 1, device: CPU));
                fanIn = 2 * hidden;
            }
            AddLayer(zeros(batch, channels, fanIn, device: CPU), zeros(batch, channels, 1, device: CPU));
        }
    }

    /// <summary>Number of hidden layers.</summary>
    public int LayerCount { get; }

    /// <summary>Units per hidden layer (before the activation doubles them).</summary>
    public int HiddenUnits { get; }

    /// <inheritdoc/>
    public override IReadOnlyList<Tensor> Parameters => _parameters;

    /// <inheritdoc/>
    public override Tensor Image()
    {
        ThrowIfDisposed();
        var h = _coordinates.expand(Batch, 2, _coordinates.shape[2]);
        for (int i = 0; i < _layers.Count; i++)
        {
            var (w, b) = _layers[i];
            h = w.bmm(h) + b;
            if (i == _layers.Count - 1) break;
            var a = h.atan();
            h = cat([a / 0.67, a * a / 0.6], 1); // Lucid's composite activation, roughly unit variance per half
        }
        return h.sigmoid().reshape(Batch, Channels, Height, Width);
    }

    /// <inheritdoc/>
    protected override void MoveTo(Device device)
    {
        _coordinates = Moved(_coordinates, device);
        for (int i = 0; i < _layers.Count; i++)
            _layers[i] = (Moved(_layers[i].Weight, device), Moved(_layers[i].Bias, device));
        _parameters.Clear();
        _parameters.AddRange(_layers.SelectMany(l => new[] { l.Weight, l.Bias }));
    }

    /// <inheritdoc/>
    public override string Describe() => $"cppn {LayerCount}x{HiddenUnits} {Height}x{Width} x{Batch}";

    void AddLayer(Tensor weight, Tensor bias)
    {
        var w = Leaf(weight);
        var b = Leaf(bias);
        _layers.Add((w, b));
        _parameters.Add(w);
        _parameters.Add(b);
    }
}
