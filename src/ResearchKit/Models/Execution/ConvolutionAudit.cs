using System.Collections.Concurrent;
using ResearchKit.Native;
using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace ResearchKit.Models.Execution;

/// <summary>What <see cref="ConvolutionAudit"/> found for one convolution shape in one mode.</summary>
/// <param name="Shape">The convolution.</param>
/// <param name="Mode">The execution mode it was checked in.</param>
/// <param name="ForwardError">Largest output error relative to the largest float64 output.</param>
/// <param name="GradientError">Largest input-gradient error relative to the largest float64 input gradient.</param>
/// <param name="Variant">How the convolution was run (padded channels, layout) to be correct.</param>
public sealed record ConvolutionCheck(ConvolutionShape Shape, ExecutionMode Mode, double ForwardError, double GradientError, ConvolutionVariant Variant)
{
    /// <summary>Both errors within the mode's tolerance.</summary>
    public bool Passed => ForwardError <= Mode.Tolerance && GradientError <= Mode.Tolerance;

    /// <inheritdoc/>
    public override string ToString() =>
        $"{Shape}: forward {ForwardError:E1}, input gradient {GradientError:E1}" + (Variant.IsPlain ? "" : $" ({Variant})");
}

/// <summary>
/// Checks convolutions in an <see cref="ExecutionMode"/> against float64 on libtorch's reference kernels, forward and
/// input gradient, on random data. libtorch 2.10's oneDNN is wrong for some channel counts on some CPUs (which ones
/// depends on the layout, the precision, the stride and the kernel size), so rather than trusting a list, a model
/// audits its own convolutions on the machine it runs on, and for any that fail tries the NCHW layout and channel
/// counts padded to multiples of 16, 32 or 64. Results are cached for the process.
/// </summary>
public static class ConvolutionAudit
{
    static readonly ConcurrentDictionary<(ConvolutionShape, ExecutionMode, ConvolutionVariant), ConvolutionCheck> Cache = new();

    /// <summary>Audits spatial sizes up to this (the faults found depend on channels, not on image size).</summary>
    public const long MaxAuditSize = 32;

    /// <summary>Checks one convolution run as the mode says.</summary>
    public static ConvolutionCheck Check(ConvolutionShape shape, ExecutionMode mode) => Check(shape, mode, default);

    /// <summary>
    /// The first variant that passes among: the convolution as the mode says, in NCHW layout (for channels-last
    /// modes), and with channel counts padded to multiples of 16, 32 and 64 (in either layout). The plain check when
    /// none does (its <see cref="ConvolutionCheck.Passed"/> is then false).
    /// </summary>
    public static ConvolutionCheck FindCorrectVariant(ConvolutionShape shape, ExecutionMode mode)
    {
        // oneDNN's 1×1 kernels are not even tried: on this VM they gave wrong results for some channel counts and
        // killed the process with SIGFPE for others (1024 outputs), which no check can survive.
        if (mode.OneDnn && IsPointwise(shape)) return Check(shape, mode, ConvolutionVariant.MatrixProduct);
        var plain = Check(shape, mode);
        if (plain.Passed) return plain;
        foreach (var variant in Variants(shape, mode))
            if (Check(shape, mode, variant) is { Passed: true } check) return check;
        return plain;
    }

    /// <summary>A 1×1 convolution without padding, dilation or groups: a matrix product over channels.</summary>
    public static bool IsPointwise(ConvolutionShape s) =>
        s is { KernelHeight: 1, KernelWidth: 1, Padding: 0, Groups: 1 };

    static IEnumerable<ConvolutionVariant> Variants(ConvolutionShape shape, ExecutionMode mode)
    {
        // For channels-last modes, NCHW is the other layout to try.
        var layouts = mode.ChannelsLast ? new[] { false, true } : [false];
        if (mode.ChannelsLast) yield return new ConvolutionVariant(0, 0, Contiguous: true);
        if (shape.Groups != 1) yield break;
        foreach (long multiple in new[] { 16L, 32, 64 })
        {
            // The 3 colour channels of a first layer are never padded: that would multiply its cost by 5 or more.
            long padIn = shape.InChannels <= 4 ? 0 : RoundUp(shape.InChannels, multiple) - shape.InChannels;
            long padOut = RoundUp(shape.OutChannels, multiple) - shape.OutChannels;
            if (padIn == 0 && padOut == 0) continue;
            foreach (bool contiguous in layouts) yield return new ConvolutionVariant(padIn, padOut, contiguous);
        }
    }

    static long RoundUp(long n, long multiple) => (n + multiple - 1) / multiple * multiple;

    static ConvolutionCheck Check(ConvolutionShape shape, ExecutionMode mode, ConvolutionVariant variant)
    {
        var audited = shape with { Height = Math.Min(shape.Height, MaxAuditSize), Width = Math.Min(shape.Width, MaxAuditSize) };
        return Cache.GetOrAdd((audited, mode, variant), key => Measure(key.Item1, key.Item2, key.Item3));
    }

    static ConvolutionCheck Measure(ConvolutionShape s, ExecutionMode mode, ConvolutionVariant variant)
    {
        using var scope = NewDisposeScope();
        var generator = new Generator(20261125);
        var x = randn([2, s.InChannels, s.Height, s.Width], generator: generator);
        var w = randn([s.OutChannels, s.InChannels / s.Groups, s.KernelHeight, s.KernelWidth], generator: generator);
        var b = randn([s.OutChannels], generator: generator);
        long[] strides = [s.Stride, s.Stride], padding = [s.Padding, s.Padding], dilations = [s.Dilation, s.Dilation];

        var x64 = x.to_type(ScalarType.Float64).requires_grad_();
        var y64 = F.conv2d(x64, w.to_type(ScalarType.Float64), b.to_type(ScalarType.Float64), strides, padding, dilations, s.Groups);
        var upstream = randn(y64.shape, generator: generator);
        (y64 * upstream.to_type(ScalarType.Float64)).sum().backward();

        var dtype = mode.Precision == NumericPrecision.BFloat16 ? ScalarType.BFloat16 : ScalarType.Float32;
        var (wm, bm) = Convolution.Adapt(w.to_type(dtype), b.to_type(dtype), variant, mode.ChannelsLast);
        var xm = (mode.ChannelsLast ? Convolution.ChannelsLast(x.to_type(dtype)) : x.to_type(dtype)).detach().requires_grad_();
        using (OneDnn.Use(mode.OneDnn))
        {
            var y = Convolution.Run(xm, wm, bm, strides, padding, dilations, s.Groups, variant);
            (y.to_type(ScalarType.Float32) * upstream).sum().backward();
            return new ConvolutionCheck(s, mode, RelativeError(y, y64), RelativeError(xm.grad!, x64.grad!), variant);
        }
    }

    static double RelativeError(Tensor value, Tensor reference)
    {
        double error = (value.to_type(ScalarType.Float64) - reference).abs().max().item<double>();
        double scale = reference.abs().max().item<double>();
        // NaN compares false with every tolerance; report it as infinitely wrong.
        return double.IsNaN(error) ? double.PositiveInfinity : error / Math.Max(scale, 1e-30);
    }
}
