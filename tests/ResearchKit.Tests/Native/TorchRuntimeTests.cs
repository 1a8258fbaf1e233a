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
