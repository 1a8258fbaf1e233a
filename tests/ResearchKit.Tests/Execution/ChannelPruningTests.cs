using ResearchKit.Models;
using ResearchKit.Models.Execution;
using ResearchKit.Models.Onnx;
using ResearchKit.TestSupport;
using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace ResearchKit.Tests.Execution;

/// <summary>
/// A caller that reads some channels of a tap gets the values and gradients of the full computation for those
/// channels, while the network computes only what they depend on.
/// </summary>
[Collection("Execution modes")]
public sealed class ChannelPruningTests : IDisposable
{
    readonly OnnxModel _model = ModelZoo.ResNet18();

    public void Dispose() => _model.Dispose();

    static double RelativeError(Tensor value, Tensor reference) =>
        (value - reference).abs().max().ToDouble() / reference.abs().max().ToDouble();

    // Channel 7 of layer3 and the input gradient of its mean, computed in full or pruned to that channel.
    (Tensor Channel, Tensor Others, Tensor Gradient) Layer3Channel7(ExecutionMode mode, bool pruned)
    {
        _model.UseExecution(mode, evenIfEmulated: true);
        using var scope = NewDisposeScope();
        var x = rand([1, 3, 216, 216], generator: new Generator(3)).requires_grad_();
        using var pass = _model.Pass();
        var layer3 = pruned
            ? pass.Run(x, ["layer3"], new Dictionary<string, IReadOnlyList<int>> { ["layer3"] = [7] })["layer3"]
            : pass.Run(x, "layer3");
        layer3[.., 7].mean().backward();
        var others = cat([layer3[.., ..7], layer3[.., 8..]], 1);
        return (layer3[.., 7].detach().MoveToOuterDisposeScope(), others.detach().MoveToOuterDisposeScope(), x.grad!.detach().MoveToOuterDisposeScope());
    }

    [Theory]
    [InlineData("exact", 1e-6)]
    [InlineData("fast", 1e-6)]
    public void A_pruned_channel_has_the_values_and_input_gradient_of_the_full_computation(string mode, double tolerance)
    {
        // Against the full computation in the same mode: across modes, float32 rounding flips the odd ReLU or max-pool
        // decision between near-equal values, which moves input gradients by far more than rounding (up to 4 % at
        // 216x216 between fast and exact, with or without pruning).
        var (channel, _, gradient) = Layer3Channel7(ExecutionMode.Parse(mode), pruned: false);
        var (prunedChannel, others, prunedGradient) = Layer3Channel7(ExecutionMode.Parse(mode), pruned: true);
        Assert.True(RelativeError(prunedChannel, channel) < tolerance, $"channel 7: {RelativeError(prunedChannel, channel):E2}");
        Assert.True(RelativeError(prunedGradient, gradient) < tolerance, $"input gradient: {RelativeError(prunedGradient, gradient):E2}");
        Assert.Equal(0, others.abs().max().ToDouble());
    }

    [Fact]
    public void A_pruned_channel_in_the_fast_mode_has_the_exact_values()
    {
        var (channel, _, _) = Layer3Channel7(ExecutionMode.Exact, pruned: false);
        var (prunedChannel, _, _) = Layer3Channel7(ExecutionMode.Fast, pruned: true);
        Assert.True(RelativeError(prunedChannel, channel) < 1e-5, $"channel 7: {RelativeError(prunedChannel, channel):E2}");
    }

    [Fact]
    public void In_bfloat16_pruning_changes_neither_the_channel_nor_the_gradient_beyond_rounding()
    {
        var (channel, _, gradient) = Layer3Channel7(ExecutionMode.FastBFloat16, pruned: false);
        var (prunedChannel, _, prunedGradient) = Layer3Channel7(ExecutionMode.FastBFloat16, pruned: true);
        Assert.True(RelativeError(prunedChannel, channel) < 0.02, $"channel 7: {RelativeError(prunedChannel, channel):E2}");
        double cosine = F.cosine_similarity(prunedGradient.flatten().unsqueeze(0), gradient.flatten().unsqueeze(0)).ToDouble();
        Assert.True(cosine > 0.99, $"gradient cosine {cosine:F4}");
    }

    [Theory]
    // Fast folds each normalization into its convolution: the folded convolution, the residual sum and the ReLU.
    [InlineData("fast", 3)]
    // Exact keeps them apart: convolution, normalization, sum, ReLU.
    [InlineData("exact", 4)]
    public void Only_the_steps_from_the_last_convolution_to_the_tap_are_pruned(string mode, int steps)
    {
        _model.UseExecution(ExecutionMode.Parse(mode), evenIfEmulated: true);
        var layer3 = _model.ResolveTap("layer3");
        Assert.Equal(steps, _model.PrunedSteps(new HashSet<string> { layer3 }, new Dictionary<string, long[]> { [layer3] = [7] }));
    }

    [Fact]
    public void A_reading_scope_prunes_every_run_inside_it_and_nothing_after()
    {
        _model.UseExecution(ExecutionMode.Fast);
        using var scope = NewDisposeScope();
        var x = rand([1, 3, 96, 96], generator: new Generator(8));
        var full = _model.Run(x, "layer3");
        Tensor inside;
        using (_model.ReadingOnly("layer3", 7)) inside = _model.Run(x, "layer3");
        var after = _model.Run(x, "layer3");
        Assert.True(RelativeError(inside[.., 7], full[.., 7]) < 1e-6);
        Assert.Equal(0, cat([inside[.., ..7], inside[.., 8..]], 1).abs().max().ToDouble());
        Assert.True(after.equal(full).all().item<bool>(), "the scope outlived its disposal");
    }

    [Fact]
    public void Channels_of_a_tap_not_asked_for_are_refused_by_name()
    {
        using var scope = NewDisposeScope();
        var x = rand(1, 3, 64, 64);
        using var pass = _model.Pass();
        var error = Assert.Throws<InvalidSettingException>(() => pass.Run(x, ["layer2"], new Dictionary<string, IReadOnlyList<int>> { ["layer3"] = [7] }));
        Assert.Contains("'layer3'", error.Message);
        Assert.Throws<ChannelOutOfRangeException>(() => pass.Run(x, ["layer3"], new Dictionary<string, IReadOnlyList<int>> { ["layer3"] = [256] }));
    }
}

/// <summary>Pruning where values are shared: two taps read different channels of values computed once.</summary>
public class SharedValuePruningTests
{
    [Theory]
    [InlineData("exact")]
    [InlineData("fast")]
    public void Two_taps_reading_different_channels_of_shared_values_match_the_full_computation(string mode)
    {
        // conv → BN → relu = r; conv(r) → BN = u; a = relu(u + r) (tap, channel 2); b = sigmoid(u) · r (tap, channels 5, 1)
        var g = new OnnxGraphBuilder(seed: 7);
        var x = g.Input("data", -1, 3, 12, 12);
        var r = x.Conv(8, 3, pad: 1).BatchNormalization().Relu();
        var u = r.Conv(8, 3, pad: 1).BatchNormalization();
        var a = u.Add(r).Relu();
        var b = u.Sigmoid().Mul(r);
        g.Output(a);
        var file = Path.Combine(Path.GetTempPath(), $"researchkit-{Guid.NewGuid():N}.onnx");
        g.Save(file);
        try
        {
            using var model = ModesForTests.Load(file, ExecutionMode.Parse(mode));
            (Tensor A, Tensor B, Tensor Gradient) Run(bool pruned)
            {
                using var scope = NewDisposeScope();
                var image = (rand([2, 3, 12, 12], generator: new Generator(4)) * 2 - 1).requires_grad_();
                using var pass = model.Pass();
                var taps = pruned
                    ? pass.Run(image, [a.Name, b.Name], new Dictionary<string, IReadOnlyList<int>> { [a.Name] = [2], [b.Name] = [5, 1] })
                    : pass.Run(image, [a.Name, b.Name]);
                var (ta, tb) = (taps[a.Name][.., 2], taps[b.Name][.., TensorIndex.Tensor(tensor(new long[] { 5, 1 }))]);
                (ta.square().sum() + tb.sum()).backward();
                return (ta.detach().MoveToOuterDisposeScope(), tb.detach().MoveToOuterDisposeScope(), image.grad!.detach().MoveToOuterDisposeScope());
            }
            var full = Run(pruned: false);
            var part = Run(pruned: true);
            Assert.True(RelativeError(part.A, full.A) < 1e-5, $"a: {RelativeError(part.A, full.A):E2}");
            Assert.True(RelativeError(part.B, full.B) < 1e-5, $"b: {RelativeError(part.B, full.B):E2}");
            Assert.True(RelativeError(part.Gradient, full.Gradient) < 1e-5, $"gradient: {RelativeError(part.Gradient, full.Gradient):E2}");
            // u is read by both taps (channels 2, 5 and 1): its convolution computes those three outputs only.
            Assert.True(model.PrunedSteps(new HashSet<string> { a.Name, b.Name }, new Dictionary<string, long[]> { [a.Name] = [2], [b.Name] = [1, 5] }) >= 4);
        }
        finally { File.Delete(file); }
    }

    static double RelativeError(Tensor value, Tensor reference) =>
        (value - reference).abs().max().ToDouble() / reference.abs().max().ToDouble();
}
