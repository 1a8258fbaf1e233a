using System.Diagnostics;
using System.Text.Json;
using ResearchKit.Models.Execution;
using ResearchKit.Native;
using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace ResearchKit.Tests.Execution;

/// <summary>The audit's findings kept in a file per machine, and audits run in a child process that may crash.</summary>
public sealed class ConvolutionAuditCacheTests : IDisposable
{
    readonly string _folder = Path.Combine(Path.GetTempPath(), $"researchkit-audit-{Guid.NewGuid():N}");

    public void Dispose()
    {
        if (Directory.Exists(_folder)) Directory.Delete(_folder, recursive: true);
    }

    AuditCache Cache() => new(Path.Combine(_folder, "convolutions.json"));

    // Shapes no other test audits (odd channel counts), so that this process has no findings for them yet.
    static ConvolutionShape Odd(long cin, long cout) => new(cin, cout, 3, 3, 1, 1, 1, 1, 9, 9);

    static string ToJson(ConvolutionCheck check) => JsonSerializer.Serialize(check, AuditCache.Json);

    [Fact]
    public void A_miss_is_audited_and_written_to_the_file()
    {
        var cache = Cache();
        var shape = Odd(5, 7);
        var found = ConvolutionAudit.FindCorrectVariants([shape], ExecutionMode.Fast, cache, child: null);
        Assert.True(found[shape].Passed, found[shape].ToString());
        var stored = cache.Read();
        Assert.Null(cache.Problem);
        Assert.Equal(found[shape], stored[(shape, ExecutionMode.Fast)]);
    }

    [Fact]
    public void A_hit_comes_from_the_file_without_auditing()
    {
        var cache = Cache();
        var shape = Odd(11, 13);
        // A finding no audit would produce (a padded variant with made-up errors): only the file can have said so.
        var planted = new ConvolutionCheck(shape, ExecutionMode.Fast, 1e-9, 2e-9, new ConvolutionVariant(5, 3, true));
        cache.Add([planted]);
        var found = ConvolutionAudit.FindCorrectVariants([shape], ExecutionMode.Fast, cache, child: null);
        Assert.Equal(planted, found[shape]);
    }

    [Fact]
    public void A_corrupted_file_is_ignored_with_a_note_and_replaced()
    {
        var cache = Cache();
        Directory.CreateDirectory(_folder);
        File.WriteAllText(cache.File, "{\"format\": 2, \"checks\": [ {\"shape\": tru");
        Assert.Empty(cache.Read());
        Assert.Contains("ignored", cache.Problem);
        var shape = Odd(17, 19);
        var found = ConvolutionAudit.FindCorrectVariants([shape], ExecutionMode.Fast, cache, child: null);
        Assert.True(found[shape].Passed);
        Assert.Equal(found[shape], cache.Read()[(shape, ExecutionMode.Fast)]);
        Assert.Null(cache.Problem);
    }

    [Fact]
    public void The_file_is_keyed_by_machine_libtorch_and_threads()
    {
        var description = AuditCache.MachineDescription();
        Assert.Contains($"libtorch: {TorchRuntime.LibTorchVersion}", description);
        Assert.Contains($"threads: {get_num_threads()}", description);
        Assert.StartsWith(Path.Combine(TorchRuntime.CacheFolder(), "audit", "convolutions-"), AuditCache.ForThisMachine().File);
    }

    [Fact]
    public void A_crashing_child_leaves_its_shape_on_the_reference_kernels_and_the_process_alive()
    {
        var (first, second, third) = (Odd(21, 23), Odd(25, 27), Odd(29, 31));
        var answer = new ConvolutionCheck(first, ExecutionMode.Fast, 1e-8, 1e-8, new ConvolutionVariant(0, 0, true));
        // Answers the first request, then dies of SIGFPE on the next, as oneDNN's 1x1 kernels did here.
        string script = $"read request; printf '%s\\n' '{ToJson(answer)}'; read request; kill -FPE $$";
        ProcessStartInfo Child() => new("/bin/sh") { ArgumentList = { "-c", script } };

        var found = ConvolutionAudit.FindCorrectVariants([first, second, third], ExecutionMode.Fast, Cache(), Child);

        Assert.Equal(answer, found[first]);
        foreach (var crashed in new[] { second, third })
        {
            Assert.True(found[crashed].Variant.Reference, found[crashed].ToString());
            Assert.True(found[crashed].Passed, found[crashed].ToString());
            Assert.Contains("SIGFPE", found[crashed].Note);
        }
        // The findings, crashes included, are kept: the next process neither audits nor crashes again.
        Assert.Equal(3, Cache().Read().Count);
    }

    [Fact]
    public void The_command_line_serves_audits_as_a_child_with_the_same_findings_as_this_process()
    {
        var cli = Path.Combine(AppContext.BaseDirectory, "ResearchKit.Cli.dll");
        ProcessStartInfo Child() => new("dotnet") { ArgumentList = { cli, "audit-convolutions" } };
        var shapes = new[] { Odd(33, 35), new ConvolutionShape(48, 40, 3, 3, 2, 1, 1, 1, 28, 28) };
        var fromChild = ConvolutionAudit.FindCorrectVariants(shapes, ExecutionMode.Fast, Cache(), Child);
        foreach (var shape in shapes)
        {
            var here = ConvolutionAudit.FindCorrectVariant(shape, ExecutionMode.Fast);
            Assert.Equal(here.Variant, fromChild[shape].Variant);
            Assert.True(fromChild[shape].Passed, fromChild[shape].ToString());
            Assert.Null(fromChild[shape].Note);
        }
    }
}

public class ReferenceVariantTests
{
    [Fact]
    public void The_reference_variant_stays_exact_inside_a_onednn_scope_forward_and_backward()
    {
        // 48 input channels, stride 2: oneDNN's float32 input gradient was 15-30 % off on the development machine.
        using var scope = NewDisposeScope();
        var g = new Generator(12);
        var x = randn([2, 48, 13, 16], generator: g);
        var w = randn([32, 48, 3, 3], generator: g);
        var b = randn([32], generator: g);
        var upstream = randn([2, 32, 7, 8], generator: g);
        long[] strides = [2, 2], padding = [1, 1], dilations = [1, 1];

        var x64 = x.to_type(ScalarType.Float64).requires_grad_();
        var y64 = F.conv2d(x64, w.to_type(ScalarType.Float64), b.to_type(ScalarType.Float64), strides, padding, dilations);
        (y64 * upstream.to_type(ScalarType.Float64)).sum().backward();

        var (wv, bv) = Convolution.Adapt(w, b, ConvolutionVariant.ReferenceKernels, channelsLast: true);
        var xv = Convolution.ChannelsLast(x).requires_grad_();
        using (OneDnn.Use(true))
        {
            var y = Convolution.Run(xv, wv, bv, strides, padding, dilations, 1, ConvolutionVariant.ReferenceKernels);
            (y * upstream).sum().backward();
            Assert.True(OneDnn.IsEnabled);
            double Error(Tensor value, Tensor reference) =>
                (value.to_type(ScalarType.Float64) - reference).abs().max().ToDouble() / reference.abs().max().ToDouble();
            Assert.True(Error(y, y64) < 1e-6, $"forward {Error(y, y64):E2}");
            Assert.True(Error(xv.grad!, x64.grad!) < 1e-6, $"input gradient {Error(xv.grad!, x64.grad!):E2}");
        }
    }
}
