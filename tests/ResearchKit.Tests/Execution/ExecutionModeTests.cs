using ResearchKit.TestSupport;
using ResearchKit.Models;
using ResearchKit.Models.Execution;
using ResearchKit.Models.Onnx;
using ResearchKit.Native;
using ResearchKit.Objectives;
using ResearchKit.Rendering;
using ResearchKit.Tests.Models;
using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace ResearchKit.Tests.Execution;

/// <summary>Each execution mode against the exact kernels, on the packaged ResNet-18 (its own model, since modes change it).</summary>
[Collection("Execution modes")]
public sealed class ExecutionModeTests : IDisposable
{
    readonly OnnxModel _model = ModelZoo.ResNet18();

    public void Dispose() => _model.Dispose();

    (Tensor Pool, Tensor Gradient) PoolAndGradient(ExecutionMode mode)
    {
        Assert.Equal(mode, _model.UseExecution(mode, evenIfEmulated: true));
        using var scope = NewDisposeScope();
        var x = rand([1, 3, 224, 224], generator: new Generator(5)).requires_grad_();
        using var pass = _model.Pass();
        var outputs = pass.Run(x, "pool", "layer3");
        outputs["layer3"][.., 7].mean().backward();
        return (outputs["pool"].detach().flatten().MoveToOuterDisposeScope(), x.grad!.flatten().MoveToOuterDisposeScope());
    }

    static double RelativeError(Tensor value, Tensor reference) =>
        (value - reference).abs().max().ToDouble() / reference.abs().max().ToDouble();

    static double Cosine(Tensor a, Tensor b) => F.cosine_similarity(a.unsqueeze(0), b.unsqueeze(0)).ToDouble();

    [Fact]
    public void Packaged_models_load_in_the_fast_mode_with_every_convolution_audited()
    {
        Assert.Equal(ExecutionMode.Fast, _model.Execution);
        // 11 distinct convolution shapes in ResNet-18 at 224x224, each checked and reported, then the folds.
        Assert.Equal(12, _model.ExecutionReport.Count);
        Assert.All(_model.ExecutionReport.Take(11), line => Assert.StartsWith("ok ", line));
        // The stem (3 colours, stride 2) computes its input gradient by stride phases.
        Assert.Single(_model.ExecutionReport, line => line.StartsWith("ok 3→64 7x7/2") && line.EndsWith("(input gradient by stride phases)"));
        Assert.Equal(3, _model.ExecutionReport.Count(line => line.Contains("1x1") && line.EndsWith("(as a matrix product)")));
        // Every batch normalization of the network directly follows a convolution nothing else reads.
        int normalizations = _model.Nodes.Count(n => n.OpType == "BatchNormalization");
        Assert.Equal($"{normalizations} batch normalizations folded into the convolutions before them", _model.ExecutionReport[^1]);
    }

    [Fact]
    public void The_fast_mode_agrees_with_the_exact_kernels_to_float32_rounding()
    {
        var (exactPool, exactGradient) = PoolAndGradient(ExecutionMode.Exact);
        var (fastPool, fastGradient) = PoolAndGradient(ExecutionMode.Fast);
        Assert.True(RelativeError(fastPool, exactPool) < 1e-5, $"pool: {RelativeError(fastPool, exactPool):E2}");
        Assert.True(RelativeError(fastGradient, exactGradient) < 1e-5, $"input gradient: {RelativeError(fastGradient, exactGradient):E2}");
    }

    [Fact]
    public void Bfloat16_stays_within_its_stated_tolerance_of_float32()
    {
        var (exactPool, exactGradient) = PoolAndGradient(ExecutionMode.Exact);
        var (pool, gradient) = PoolAndGradient(ExecutionMode.FastBFloat16);
        Assert.Equal(ScalarType.Float32, pool.dtype);
        Assert.True(RelativeError(pool, exactPool) < 0.03, $"pool: {RelativeError(pool, exactPool):E2}");
        // Input gradients pass back through every layer: bfloat16 keeps their direction (cosine 0.955 measured), not
        // every value, which is what an ascent step needs.
        Assert.True(Cosine(gradient, exactGradient) > 0.93, $"gradient cosine {Cosine(gradient, exactGradient):F4}");
    }

    [Fact]
    public void A_seeded_render_reaches_the_same_objective_in_every_mode()
    {
        double Reached(ExecutionMode mode)
        {
            _model.UseExecution(mode, evenIfEmulated: true);
            using var result = Render.Plan(_model, Objective.Channel("layer3", 7)).Size(96).Steps(24).Seed(2).Run();
            Assert.Equal(mode.Name, result.Provenance.Kernels);
            return result.FinalObjective;
        }
        // Ascent amplifies rounding: after a few steps the trajectories part, so the images differ in detail while the
        // activation reached stays close (measured: fast 3 %, bfloat16 within 10 % of exact after 24 steps).
        double exact = Reached(ExecutionMode.Exact), fast = Reached(ExecutionMode.Fast), bf16 = Reached(ExecutionMode.FastBFloat16);
        Assert.True(Math.Abs(fast - exact) < 0.06 * Math.Abs(exact), $"fast {fast} vs exact {exact}");
        Assert.True(Math.Abs(bf16 - exact) < 0.12 * Math.Abs(exact), $"bf16 {bf16} vs exact {exact}");
    }

    [Fact]
    public void Asking_for_bfloat16_runs_it_where_the_cpu_has_it_and_says_why_not_where_it_has_not()
    {
        _model.UseExecution(ExecutionMode.Fast);
        var granted = _model.UseExecution(ExecutionMode.FastBFloat16);
        if (ResearchKit.Native.Processor.HasNativeBFloat16 == false)
        {
            Assert.Equal(ExecutionMode.Fast, granted);
            Assert.Contains("no bfloat16 arithmetic", _model.ExecutionReport[^1]);
            Assert.Contains(ResearchKit.Native.Processor.Name, _model.ExecutionReport[^1]);
        }
        else Assert.Equal(ExecutionMode.FastBFloat16, granted);
        Assert.Equal(ExecutionMode.FastBFloat16, _model.UseExecution(ExecutionMode.FastBFloat16, evenIfEmulated: true));
    }

    [Fact]
    public void Switching_back_to_exact_releases_the_prepared_weights_and_restores_the_results()
    {
        var (before, _) = PoolAndGradient(ExecutionMode.Exact);
        PoolAndGradient(ExecutionMode.FastBFloat16);
        var (after, _) = PoolAndGradient(ExecutionMode.Exact);
        Assert.True(after.equal(before).all().item<bool>());
        Assert.Empty(_model.ExecutionReport);
    }
}

/// <summary>The GoogLeNet topology (24-channel 5x5 reduce, 1x1 convolutions everywhere) in each mode against ONNX Runtime.</summary>
public class ExecutionModeOnnxRuntimeTests
{
    [Theory]
    [InlineData("exact", 1e-4)]
    [InlineData("fast", 1e-4)]
    [InlineData("bf16", 0.05)]
    public void GoogLeNet_logits_match_onnx_runtime(string mode, double tolerance)
    {
        string file = Path.Combine(Path.GetTempPath(), $"researchkit-googlenet-{Guid.NewGuid():N}.onnx");
        try
        {
            Architectures.GoogLeNet(seed: 3).Save(file);
            using var model = ModesForTests.Load(file, ExecutionMode.Parse(mode));
            Assert.Equal(mode, model.Execution.Name);
            using var scope = NewDisposeScope();
            var x = rand([1, 3, 224, 224], generator: new Generator(8));
            var (values, shape) = OnnxReference.Run(file, x.data<float>().ToArray(), x.shape, "loss3/classifier")["loss3/classifier"];
            var expected = tensor(values, shape);
            Tensor actual;
            using (no_grad()) actual = model.Run(x, "logits");
            double error = (actual - expected).abs().max().ToDouble() / expected.abs().max().ToDouble();
            Assert.True(error < tolerance, $"{mode}: relative error {error:E2}");
        }
        finally
        {
            File.Delete(file);
        }
    }
}

public class ConvolutionVariantTests
{
    [Theory]
    [InlineData(24, 20, 3, 1)]
    [InlineData(48, 40, 1, 2)]
    [InlineData(3, 64, 7, 2)]
    [InlineData(3, 16, 4, 3)]
    public void Every_variant_computes_the_same_convolution(long cin, long cout, long k, long stride)
    {
        // Zero channels add nothing and layouts only move values: on the exact kernels every variant gives the same
        // numbers as a plain float64 convolution, so the audit only ever chooses between equal computations.
        using var scope = NewDisposeScope();
        var g = new Generator(4);
        var x = randn([2, cin, 11, 13], generator: g);
        var w = randn([cout, cin, k, k], generator: g);
        var b = randn([cout], generator: g);
        long[] strides = [stride, stride], padding = k == 1 ? [0, 0] : [k / 2, k / 2], dilations = [1, 1];
        var reference = F.conv2d(x.to_type(ScalarType.Float64), w.to_type(ScalarType.Float64), b.to_type(ScalarType.Float64), strides, padding, dilations);
        var variants = new List<ConvolutionVariant> { new(0, 5, false), new(8, 12, true), new(0, 0, true) };
        if (k == 1) variants.Add(ConvolutionVariant.MatrixProduct);
        if (stride > 1 && cin <= 4) variants.Add(ConvolutionVariant.PhaseGradients);
        var upstream = randn(reference.shape, generator: g);
        var x64 = x.to_type(ScalarType.Float64).requires_grad_();
        (F.conv2d(x64, w.to_type(ScalarType.Float64), b.to_type(ScalarType.Float64), strides, padding, dilations) * upstream.to_type(ScalarType.Float64)).sum().backward();
        foreach (var variant in variants)
        {
            var (wv, bv) = Convolution.Adapt(w, b, variant, channelsLast: true);
            using var kernels = OneDnn.Use(false);
            var xv = Convolution.ChannelsLast(x).requires_grad_();
            var y = Convolution.Run(xv, wv, bv, strides, padding, dilations, 1, variant);
            Assert.Equal(reference.shape, y.shape);
            double error = (y.to_type(ScalarType.Float64) - reference).abs().max().ToDouble() / reference.abs().max().ToDouble();
            Assert.True(error < 1e-5, $"{variant}: relative error {error:E2}");
            // Input gradients too: the phase variant computes its own.
            (y * upstream).sum().backward();
            double gradientError = (xv.grad!.to_type(ScalarType.Float64) - x64.grad!).abs().max().ToDouble() / x64.grad!.abs().max().ToDouble();
            Assert.True(gradientError < 1e-5, $"{variant}: input gradient relative error {gradientError:E2}");
        }
    }

    [Fact]
    public void The_audit_never_hands_a_1x1_convolution_to_onednn_and_finds_a_correct_variant_for_odd_channel_counts()
    {
        var pointwise = ConvolutionAudit.FindCorrectVariant(new ConvolutionShape(256, 1024, 1, 1, 2, 0, 1, 1, 14, 14), ExecutionMode.Fast);
        Assert.True(pointwise.Variant.Pointwise);
        Assert.True(pointwise.Passed, pointwise.ToString());
        foreach (var shape in new[] { new ConvolutionShape(24, 64, 5, 5, 1, 2, 1, 1, 14, 14), new ConvolutionShape(48, 40, 3, 3, 2, 1, 1, 1, 28, 28) })
        {
            var check = ConvolutionAudit.FindCorrectVariant(shape, ExecutionMode.Fast);
            Assert.True(check.Passed, check.ToString());
            Assert.True(check.ForwardError < 1e-4 && check.GradientError < 1e-4, check.ToString());
        }
    }

    [Theory]
    [InlineData(false, "fast")]
    [InlineData(true, "bf16")]
    [InlineData(null, "bf16")]
    public void Bfloat16_gives_way_to_float32_only_on_a_cpu_known_to_lack_bfloat16_arithmetic(bool? native, string runs)
    {
        var (mode, refusal) = ExecutionMode.FastBFloat16.OnCpu(native, "AMD EPYC");
        Assert.Equal(runs, mode.Name);
        Assert.Equal(native == false, refusal is not null);
        if (refusal is not null) Assert.Contains("AMD EPYC", refusal);
        Assert.Equal((ExecutionMode.Fast, (string?)null), ExecutionMode.Fast.OnCpu(false, "AMD EPYC"));
    }

    [Fact]
    public void Unknown_mode_names_list_the_valid_ones()
    {
        var error = Assert.Throws<InvalidSettingException>(() => ExecutionMode.Parse("turbo"));
        Assert.Contains("exact, fast, bf16", error.Message);
        Assert.Equal(ExecutionMode.FastBFloat16, ExecutionMode.Parse("BF16"));
    }
}

/// <summary>oneDNN's process-wide switch, checked with no other test running (another's scope would turn it on).</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class OneDnnSwitchCollection
{
    public const string Name = "oneDNN switch";
}

[Collection(OneDnnSwitchCollection.Name)]
public class OneDnnScopeTests
{
    [Fact]
    public void Nested_scopes_restore_the_outer_choice()
    {
        using (OneDnn.Use(true))
        {
            Assert.True(OneDnn.IsEnabled);
            using (OneDnn.Use(false)) Assert.False(OneDnn.IsEnabled);
            Assert.True(OneDnn.IsEnabled);
        }
        Assert.False(OneDnn.IsEnabled);
    }

    [Fact]
    public void A_scope_on_another_thread_waits_until_the_open_one_closes()
    {
        var entered = new ManualResetEventSlim();
        var outer = OneDnn.Use(true);
        var other = new Thread(() =>
        {
            using (OneDnn.Use(false)) entered.Set();
        });
        other.Start();
        Assert.False(entered.Wait(300), "the second scope entered while the first was open");
        outer.Dispose();
        Assert.True(other.Join(10_000));
        Assert.True(entered.IsSet);
    }

    [Fact]
    public void Outside_every_scope_float32_convolutions_stay_exact_for_channel_counts_onednn_gets_wrong_here()
    {
        // 48 input channels, stride 2: oneDNN's input gradient was 15-30 % off on the development machine.
        using var scope = NewDisposeScope();
        var g = new Generator(6);
        var x = randn([2, 48, 13, 16], generator: g).requires_grad_();
        var w = randn([32, 48, 3, 3], generator: g);
        F.conv2d(x, w, strides: [2, 2], padding: [1, 1]).sum().backward();
        var x64 = x.detach().to_type(ScalarType.Float64).requires_grad_();
        F.conv2d(x64, w.to_type(ScalarType.Float64), strides: [2, 2], padding: [1, 1]).sum().backward();
        double error = (x.grad!.to_type(ScalarType.Float64) - x64.grad!).abs().max().ToDouble() / x64.grad!.abs().max().ToDouble();
        Assert.True(error < 1e-5, $"relative error {error:E2}");
    }
}
