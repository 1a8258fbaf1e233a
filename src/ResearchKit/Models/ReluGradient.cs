using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace ResearchKit.Models;

/// <summary>
/// Lucid's redirected ReLU gradient (Olah et al. 2017), for renders that start where a unit is silent. A ReLU passes no
/// gradient to a negative input, so when every unit an objective reads is zero for the starting image (most of a
/// ResNet's layer4 on a grey image), nothing reaches the image and the optimizer never moves. While redirection is on,
/// a ReLU whose ordinary gradient is zero for a whole batch item passes that item the gradient anyway, except where it
/// would push an already negative input further down; items where some gradient gets through keep the ordinary one.
/// The same holds for clipped activations (ReLU6, ONNX <c>Clip(0, 6)</c>) at both bounds. Only the renderer turns it
/// on, per step and per thread: model runs, attribution and training always see the ordinary gradient.
/// </summary>
public static class ReluGradient
{
    [ThreadStatic] static bool _redirecting;

    /// <summary>Whether ReLUs built on this thread now take the redirected gradient.</summary>
    public static bool Redirecting => _redirecting;

    /// <summary>Turns redirection on (or off) on this thread until the returned scope is disposed.</summary>
    public static IDisposable Redirect(bool on = true)
    {
        var scope = new Scope(_redirecting);
        _redirecting = on;
        return scope;
    }

    /// <summary>max(x, 0), with the redirected gradient while <see cref="Redirecting"/>.</summary>
    public static Tensor Relu(Tensor x) => _redirecting && x.requires_grad ? Redirected.apply(x, 0.0, double.PositiveInfinity) : F.relu(x);

    /// <summary>
    /// x clamped to [<paramref name="lower"/>, <paramref name="upper"/>]; an activation (lower bound 0, as ReLU6 and
    /// ONNX Clip(0, 6)) takes the redirected gradient while <see cref="Redirecting"/>, any other clamp the ordinary one.
    /// </summary>
    public static Tensor Clamp(Tensor x, double lower, double upper) =>
        _redirecting && x.requires_grad && lower == 0 ? Redirected.apply(x, lower, upper) : x.clamp(lower, upper);

    sealed class Scope(bool previous) : IDisposable
    {
        public void Dispose() => _redirecting = previous;
    }

    sealed class Redirected : autograd.SingleTensorFunction<Redirected>
    {
        public override string Name => "RedirectedRelu";

        public override Tensor forward(autograd.AutogradContext ctx, params object[] vars)
        {
            var (x, lower, upper) = ((Tensor)vars[0], (double)vars[1], (double)vars[2]);
            ctx.save_for_backward([x]);
            ctx.save_data("bounds", new[] { lower, upper });
            return double.IsPositiveInfinity(upper) ? F.relu(x) : x.clamp(lower, upper);
        }

        // The gradient is the loss's (minimized): positive means "lower this input".
        public override List<Tensor> backward(autograd.AutogradContext ctx, Tensor gradient)
        {
            var x = ctx.get_saved_variables()[0];
            var bounds = (double[])ctx.get_data("bounds");
            var below = x <= bounds[0];
            var outside = double.IsPositiveInfinity(bounds[1]) ? below : below | (x >= bounds[1]);
            var ordinary = gradient.masked_fill(outside, 0);
            // Redirected: everything except what would push a unit further past the bound it is already beyond.
            var pushedFurther = below & (gradient > 0);
            if (!double.IsPositiveInfinity(bounds[1])) pushedFurther |= (x >= bounds[1]) & (gradient < 0);
            var redirected = gradient.masked_fill(pushedFurther, 0);
            long[] itemShape = [x.shape[0], .. Enumerable.Repeat(1L, (int)x.dim() - 1)];
            var passes = ordinary.flatten(1).abs().amax(1).gt(0).view(itemShape);
            return [where(passes, ordinary, redirected), null!, null!];
        }
    }
}

/// <summary>
/// A ReLU module for the kit's own networks (<see cref="SequentialModel"/> stages) that takes the redirected gradient
/// while a render asks for it (<see cref="ReluGradient"/>); otherwise exactly <c>nn.ReLU</c>.
/// </summary>
public sealed class RedirectableRelu() : nn.Module<Tensor, Tensor>("RedirectableRelu")
{
    /// <inheritdoc/>
    public override Tensor forward(Tensor input) => ReluGradient.Relu(input);
}
