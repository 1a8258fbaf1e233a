namespace ResearchKit.Native;

/// <summary>What the CPU says about itself (Linux: <c>/proc/cpuinfo</c>).</summary>
public static class Processor
{
    const string CpuInfoFile = "/proc/cpuinfo";

    /// <summary>The first value of <paramref name="field"/> in <c>/proc/cpuinfo</c> (e.g. <c>model name</c>,
    /// <c>flags</c>); elsewhere the processor identifier Windows sets, or <c>unknown</c>.</summary>
    public static string Info(string field)
    {
        if (!File.Exists(CpuInfoFile)) return Environment.GetEnvironmentVariable("PROCESSOR_IDENTIFIER") ?? "unknown";
        var line = File.ReadLines(CpuInfoFile).FirstOrDefault(l => l.StartsWith(field, StringComparison.Ordinal));
        return line?[(line.IndexOf(':') + 1)..].Trim() ?? "unknown";
    }

    /// <summary>The CPU's model name.</summary>
    public static string Name { get; } = Info("model name");

    /// <summary>
    /// Whether the CPU computes in bfloat16 natively: AVX512_BF16 or AMX-BF16 on x86, BF16 on Arm. Without them
    /// oneDNN has no bfloat16 convolution and libtorch emulates it, over ten times slower than float32 (measured on
    /// an AVX2 EPYC: 0.6 steps/s against 10.6). Null where the CPU does not say (no <c>/proc/cpuinfo</c>).
    /// </summary>
    public static bool? HasNativeBFloat16 { get; } = ReadNativeBFloat16();

    static bool? ReadNativeBFloat16() =>
        // x86 lists "flags", Arm lists "Features".
        File.Exists(CpuInfoFile) ? ListsBFloat16($"{Info("flags")} {Info("Features")}") : null;

    /// <summary>True when a CPU feature list (space-separated, as <c>/proc/cpuinfo</c> gives it) names bfloat16 arithmetic.</summary>
    public static bool ListsBFloat16(string features) =>
        features.Split(' ', StringSplitOptions.RemoveEmptyEntries).Any(f => f is "avx512_bf16" or "amx_bf16" or "bf16");
}
