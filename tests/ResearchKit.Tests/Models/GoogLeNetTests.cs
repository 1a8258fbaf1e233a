using ResearchKit.TestSupport;
using ResearchKit.Models;
using ResearchKit.Models.Onnx;

namespace ResearchKit.Tests.Models;

public sealed class GoogLeNetFixture : IDisposable
{
    public string File { get; } = Path.Combine(Path.GetTempPath(), $"researchkit-googlenet-{Guid.NewGuid():N}.onnx");

    public OnnxModel Model { get; }

    public GoogLeNetFixture()
    {
        Architectures.GoogLeNet(seed: 3).Save(File);
        Model = OnnxModel.Load(File, InputNormalization.None);
    }

    public void Dispose()
    {
        Model.Dispose();
        System.IO.File.Delete(File);
    }
}

/// <summary>An Inception-v1 topology with random weights: the kit's GoogLeNet names and values match ONNX Runtime.</summary>
public class GoogLeNetTests(GoogLeNetFixture fixture) : IClassFixture<GoogLeNetFixture>
{
    readonly OnnxModel _model = fixture.Model;

    [Fact]
    public void Inception_modules_get_lucid_names_with_the_papers_channel_counts()
    {
        var expected = new Dictionary<string, (string Raw, long[] Shape)>
        {
            ["conv1"] = ("conv1/7x7_s2", [1, 64, 112, 112]),
            ["maxpool"] = ("pool1/3x3_s2", [1, 64, 56, 56]),
            ["mixed3a"] = ("inception_3a/output", [1, 256, 28, 28]),
            ["mixed3b"] = ("inception_3b/output", [1, 480, 28, 28]),
            ["mixed4a"] = ("inception_4a/output", [1, 512, 14, 14]),
            ["mixed4b"] = ("inception_4b/output", [1, 512, 14, 14]),
            ["mixed4c"] = ("inception_4c/output", [1, 512, 14, 14]),
            ["mixed4d"] = ("inception_4d/output", [1, 528, 14, 14]),
            ["mixed4e"] = ("inception_4e/output", [1, 832, 14, 14]),
            ["mixed5a"] = ("inception_5a/output", [1, 832, 7, 7]),
            ["mixed5b"] = ("inception_5b/output", [1, 1024, 7, 7]),
            ["logits"] = ("loss3/classifier", [1, 1000]),
            ["output"] = ("prob", [1, 1000]),
        };
        foreach (var (alias, (raw, shape)) in expected)
        {
            Assert.Equal(raw, _model.ResolveTap(alias));
            Assert.Equal(shape, _model.Tap(alias).Shape);
        }
    }

    [Fact]
    public void Logits_are_the_input_of_the_final_softmax()
    {
        var softmax = _model.Nodes.Single(n => n.OpType == "Softmax");
        Assert.Equal(softmax.Outputs[0], _model.OutputTap);
        Assert.Equal(softmax.Inputs[0], _model.ResolveTap("logits"));
        Assert.Equal("Gemm", _model.OpOf(_model.ResolveTap("logits")));
    }

    [Fact]
    public void Matches_onnx_runtime_at_mixed_layers_logits_and_probabilities() =>
        OnnxAgreement.Assert(fixture.File, [1, 3, 224, 224], ["mixed3a", "mixed4c", "mixed5b", "logits", "output"], batch: 1, seed: 4,
            tolerance: 1e-5);
}
