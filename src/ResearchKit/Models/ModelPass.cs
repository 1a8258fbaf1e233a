using static TorchSharp.torch;

namespace ResearchKit.Models;

/// <summary>
/// A differentiable pass through a model: it holds the kernels of the model's execution mode from the forward pass to
/// the end of the backward pass, so an algorithm cannot run the backward pass on other kernels than the forward one.
/// Made by <see cref="Model.Pass"/>; dispose it after <c>backward()</c>.
/// </summary>
public sealed class ModelPass : IDisposable
{
    readonly Model _model;
    readonly IDisposable _kernels;
    readonly IDisposable _gradients;

    internal ModelPass(Model model)
    {
        _model = model;
        _kernels = model.Kernels();
        _gradients = enable_grad();
    }

    /// <summary>The model this pass runs.</summary>
    public Model Model => _model;

    /// <summary>The requested taps (keyed as requested) for RGB images in [0,1], differentiable.</summary>
    public IReadOnlyDictionary<string, Tensor> Run(Tensor images, params IEnumerable<string> taps) => _model.RunTaps(images, taps);

    /// <summary>One tap for RGB images in [0,1], differentiable.</summary>
    public Tensor Run(Tensor images, string tap) => Run(images, [tap])[tap];

    /// <summary>The network's final output for RGB images in [0,1], differentiable.</summary>
    public Tensor Forward(Tensor images) => Run(images, _model.OutputTap);

    /// <inheritdoc/>
    public void Dispose()
    {
        _gradients.Dispose();
        _kernels.Dispose();
    }
}
