using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using ResearchKit.IO;
using ResearchKit.Tests.Models;
using ResearchKit.TestSupport;
using static TorchSharp.torch;

namespace ResearchKit.Tests.Cli;

/// <summary>
/// <c>researchkit activations INPUT.npy --raw --json</c> gives a network's values exactly enough to check an import
/// against PyTorch; <c>researchkit inspect</c> tells what a file holds, and names what the importer lacks.
/// </summary>
public sealed class InspectAndActivationsCliTests : IDisposable
{
    readonly string _folder = Directory.CreateTempSubdirectory("researchkit-inspect-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    // numpy.save's format, version 1.0, float32 in C order.
    static void SaveNpy(string path, Tensor t)
    {
        var header = $"{{'descr': '<f4', 'fortran_order': False, 'shape': ({string.Join(", ", t.shape)}{(t.shape.Length == 1 ? "," : "")}), }}";
        header = header.PadRight(64 * ((header.Length + 11) / 64 + 1) - 11) + "\n";
        using var file = File.Create(path);
        file.Write([0x93, .. "NUMPY"u8, 1, 0]);
        file.Write(BitConverter.GetBytes((ushort)header.Length));
        file.Write(Encoding.ASCII.GetBytes(header));
        file.Write(MemoryMarshal.AsBytes(t.contiguous().data<float>().ToArray().AsSpan()));
    }

    [Fact]
    public void Raw_activations_of_a_npy_input_match_the_pytorch_reference()
    {
        var references = NpyFile.ReadArchive(ExportedNetworkTests.Fixture("vit.npz"));
        var input = Path.Combine(_folder, "input.npy");
        SaveNpy(input, references["input"]);
        var (code, output, error) = CliProcess.Run(_folder, "activations", input, "--model", ExportedNetworkTests.Fixture("vit.onnx"),
            "--normalize", "none", "--layer", "output", "--layer", "encoder.ln", "--raw", "--json");
        Assert.True(code == 0, error);
        var tensors = JsonDocument.Parse(output).RootElement.GetProperty("tensors");
        foreach (var tap in new[] { "output", "encoder.ln" })
        {
            var value = tensors.GetProperty(tap);
            var shape = value.GetProperty("shape").EnumerateArray().Select(d => d.GetInt64()).ToArray();
            var data = value.GetProperty("data").EnumerateArray().Select(v => v.GetSingle()).ToArray();
            var expected = references[tap];
            Assert.Equal(expected.shape, shape);
            var error2 = (tensor(data, shape) - expected).abs().max().item<float>();
            Assert.True(error2 <= 1e-4 * expected.abs().max().item<float>() + 1e-5, $"{tap}: max |error| {error2}");
        }
    }

    [Fact]
    public void A_photo_for_a_grayscale_network_reports_channel_means_of_several_taps()
    {
        var photo = ResearchKit.Imaging.SampleImages.Path("chelsea");
        var (code, output, error) = CliProcess.Run(_folder, "activations", photo, "--model", ExportedNetworkTests.Fixture("gray.onnx"),
            "--layer", "act1", "--layer", "act3", "--json");
        Assert.True(code == 0, error);
        var layers = JsonDocument.Parse(output).RootElement.GetProperty("layers");
        Assert.Equal(8, layers.GetProperty("act1").GetArrayLength());
        Assert.Equal(16, layers.GetProperty("act3").GetArrayLength());
    }

    [Fact]
    public void A_npy_of_the_wrong_shape_is_refused_naming_both_shapes()
    {
        var input = Path.Combine(_folder, "wrong.npy");
        SaveNpy(input, zeros(1, 3, 28, 28));
        var (code, _, error) = CliProcess.Run(_folder, "activations", input, "--model", ExportedNetworkTests.Fixture("gray.onnx"),
            "--layer", "act1", "--raw");
        Assert.Equal(1, code);
        Assert.Contains("[1,3,28,28]", error);
        Assert.Contains("[N,1,H,W]", error);
    }

    [Fact]
    public void Inspect_shows_opset_operators_and_taps_of_a_transformer()
    {
        var (code, output, error) = CliProcess.Run(_folder, "inspect", ExportedNetworkTests.Fixture("vit.onnx"));
        Assert.True(code == 0, error);
        Assert.Contains("opset 17", output);
        Assert.Contains("inputs:  input float [N,3,32,32]", output);
        Assert.Contains("LayerNormalization 5", output);
        Assert.Contains("unsupported operators: none", output);
        Assert.Contains("attention0", output);
        Assert.Contains("residual sum", output);
    }

    [Fact]
    public void Inspect_names_the_nodes_of_operators_the_importer_lacks()
    {
        var g = new OnnxGraphBuilder(16);
        var x = g.Input("image", 1, 3, 8, 8);
        var grid = g.Normal([1, 8, 8, 2], 0.5);
        g.Output(g.Node("GridSample", [x, grid], [1, 3, 8, 8]).Relu());
        var file = Path.Combine(_folder, "warp.onnx");
        g.Save(file);
        var (code, output, error) = CliProcess.Run(_folder, "inspect", file, "--json");
        Assert.True(code == 0, error);
        var report = JsonDocument.Parse(output).RootElement;
        var unsupported = report.GetProperty("unsupported").EnumerateArray().Single();
        Assert.Equal("GridSample", unsupported.GetProperty("op").GetString());
        Assert.StartsWith("gridsample", unsupported.GetProperty("nodes")[0].GetString());
        Assert.Contains("unsupported ONNX operator(s) GridSample", report.GetProperty("loadError").GetString());
    }

    [Fact]
    public void Inspect_of_a_truncated_file_is_one_clear_error_not_a_stack_trace()
    {
        var whole = File.ReadAllBytes(ExportedNetworkTests.Fixture("mobilenetv3.onnx"));
        var file = Path.Combine(_folder, "cut.onnx");
        File.WriteAllBytes(file, whole[..(whole.Length / 2)]);
        var (code, output, error) = CliProcess.Run(_folder, "inspect", file);
        Assert.Equal(1, code);
        Assert.StartsWith("error: ", error);
        Assert.Contains("cut.onnx", error);
        Assert.DoesNotContain(" at ResearchKit", error + output);
    }
}
