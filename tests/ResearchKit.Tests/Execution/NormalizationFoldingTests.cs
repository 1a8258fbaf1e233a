using ResearchKit.TestSupport;
using ResearchKit.Models;
using ResearchKit.Models.Execution;
using ResearchKit.Models.Onnx;
using ResearchKit.Tests.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace ResearchKit.Tests.Execution;

/// <summary>Batch normalizations folded into the convolutions before them (oneDNN modes only), against ONNX Runtime.</summary>
[Collection("Execution modes")]
public sealed class NormalizationFoldingTests
{
    // conv → BN → relu → conv (stride 2, no bias) → BN, and a convolution whose output a second node reads too.
    static (OnnxGraphBuilder Graph, OnnxValue Input, OnnxValue Conv, OnnxValue Norm, OnnxValue Last, OnnxValue Shared) Graph()
    {
        var g = new OnnxGraphBuilder(seed: 3);
        var x = g.Input("data", -1, 3, 20, 20);
        var conv = x.Conv(16, 3, pad: 1);
        var norm = conv.BatchNormalization();
        var last = norm.Relu().Conv(32, 3, stride: 2, pad: 1, bias: false).BatchNormalization();
        var shared = last.Conv(32, 1);
        var sum = shared.BatchNormalization().Add(shared.Relu());
        g.Output(sum);
        return (g, x, conv, norm, last, sum);
    }

    static T WithModel<T>(OnnxGraphBuilder graph, ExecutionMode mode, Func<OnnxModel, T> use)
    {
        var file = Path.Combine(Path.GetTempPath(), $"researchkit-{Guid.NewGuid():N}.onnx");
        graph.Save(file);
        try
        {
            using var model = ModesForTests.Load(file, mode);
            return use(model);
        }
        finally { File.Delete(file); }
    }

    [Fact]
    public void Fast_mode_folds_only_normalizations_whose_convolution_output_nothing_else_reads()
    {
        var (g, _, _, _, _, _) = Graph();
        var report = WithModel(g, ExecutionMode.Fast, m => m.ExecutionReport);
        // Two follow a convolution read by nothing else; the third follows one that a Relu reads as well.
        Assert.Contains("2 batch normalizations folded into the convolutions before them", report);
        Assert.DoesNotContain(WithModel(g, ExecutionMode.Exact, m => m.ExecutionReport), line => line.Contains("folded"));
    }

    [Fact]
    public void Folded_normalizations_agree_with_onnx_runtime()
    {
        var (g, x, _, norm, last, shared) = Graph();
        OnnxAgreement.Assert(g, x, [norm, last, shared]);
    }

    [Fact]
    public void A_convolution_asked_for_as_a_tap_is_computed_before_its_normalization()
    {
        var (g, x, conv, norm, last, _) = Graph();
        // With the convolution's own output requested, the pair runs unfolded and both values are ONNX Runtime's.
        OnnxAgreement.Assert(g, x, [conv, norm, last]);
    }

    [Fact]
    public void Folding_leaves_the_input_gradient_as_the_exact_kernels_compute_it()
    {
        var (g, _, _, _, _, shared) = Graph();
        Tensor Gradient(ExecutionMode mode) => WithModel(g, mode, model =>
        {
            using var scope = NewDisposeScope();
            var image = (rand([2, 3, 20, 20], generator: new Generator(9)) * 2 - 1).requires_grad_();
            using (var pass = model.Pass()) pass.Run(image, shared.Name).square().mean().backward();
            return image.grad!.detach().MoveToOuterDisposeScope();
        });
        using var exact = Gradient(ExecutionMode.Exact);
        using var fast = Gradient(ExecutionMode.Fast);
        double error = (fast - exact).abs().max().ToDouble() / exact.abs().max().ToDouble();
        Assert.True(error < 1e-5, $"input gradient differs by {error:E2} of its largest value");
    }
}
