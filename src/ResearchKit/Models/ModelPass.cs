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

    /// <summary>
    /// The requested taps, differentiable, for a caller that reads only some channels of some taps
    /// (<paramref name="channelsRead"/>, keyed like <paramref name="taps"/>): an objective on one channel of layer3
    /// passes <c>{ ["layer3"] = [7] }</c>. Where the network's structure allows, it computes only what those channels
    /// depend on: the operators between the tap and the convolution before it work on those channels alone, and that
    /// convolution computes only those outputs, forward and backward. The channels read have the values and gradients
    /// of the full computation; the others come back as zeros.
    /// </summary>
    public IReadOnlyDictionary<string, Tensor> Run(Tensor images, IEnumerable<string> taps, IReadOnlyDictionary<string, IReadOnlyList<int>> channelsRead) =>
        _model.RunTaps(images, taps, channelsRead);

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
