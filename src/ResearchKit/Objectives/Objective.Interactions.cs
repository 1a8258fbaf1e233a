using static TorchSharp.torch;
using static ResearchKit.Priors.NaturalImageScale;

namespace ResearchKit.Objectives;

// Neuron interactions (Olah et al. 2017, "Feature Visualization", section "Interaction between Neurons"): objectives
// over a batch whose items together show how two units combine, and the product and ratio of objectives.
public sealed partial class Objective
{
    /// <summary>
    /// Lucid's <c>channel_interpolate</c>: batch item i of N maximizes (1 − i/(N−1)) × channel <paramref name="a"/> +
    /// i/(N−1) × channel <paramref name="b"/> (channel means, as <see cref="Channel"/>), so a batch walks from one
    /// unit to the other. With one item, channel <paramref name="a"/> only. Add <see cref="Alignment"/> to make
    /// neighbouring items look alike.
    /// </summary>
    public static Objective ChannelInterpolate(string layer, int a, int b) =>
        From(new ObjectiveTerm($"interpolate {layer}:{a}→{b}", [layer], ctx =>
        {
            var first = ChannelMean(ctx, layer, a);
            var second = ChannelMean(ctx, layer, b);
            var weight = InterpolationWeights(ctx.Batch, first.device).to(first.dtype);
            return (1 - weight) * first + weight * second;
        }) { ChannelsRead = a == b ? [a] : [Math.Min(a, b), Math.Max(a, b)] });

    // The weight of the second channel for each item: i/(N−1).
    static Tensor InterpolationWeights(long batch, Device device) =>
        batch > 1 ? arange(batch, dtype: ScalarType.Float64, device: device) / (batch - 1) : zeros(batch, dtype: ScalarType.Float64, device: device);

    /// <summary>
    /// Lucid's <c>alignment</c>: rewards batch items that lie close in the batch for having similar activations at
    /// <paramref name="layer"/>. Lucid's value is −Σ_{d=1..4} Σ_i mean((A_i − A_{i+d})²) / decay^d; here each pair's
    /// share is split evenly between its two items, so the per-item values ([N]) sum to Lucid's.
    /// </summary>
    public static Objective Alignment(string layer, double decay = 2)
    {
        if (!(decay > 0) || !double.IsFinite(decay)) throw new InvalidSettingException("the decay must be positive and finite", nameof(decay), decay);
        return From(new ObjectiveTerm($"alignment {layer} (decay {F(decay)})", [layer], ctx =>
        {
            var a = ChannelsFirst(ctx, layer).flatten(1);   // [N,D]
            long n = a.shape[0];
            var values = zeros(n, dtype: a.dtype, device: a.device);
            for (int d = 1; d <= 4 && d < n; d++)
            {
                var pairs = (a[d..] - a[..^d]).square().mean([1]) / Math.Pow(decay, d);   // pair (i, i + d) at i
                values = values - 0.5 * nn.functional.pad(pairs, [0, d]) - 0.5 * nn.functional.pad(pairs, [d, 0]);
            }
            return values;
        }));
    }

    static Tensor ChannelMean(ObjectiveContext ctx, string layer, int channel)
    {
        var a = ChannelSlice(ctx, layer, channel);
        return a.dim() > 1 ? a.flatten(1).mean([1]) : a;
    }
}
