using ResearchKit.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace ResearchKit.Tests;

/// <summary>Small smooth networks in double precision, so finite differences are exact enough to test gradients.</summary>
static class TinyModels
{
    public static SequentialModel Smooth(int seed = 0)
    {
        manual_seed(seed);
        var model = new SequentialModel("tiny", [
            ("a", nn.Sequential(nn.Conv2d(3, 4, 3, padding: 1), nn.Tanh()).to(float64)),
            ("b", nn.Sequential(nn.Conv2d(4, 5, 3, stride: 2, padding: 1), nn.Tanh()).to(float64)),
            ("logits", nn.Sequential(nn.Flatten(), nn.Linear(5 * 4 * 4, 3)).to(float64)),
        ], 8, 8);
        return model.WithAlias("block", "b");
    }

    public static Tensor Image(int seed, int batch = 2, int size = 8) =>
        rand([batch, 3, size, size], dtype: float64, generator: new Generator((ulong)seed));
}
