using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json;
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
/// <param name="Note">Why the shape runs as it does when that is not the audit's ordinary finding (a crash), else null.</param>
public sealed record ConvolutionCheck(ConvolutionShape Shape, ExecutionMode Mode, double ForwardError, double GradientError,
    ConvolutionVariant Variant, string? Note = null)
{
    /// <summary>Both errors within the mode's tolerance.</summary>
    public bool Passed => ForwardError <= Mode.Tolerance && GradientError <= Mode.Tolerance;

    /// <inheritdoc/>
    public override string ToString() =>
        $"{Shape}: forward {ForwardError:E1}, input gradient {GradientError:E1}" + (Variant.IsPlain ? "" : $" ({Variant})")
        + (Note is null ? "" : $"; {Note}");
}

/// <summary>
/// Checks convolutions in an <see cref="ExecutionMode"/> against float64 on libtorch's reference kernels, forward and
/// input gradient, on random data. libtorch 2.10's oneDNN is wrong for some channel counts on some CPUs (which ones
/// depends on the layout, the precision, the stride and the kernel size), so rather than trusting a list, a model
/// audits its own convolutions on the machine it runs on, and for any that fail tries the NCHW layout and channel
/// counts padded to multiples of 16, 32 or 64; a shape no oneDNN variant computes correctly runs on the reference
/// kernels. Findings are kept for the process and in a file per machine and libtorch (<see cref="AuditCache"/>), so
/// a shape is audited once per machine; with <see cref="ChildProcess"/> set, audits run in a child process, so that a
/// oneDNN kernel that kills its process (SIGFPE was seen) takes down only the child.
/// </summary>
public static class ConvolutionAudit
{
    static readonly ConcurrentDictionary<(ConvolutionShape, ExecutionMode, ConvolutionVariant), ConvolutionCheck> Checks = new();
    static readonly ConcurrentDictionary<(ConvolutionShape, ExecutionMode), ConvolutionCheck> Findings = new();

    /// <summary>Audits spatial sizes up to this (the faults found depend on channels, not on image size).</summary>
    public const long MaxAuditSize = 32;

    /// <summary>
    /// Starts a process that serves audits (<see cref="ServeChild"/> on its standard input and output), or null to
    /// audit in this process. The command line sets it to itself; a library host that can start such a process may too.
    /// </summary>
    public static Func<ProcessStartInfo>? ChildProcess { get; set; }

    /// <summary>How long one audit child may run before it counts as crashed.</summary>
    public static TimeSpan ChildTimeout { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>Checks one convolution run as the mode says (in this process).</summary>
    public static ConvolutionCheck Check(ConvolutionShape shape, ExecutionMode mode) => Check(shape, mode, default);

    /// <summary>
    /// The first variant that passes among: the convolution as the mode says, in NCHW layout (for channels-last
    /// modes), and with channel counts padded to multiples of 16, 32 and 64 (in either layout); the reference kernels
    /// when none does. Audited in this process.
    /// </summary>
    public static ConvolutionCheck FindCorrectVariant(ConvolutionShape shape, ExecutionMode mode)
    {
        // oneDNN's 1×1 kernels are not even tried: on this VM they gave wrong results for some channel counts and
        // killed the process with SIGFPE for others (1024 outputs), which no check can survive.
        if (mode.OneDnn && IsPointwise(shape)) return Check(shape, mode, ConvolutionVariant.MatrixProduct);
        if (mode.OneDnn && ConvolutionVariant.SuitsPhaseGradient(shape)
            && Check(shape, mode, ConvolutionVariant.PhaseGradients) is { Passed: true } phases) return phases;
        var plain = Check(shape, mode);
        if (plain.Passed || !mode.OneDnn) return plain;
        foreach (var variant in Variants(shape, mode))
            if (Check(shape, mode, variant) is { Passed: true } check) return check;
        return Check(shape, mode, ConvolutionVariant.ReferenceKernels);
    }

    /// <summary>
    /// <see cref="FindCorrectVariant"/> for each shape, from this process's findings, then the machine's audit
    /// cache, then a fresh audit (in a child process when <see cref="ChildProcess"/> is set), which is added to both.
    /// </summary>
    public static IReadOnlyDictionary<ConvolutionShape, ConvolutionCheck> FindCorrectVariants(IEnumerable<ConvolutionShape> shapes, ExecutionMode mode) =>
        FindCorrectVariants(shapes, mode, AuditCache.ForThisMachine(), ChildProcess);

    internal static IReadOnlyDictionary<ConvolutionShape, ConvolutionCheck> FindCorrectVariants(IEnumerable<ConvolutionShape> shapes,
        ExecutionMode mode, AuditCache? cache, Func<ProcessStartInfo>? child)
    {
        Benchmarks.Startup.Mark($"audit ({mode}) begins");
        var wanted = shapes.Distinct().ToList();
        var found = new Dictionary<ConvolutionShape, ConvolutionCheck>();
        var stored = cache?.Read();
        foreach (var shape in wanted)
            if (Findings.TryGetValue((Audited(shape), mode), out var known)
                || (stored is not null && stored.TryGetValue((Audited(shape), mode), out known)))
                found[shape] = known!;
        var missing = wanted.Where(s => !found.ContainsKey(s)).ToList();
        if (missing.Count == 0)
        {
            Benchmarks.Startup.Mark($"audit ({mode}) done from memory and cache");
            return found;
        }
        var fresh = child is null || !mode.OneDnn
            ? missing.Select(s => FindCorrectVariant(Audited(s), mode)).ToList()
            : AuditInChildren(missing.Select(Audited).ToList(), mode, child);
        foreach (var (shape, check) in missing.Zip(fresh)) found[shape] = check;
        foreach (var check in fresh) Findings[(check.Shape, mode)] = check;
        cache?.Add(fresh);
        Benchmarks.Startup.Mark($"audit ({mode}) done, {missing.Count} shapes audited {(child is null ? "here" : "in a child process")}");
        return found;
    }

    /// <summary>The shape as audited: spatial sizes capped at <see cref="MaxAuditSize"/>.</summary>
    static ConvolutionShape Audited(ConvolutionShape shape) =>
        shape with { Height = Math.Min(shape.Height, MaxAuditSize), Width = Math.Min(shape.Width, MaxAuditSize) };

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

    static ConvolutionCheck Check(ConvolutionShape shape, ExecutionMode mode, ConvolutionVariant variant) =>
        Checks.GetOrAdd((Audited(shape), mode, variant), key => Measure(key.Item1, key.Item2, key.Item3));

    static ConvolutionCheck Measure(ConvolutionShape s, ExecutionMode mode, ConvolutionVariant variant)
    {
        using var scope = NewDisposeScope();
        var generator = new Generator(20261125);
        // On the CPU by name: an audit can run inside any caller's render, whatever its default device.
        var x = randn([2, s.InChannels, s.Height, s.Width], generator: generator, device: CPU);
        var w = randn([s.OutChannels, s.InChannels / s.Groups, s.KernelHeight, s.KernelWidth], generator: generator, device: CPU);
        var b = randn([s.OutChannels], generator: generator, device: CPU);
        long[] strides = [s.Stride, s.Stride], padding = [s.Padding, s.Padding], dilations = [s.Dilation, s.Dilation];

        var x64 = x.to_type(ScalarType.Float64).requires_grad_();
        var y64 = F.conv2d(x64, w.to_type(ScalarType.Float64), b.to_type(ScalarType.Float64), strides, padding, dilations, s.Groups);
        var upstream = randn(y64.shape, generator: generator, device: CPU);
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

    static readonly JsonSerializerOptions Json = AuditCache.Json;

    sealed record Request(ConvolutionShape Shape, string Mode);

    /// <summary>
    /// Serves audits for a parent process: reads one JSON request (shape and mode name) per line of
    /// <paramref name="input"/> and writes one JSON <see cref="ConvolutionCheck"/> per line to <paramref name="output"/>,
    /// flushed, so that the parent knows which shape was running if this process dies. Returns 0.
    /// </summary>
    public static int ServeChild(TextReader input, TextWriter output)
    {
        while (input.ReadLine() is { } line)
        {
            if (line.Length == 0) continue;
            var request = JsonSerializer.Deserialize<Request>(line, Json)!;
            output.WriteLine(JsonSerializer.Serialize(FindCorrectVariant(request.Shape, ExecutionMode.Parse(request.Mode)), Json));
            output.Flush();
        }
        return 0;
    }

    /// <summary>
    /// Audits the shapes in child processes. A child that dies (or hangs past <see cref="ChildTimeout"/>) leaves the
    /// shape it was working on to the reference kernels, with a note, and a new child takes the rest.
    /// </summary>
    static List<ConvolutionCheck> AuditInChildren(List<ConvolutionShape> shapes, ExecutionMode mode, Func<ProcessStartInfo> child)
    {
        var results = new List<ConvolutionCheck>();
        while (results.Count < shapes.Count)
        {
            var pending = shapes.Skip(results.Count).ToList();
            var (answers, failure) = RunChild(child(), pending, mode);
            results.AddRange(answers);
            if (failure is null) continue;
            var crashed = pending[answers.Count];
            // The reference kernels need no oneDNN, so checking them here cannot crash this process.
            results.Add(Check(crashed, mode, ConvolutionVariant.ReferenceKernels) with
                { Note = $"the audit process {failure} on this shape, so it runs on the reference kernels" });
        }
        return results;
    }

    static (List<ConvolutionCheck> Answers, string? Failure) RunChild(ProcessStartInfo start, List<ConvolutionShape> shapes, ExecutionMode mode)
    {
        start.RedirectStandardInput = start.RedirectStandardOutput = start.RedirectStandardError = true;
        start.UseShellExecute = false;
        var answers = new List<ConvolutionCheck>();
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"could not start the audit process {start.FileName}");
        var errors = process.StandardError.ReadToEndAsync();
        try
        {
            foreach (var shape in shapes)
                process.StandardInput.WriteLine(JsonSerializer.Serialize(new Request(shape, mode.Name), Json));
            process.StandardInput.Close();
        }
        catch (IOException) { /* the child died before reading everything; its answers say how far it got */ }
        var reading = Task.Run(() =>
        {
            while (answers.Count < shapes.Count && process.StandardOutput.ReadLine() is { } line)
                if (TryParse(line, shapes[answers.Count], mode) is { } check) answers.Add(check);
        });
        if (!reading.Wait(ChildTimeout))
        {
            process.Kill(entireProcessTree: true);
            return (answers, $"ran longer than {ChildTimeout.TotalSeconds:0} s");
        }
        process.WaitForExit();
        if (answers.Count == shapes.Count) return (answers, null);
        string error = errors.Wait(TimeSpan.FromSeconds(5)) ? errors.Result.Split('\n', StringSplitOptions.RemoveEmptyEntries).FirstOrDefault() ?? "" : "";
        return (answers, $"exited with {ExitDescription(process.ExitCode)}{(error.Length > 0 ? $" ({error.Trim()})" : "")}");
    }

    // A check for the shape asked, or null for a line that is not one (a child may print other things).
    static ConvolutionCheck? TryParse(string line, ConvolutionShape shape, ExecutionMode mode)
    {
        try
        {
            var check = JsonSerializer.Deserialize<ConvolutionCheck>(line, Json);
            return check is not null && check.Shape == shape && check.Mode == mode ? check : null;
        }
        catch (JsonException) { return null; }
    }

    // .NET reports a child killed by signal N as exit code 128 + N.
    static string ExitDescription(int code) => code switch
    {
        136 => "signal SIGFPE",
        139 => "signal SIGSEGV",
        134 => "signal SIGABRT",
        137 => "signal SIGKILL",
        > 128 and < 160 => $"signal {code - 128}",
        _ => $"exit code {code}",
    };
}
