using ResearchKit.IO;
using ResearchKit.Models;
using ResearchKit.Models.Onnx;
using ResearchKit.Objectives;
using ResearchKit.Parameterizations;
using ResearchKit.Rendering;
using ResearchKit.Transforms;
using static TorchSharp.torch;

namespace ResearchKit.Tests.Models;

/// <summary>
/// A vision transformer (torchvision's ViT, 32×32 input, 8×8 patches, 2 layers, exported by PyTorch): its token
/// sequences are taps laid out as a patch grid, channel and neuron objectives read features at the patches, the
/// attention softmax is a tap, and a render through it raises its objective.
/// </summary>
public sealed class TransformerTests : IDisposable
{
    const string Block = "encoder.layers.encoder_layer_0";
    readonly OnnxModel _vit = OnnxModel.Load(ExportedNetworkTests.Fixture("vit.onnx"), InputNormalization.None);
    readonly Tensor _input = NpyFile.ReadArchive(ExportedNetworkTests.Fixture("vit.npz"))["input"];

    public void Dispose()
    {
        _vit.Dispose();
        _input.Dispose();
    }

    [Fact]
    public void Token_taps_are_a_patch_grid_after_the_class_token()
    {
        var tap = _vit.Tap(Block);
        Assert.Equal([1, 17, 32], tap.Shape);
        Assert.Equal(new ActivationLayout(ActivationKind.Tokens, 32, 4, 4, ExtraTokens: 1), tap.Layout);
        Assert.Equal(32, tap.Channels);
        Assert.Equal(ActivationKind.Vector, _vit.Tap("logits").Layout.Kind);
        Assert.Equal(ActivationKind.FeatureMap, _vit.Taps().First(t => t.Op == "Conv").Layout.Kind);
    }

    [Fact]
    public void A_channel_on_tokens_is_one_feature_averaged_over_the_patch_tokens_without_the_class_token()
    {
        using var scope = NewDisposeScope();
        var tokens = _vit.Run(_input, Block);
        double expected = tokens[0, TensorIndex.Slice(1, null), 7].mean().item<float>();
        double withClassToken = tokens[0, .., 7].mean().item<float>();
        Assert.True(Math.Abs(expected - withClassToken) > 1e-3, "the class token must make a difference for this test to mean anything");
        Assert.Equal(expected, Objective.Channel(Block, 7).Measure(_vit, _input)[0], 5);
        Assert.Equal(expected, _vit.ChannelMeans(_input, Block)[7], 5);
    }

    [Fact]
    public void A_neuron_on_tokens_is_the_feature_at_one_patch_of_the_grid()
    {
        using var scope = NewDisposeScope();
        var tokens = _vit.Run(_input, Block);
        // Patches are numbered row by row after the class token: (x, y) = (2, 1) is token 1 + 1·4 + 2.
        Assert.Equal(tokens[0, 7, 5].item<float>(), Objective.Neuron(Block, 5, x: 2, y: 1).Measure(_vit, _input)[0], 5);
        Assert.Throws<InvalidSettingException>(() => Objective.Neuron(Block, 5, x: 4, y: 0).Measure(_vit, _input));
    }

    [Fact]
    public void Attention_softmaxes_are_taps_whose_rows_sum_to_one()
    {
        using var scope = NewDisposeScope();
        Assert.Equal("Softmax", _vit.OpOf(_vit.ResolveTap("attention1")));
        var attention = _vit.Run(_input, "attention0");
        Assert.Equal([2, 17, 17], attention.shape);   // one map per head, queries × keys
        Assert.True((attention.sum(-1) - 1).abs().max().item<float>() < 1e-5);
        // Heads are its channels: a head's mean attention is 1/17, as every query's weights sum to 1.
        Assert.Equal(new ActivationLayout(ActivationKind.FeatureMap, 2, 17, 17), _vit.Tap("attention0").Layout);
        Assert.Equal(1.0 / 17, Objective.Channel("attention0", 1).Measure(_vit, _input)[0], 5);
        Assert.Equal(attention[1, 5, 3].item<float>(), Objective.Neuron("attention0", 1, x: 3, y: 5).Measure(_vit, _input)[0], 5);
    }

    /// <summary>
    /// Small jitter for small images (Lucid's standard transforms pad by 12 pixels, which at 32×32 leaves the network
    /// mostly grey), resized back to the size the network takes.
    /// </summary>
    internal static ITransform SmallImageTransforms(int size) =>
        TransformPipeline.None.Pad(2, PadMode.Constant, 0.5).Jitter(2).Then(new Resize(size, size));

    [Fact]
    public void A_render_through_the_transformer_raises_a_token_channel()
    {
        // The ViT takes only its 32×32 input (its position embedding has 17 tokens), so the transforms end by resizing back.
        using var result = Render.Plan(_vit, Objective.Channel(Block, 3)).WithTransforms(SmallImageTransforms(32)).Steps(24).Seed(1).Run();
        Assert.Equal(RenderStop.Completed, result.Stop);
        Assert.True(result.History.Objective[^1] > result.History.Objective[0] + 0.2,
            $"objective went from {result.History.Objective[0]:0.###} to {result.History.Objective[^1]:0.###}");
    }

    [Fact]
    public void A_render_through_the_segmenter_raises_a_class_map()
    {
        using var segmenter = OnnxModel.Load(ExportedNetworkTests.Fixture("segmenter.onnx"), InputNormalization.None);
        // Its skip connection needs sides divisible by 4, so the transforms end at 48×48 too.
        // Pixels rather than Fourier coefficients: this random-weight network's class maps follow the image weakly, and
        // pixel steps move it faster (about 0.08 in 24 steps against 0.02).
        using var result = Render.Plan(segmenter, Objective.Channel("output", 0)).Size(48).WithTransforms(SmallImageTransforms(48))
            .WithParameterization((shape, s) => Parameterization.Pixel(shape, seed: s)).Steps(24).Seed(1).Run();
        Assert.Equal(RenderStop.Completed, result.Stop);
        Assert.True(result.History.Objective[^1] > result.History.Objective[0] + 0.04,
            $"objective went from {result.History.Objective[0]:0.###} to {result.History.Objective[^1]:0.###}");
    }
}
