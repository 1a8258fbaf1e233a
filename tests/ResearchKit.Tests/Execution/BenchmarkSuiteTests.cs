using ResearchKit.Benchmarks;
using ResearchKit.Models;

namespace ResearchKit.Tests.Execution;

/// <summary>What the benchmark counts (its timings are not tested: benchmarks are run by hand, see README).</summary>
public sealed class BenchmarkSuiteTests
{
    [Fact]
    public void The_convolution_flop_count_of_the_packaged_resnet18_is_the_hand_count()
    {
        using var model = ModelZoo.ResNet18();
        // Multiply-adds per output value × output values, per convolution; the packaged network has 2, 2, 2 and 3 blocks.
        static long Conv(long size, long cout, long cin, long k) => size * size * cout * cin * k * k;
        long stem = Conv(112, 64, 3, 7);
        long layer1 = 4 * Conv(56, 64, 64, 3);
        long layer2 = Conv(28, 128, 64, 3) + 3 * Conv(28, 128, 128, 3) + Conv(28, 128, 64, 1);
        long layer3 = Conv(14, 256, 128, 3) + 3 * Conv(14, 256, 256, 3) + Conv(14, 256, 128, 1);
        long layer4 = Conv(7, 512, 256, 3) + 5 * Conv(7, 512, 512, 3) + Conv(7, 512, 256, 1);
        Assert.Equal(2.0 * (stem + layer1 + layer2 + layer3 + layer4), BenchmarkSuite.ConvFlops(model, 224));
    }
}
