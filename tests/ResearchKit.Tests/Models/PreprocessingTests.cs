using ResearchKit.Models;
using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace ResearchKit.Tests.Models;

public sealed class PreprocessingTests
{
    [Fact]
    public void A_mean_image_is_resized_to_each_input_size_and_the_resized_copy_is_reused_unchanged()
    {
        using var scope = NewDisposeScope();
        var mean = rand([1, 3, 8, 8], generator: new Generator(1)) * 100;
        using var preprocessing = Preprocessing.MeanImage(mean, reverseChannels: true, scale: 255f, "test");
        foreach (var size in new[] { 5L, 12L, 5L, 8L })
        {
            var rgb = rand([2, 3, size, size], generator: new Generator((ulong)size)).requires_grad_();
            var expected = rgb.detach().flip(1) * 255f - F.interpolate(mean, [size, size], mode: InterpolationMode.Bilinear, align_corners: false);
            var actual = preprocessing.Apply(rgb);
            Assert.True((actual - expected).abs().max().ToDouble() < 1e-4, $"size {size}");
            // The input gradient is the scale, whatever was cached: the mean image is a constant.
            actual.sum().backward();
            Assert.True((rgb.grad! - 255f).abs().max().ToDouble() < 1e-4, $"size {size}: gradient");
        }
    }
}
