using ResearchKit.Native;
using static TorchSharp.torch;

namespace ResearchKit.Tests.Native;

public class TorchRuntimeTests
{
    [Fact]
    public void TorchSharp_loads_and_computes_a_gradient()
    {
        var report = TorchRuntime.EnsureLoaded();
        Assert.NotNull(report.Note);
        using var x = tensor(new float[] { 1f, 2f, 3f }).requires_grad_();
        using var y = (x * x).sum();
        y.backward();
        // d/dx sum(x^2) = 2x
        Assert.Equal(new float[] { 2f, 4f, 6f }, x.grad!.data<float>().ToArray());
    }
}

public class ConvolutionAccuracyTests
{
    [Theory]
    [InlineData(20)]
    [InlineData(24)]
    [InlineData(64)]
    public void Float32_convolution_matches_float64_for_any_channel_count(int inputChannels)
    {
        // libtorch 2.10's oneDNN kernels got channel counts off the vector width wrong by ~15 %; the runtime disables them.
        TorchRuntime.EnsureLoaded();
        using var scope = NewDisposeScope();
        var g = new Generator(1);
        var x = randn([2, inputChannels, 14, 17], generator: g);
        var w = randn([32, inputChannels, 5, 5], generator: g);
        var single = TorchSharp.torch.nn.functional.conv2d(x, w, padding: [2, 2]).to_type(TorchSharp.torch.ScalarType.Float64);
        var reference = TorchSharp.torch.nn.functional.conv2d(x.to_type(TorchSharp.torch.ScalarType.Float64), w.to_type(TorchSharp.torch.ScalarType.Float64), padding: [2, 2]);
        double error = (single - reference).abs().max().item<double>() / reference.abs().max().item<double>();
        Assert.True(error < 1e-5, $"relative error {error}");
    }
}
