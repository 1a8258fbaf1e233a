using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using static TorchSharp.torch;

namespace ResearchKit.Benchmarks;

/// <summary>What this machine can compute at best, measured rather than taken from a data sheet.</summary>
/// <param name="FmaGigaFlops">Float32 FLOP/s of fused multiply-adds on independent registers, every thread busy: the
/// arithmetic peak no kernel can pass.</param>
/// <param name="VectorBits">Width of the vectors that reached <paramref name="FmaGigaFlops"/> (256 or 512).</param>
/// <param name="MatmulGigaFlops">libtorch's float32 matrix product of two 2048² matrices: the best a library kernel
/// with ideal shapes reaches here.</param>
/// <param name="MatmulBFloat16GigaFlops">The same product in bfloat16 (on a CPU without bfloat16 instructions,
/// emulated and slower than float32).</param>
/// <param name="Threads">libtorch intra-op threads, and the threads of the FMA loop.</param>
public sealed record MachinePeakFigures(double FmaGigaFlops, int VectorBits, double MatmulGigaFlops, double MatmulBFloat16GigaFlops, int Threads);

/// <summary>
/// Measures <see cref="MachinePeakFigures"/>: the ceiling against which the bench's per-pass GFLOP/s are read. A
/// frequency × FLOP/cycle estimate is wrong on virtual machines (the clock the guest sees is not the one it gets) and
/// on cores that split wide vectors, so the peak is timed.
/// </summary>
public static class MachinePeak
{
    /// <summary>Times the FMA loop and both matrix products on <see cref="get_num_threads"/> threads.</summary>
    public static MachinePeakFigures Measure()
    {
        int threads = get_num_threads();
        var (fma256, fma512) = (FmaGigaFlops(threads, wide: false), Vector512.IsHardwareAccelerated ? FmaGigaFlops(threads, wide: true) : 0);
        return new MachinePeakFigures(Math.Max(fma256, fma512), fma512 > fma256 ? 512 : 256,
            MatmulGigaFlops(ScalarType.Float32), MatmulGigaFlops(ScalarType.BFloat16, size: 1024), threads);
    }

    /// <summary>Float32 GFLOP/s of <paramref name="threads"/> threads each running independent FMA chains; the best of 5 runs.</summary>
    public static double FmaGigaFlops(int threads, bool wide)
    {
        const long iterations = 20_000_000;
        double best = 0;
        for (int run = 0; run < 5; run++)
        {
            var clock = Stopwatch.StartNew();
            var sums = new float[threads];
            Parallel.For(0, threads, new ParallelOptions { MaxDegreeOfParallelism = threads },
                t => sums[t] = wide ? Chains512(iterations / 2) : Chains256(iterations));
            double seconds = clock.Elapsed.TotalSeconds;
            // Each iteration: 12 FMAs of 8 lanes (256-bit) — or 12 of 16 lanes, half as many iterations (512-bit).
            best = Math.Max(best, threads * iterations * 12.0 * 8 * 2 / seconds / 1e9);
            if (float.IsNaN(sums.Sum())) throw new InvalidOperationException("unreachable: keeps the sums alive");
        }
        return best;
    }

    // Twelve independent accumulators cover the FMA latency (4–5 cycles) times the FMA units (2) of current x86 cores.
    [MethodImpl(MethodImplOptions.NoInlining)]
    static float Chains256(long iterations)
    {
        var (m, a) = (Vector256.Create(0.999999f), Vector256.Create(1e-7f));
        Vector256<float> c0 = Vector256.Create(1f), c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0, c6 = c0, c7 = c0, c8 = c0, c9 = c0, c10 = c0, c11 = c0;
        for (long i = 0; i < iterations; i++)
        {
            c0 = Vector256.FusedMultiplyAdd(c0, m, a); c1 = Vector256.FusedMultiplyAdd(c1, m, a);
            c2 = Vector256.FusedMultiplyAdd(c2, m, a); c3 = Vector256.FusedMultiplyAdd(c3, m, a);
            c4 = Vector256.FusedMultiplyAdd(c4, m, a); c5 = Vector256.FusedMultiplyAdd(c5, m, a);
            c6 = Vector256.FusedMultiplyAdd(c6, m, a); c7 = Vector256.FusedMultiplyAdd(c7, m, a);
            c8 = Vector256.FusedMultiplyAdd(c8, m, a); c9 = Vector256.FusedMultiplyAdd(c9, m, a);
            c10 = Vector256.FusedMultiplyAdd(c10, m, a); c11 = Vector256.FusedMultiplyAdd(c11, m, a);
        }
        return Vector256.Sum(c0 + c1 + c2 + c3 + c4 + c5 + c6 + c7 + c8 + c9 + c10 + c11);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    static float Chains512(long iterations)
    {
        var (m, a) = (Vector512.Create(0.999999f), Vector512.Create(1e-7f));
        Vector512<float> c0 = Vector512.Create(1f), c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0, c6 = c0, c7 = c0, c8 = c0, c9 = c0, c10 = c0, c11 = c0;
        for (long i = 0; i < iterations; i++)
        {
            c0 = Vector512.FusedMultiplyAdd(c0, m, a); c1 = Vector512.FusedMultiplyAdd(c1, m, a);
            c2 = Vector512.FusedMultiplyAdd(c2, m, a); c3 = Vector512.FusedMultiplyAdd(c3, m, a);
            c4 = Vector512.FusedMultiplyAdd(c4, m, a); c5 = Vector512.FusedMultiplyAdd(c5, m, a);
            c6 = Vector512.FusedMultiplyAdd(c6, m, a); c7 = Vector512.FusedMultiplyAdd(c7, m, a);
            c8 = Vector512.FusedMultiplyAdd(c8, m, a); c9 = Vector512.FusedMultiplyAdd(c9, m, a);
            c10 = Vector512.FusedMultiplyAdd(c10, m, a); c11 = Vector512.FusedMultiplyAdd(c11, m, a);
        }
        return Vector512.Sum(c0 + c1 + c2 + c3 + c4 + c5 + c6 + c7 + c8 + c9 + c10 + c11);
    }

    /// <summary>GFLOP/s of libtorch's product of two 2048² matrices in <paramref name="type"/>, median of 5 after 2 warm-up runs.</summary>
    public static double MatmulGigaFlops(ScalarType type, int size = 2048)
    {
        using var scope = NewDisposeScope();
        var (a, b) = (rand(size, size).to_type(type), rand(size, size).to_type(type));
        double ms = Benchmarks.Measure.MedianMilliseconds(() => { using var s = NewDisposeScope(); mm(a, b); }, repeats: 5, warmup: 2);
        return 2.0 * size * size * size / (ms / 1000) / 1e9;
    }
}
