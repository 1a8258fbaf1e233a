using ResearchKit.Native;

namespace ResearchKit.Tests.Native;

public class ProcessorTests
{
    [Theory]
    // Zen 4 (as /proc/cpuinfo lists it, abridged): AVX-512 with bfloat16.
    [InlineData("fpu sse2 avx2 fma avx512f avx512bw avx512_bf16 avx512_vnni", true)]
    // Sapphire Rapids: AMX tiles in bfloat16.
    [InlineData("avx2 avx512f amx_bf16 amx_tile amx_int8", true)]
    // Arm (Neoverse V1) lists "Features".
    [InlineData("fp asimd sve bf16 i8mm", true)]
    // Zen 1 (EPYC 7001): AVX2 and FMA only; avx512f without bf16 is not enough either.
    [InlineData("fpu sse2 avx fma avx2 f16c", false)]
    [InlineData("avx2 avx512f avx512bw avx512_vnni", false)]
    public void Bfloat16_arithmetic_is_read_from_the_feature_list(string features, bool expected) =>
        Assert.Equal(expected, Processor.ListsBFloat16(features));

    [Fact]
    public void On_linux_the_processor_names_itself_and_says_whether_it_has_bfloat16()
    {
        if (!File.Exists("/proc/cpuinfo")) return;
        Assert.NotEqual("unknown", Processor.Name);
        Assert.Equal(File.ReadAllText("/proc/cpuinfo").Contains("avx512_bf16") || File.ReadAllText("/proc/cpuinfo").Contains("amx_bf16")
            || File.ReadAllText("/proc/cpuinfo").Split(' ', '\n', '\t').Contains("bf16"), Processor.HasNativeBFloat16);
    }
}
