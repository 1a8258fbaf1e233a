using System.Text.Json.Serialization;

namespace ResearchKit.Models.Execution;

/// <summary>Number format of a model's weights and activations while it runs.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<NumericPrecision>))]
public enum NumericPrecision
{
    /// <summary>32-bit floats, the precision models are trained and exported in.</summary>
    Float32,
    /// <summary>bfloat16 (8 significant bits): about twice as fast on CPUs with AVX512_BF16, within about 1 % of float32.</summary>
    BFloat16,
}

/// <summary>
/// How a model's convolutions run: libtorch's reference kernels, or oneDNN's faster ones in channels-last layout
/// (optionally in bfloat16). oneDNN is used only for convolutions that <see cref="ConvolutionAudit"/> found to agree
/// with a float64 reference on this machine; see <see cref="Model.UseExecution"/>.
/// </summary>
/// <param name="Name">Short name: <c>exact</c>, <c>fast</c> or <c>bf16</c>.</param>
/// <param name="OneDnn">Use oneDNN kernels (for audited convolutions).</param>
/// <param name="ChannelsLast">Keep activations in channels-last (NHWC) memory layout, which oneDNN prefers.</param>
/// <param name="Precision">Number format while running.</param>
public sealed record ExecutionMode(string Name, bool OneDnn, bool ChannelsLast, NumericPrecision Precision)
{
    /// <summary>libtorch's own kernels in float32: the reference every other mode is checked against.</summary>
    public static ExecutionMode Exact { get; } = new("exact", false, false, NumericPrecision.Float32);

    /// <summary>oneDNN in channels-last float32: agrees with <see cref="Exact"/> to float32 rounding, about twice as fast.</summary>
    public static ExecutionMode Fast { get; } = new("fast", true, true, NumericPrecision.Float32);

    /// <summary>oneDNN in channels-last bfloat16: fastest on CPUs with bfloat16 arithmetic (elsewhere
    /// <see cref="Model.UseExecution"/> runs <see cref="Fast"/> instead); activations within about 1 % of float32.</summary>
    public static ExecutionMode FastBFloat16 { get; } = new("bf16", true, true, NumericPrecision.BFloat16);

    /// <summary>Every named mode.</summary>
    public static IReadOnlyList<ExecutionMode> All { get; } = [Exact, Fast, FastBFloat16];

    /// <summary>The mode called <paramref name="name"/> (case-insensitive).</summary>
    /// <exception cref="InvalidSettingException">Unknown name; the message lists the valid ones.</exception>
    public static ExecutionMode Parse(string name) =>
        All.FirstOrDefault(m => string.Equals(m.Name, name, StringComparison.OrdinalIgnoreCase))
        ?? throw new InvalidSettingException($"unknown execution mode '{name}'; valid: {string.Join(", ", All.Select(m => m.Name))}");

    /// <summary>
    /// The mode that runs when this one is asked for on a CPU with or without bfloat16 arithmetic
    /// (<paramref name="nativeBFloat16"/>, null when unknown), and why it differs, if it does: emulated bfloat16 is
    /// many times slower than float32 (0.6 steps/s against 10.6 on an AVX2 EPYC), so it gives way to <see cref="Fast"/>.
    /// </summary>
    public (ExecutionMode Mode, string? Refusal) OnCpu(bool? nativeBFloat16, string cpu) =>
        Precision == NumericPrecision.BFloat16 && nativeBFloat16 == false
            ? (Fast, $"{Name} refused: this CPU ({cpu}) has no bfloat16 arithmetic (AVX512_BF16 or AMX on x86, BF16 on Arm), " +
                     "so bfloat16 would be emulated, over ten times slower than float32; fast (float32) runs instead")
            : (this, null);

    /// <summary>The relative error (to the largest reference value) an audited convolution may show in this mode.</summary>
    public double Tolerance => Precision == NumericPrecision.BFloat16 ? 3e-2 : 1e-4;

    /// <inheritdoc/>
    public override string ToString() => Name;
}
