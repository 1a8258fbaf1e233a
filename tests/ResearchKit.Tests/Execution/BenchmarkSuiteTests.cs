using ResearchKit.Benchmarks;
using ResearchKit.Models;
using ResearchKit.Models.Execution;
using static TorchSharp.torch;

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

    [Fact]
    public void The_activation_max_step_counts_the_channel_it_prunes_as_not_computed()
    {
        using var model = ModelZoo.ResNet18();
        static long Conv(long size, long cout, long cin, long k) => size * size * cout * cin * k * k;
        // The bench's 216² crop to layer3: 108² after the stem, 54², 27², 14². PyTorch's forward hooks count the same.
        long all = Conv(108, 64, 3, 7) + 4 * Conv(54, 64, 64, 3)
            + Conv(27, 128, 64, 3) + 3 * Conv(27, 128, 128, 3) + Conv(27, 128, 64, 1)
            + Conv(14, 256, 128, 3) + 3 * Conv(14, 256, 256, 3) + Conv(14, 256, 128, 1);
        Assert.Equal(2.0 * all, BenchmarkSuite.ConvFlops(model, 216, "layer3"));
        // Reading channel 7 alone, the block's last convolution computes 1 output channel of 256.
        using (BenchmarkSuite.ReadingTheObjectiveChannel(model))
            Assert.Equal(2.0 * (all - Conv(14, 256, 256, 3) + Conv(14, 1, 256, 3)), BenchmarkSuite.ConvFlops(model, 216, "layer3"));
    }

    [Fact]
    public void A_flop_count_sees_the_useful_work_of_padded_convolutions_and_nests()
    {
        using var scope = NewDisposeScope();
        var x = rand(1, 3, 10, 10);
        var weight = rand(8, 3, 3, 3);
        long[] one = [1, 1];
        // 8 outputs × 10² positions × 3 inputs × 3² taps multiply-adds.
        const double flops = 2.0 * 8 * 100 * 3 * 9;
        var padded = new ConvolutionVariant(PadIn: 5, PadOut: 8, Contiguous: true);
        var (paddedWeight, _) = Convolution.Adapt(weight, null, padded, channelsLast: false);
        using var outer = FlopCount.Start();
        using (var inner = FlopCount.Start())
        {
            var y = Convolution.Run(x, paddedWeight, null, one, one, one, 1, padded);
            Assert.Equal([1L, 8, 10, 10], y.shape);
            Assert.Equal(flops, inner.Flops);
        }
        Convolution.Run(x, weight, null, [2, 2], one, one, 1);
        // Stride 2: 5² positions.
        Assert.Equal(flops + flops / 4, outer.Flops);
        outer.Dispose();
        Convolution.Run(x, weight, null, one, one, one, 1);
        Assert.Null(FlopCount.Current);
        Assert.Equal(flops + flops / 4, outer.Flops);
    }
}
