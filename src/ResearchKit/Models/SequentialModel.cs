using TorchSharp;
using static TorchSharp.torch;

namespace ResearchKit.Models;

/// <summary>
/// A model built in TorchSharp from named stages run one after another; each stage's output is a tap. Used for the
/// kit's own networks (the diagnostics classifier) and for networks a user defines and loads weights into.
/// </summary>
public sealed class SequentialModel : Model
{
    readonly List<(string Name, nn.Module<Tensor, Tensor> Stage)> _stages;
    readonly List<string> _names;

    /// <summary>Creates a model from stages; stage names become tap names.</summary>
    public SequentialModel(string name, IEnumerable<(string Name, nn.Module<Tensor, Tensor> Stage)> stages, int inputHeight, int inputWidth,
        Preprocessing? preprocessing = null, InputNormalization normalization = InputNormalization.Model)
        : base(name, inputHeight, inputWidth, preprocessing ?? Preprocessing.Identity(), normalization)
    {
        _stages = [.. stages];
        if (_stages.Count == 0) throw new InvalidSettingException("a sequential model needs at least one stage", nameof(stages));
        _names = _stages.Select(s => s.Name).ToList();
        var duplicate = _names.GroupBy(n => n).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null) throw new InvalidSettingException($"stage name '{duplicate.Key}' is used twice", nameof(stages));
        foreach (var (_, stage) in _stages) stage.eval();
    }

    /// <inheritdoc/>
    public override IReadOnlyList<string> TapNames => _names;

    /// <inheritdoc/>
    public override string OutputTap => _names[^1];

    /// <summary>The stages (for training, saving and loading weights).</summary>
    public IReadOnlyList<(string Name, nn.Module<Tensor, Tensor> Stage)> Stages => _stages;

    /// <summary>Adds a friendly alias for a stage (e.g. <c>logits</c>).</summary>
    public SequentialModel WithAlias(string alias, string stage)
    {
        if (!_names.Contains(stage)) throw new UnknownTapException($"model '{Name}' has no stage '{stage}'; stages: {string.Join(", ", _names)}");
        AddAlias(alias, stage);
        return this;
    }

    /// <inheritdoc/>
    public override string OpOf(string rawName) => _stages.First(s => s.Name == rawName).Stage.GetName();

    /// <inheritdoc/>
    protected override void MoveTo(Device device)
    {
        foreach (var (_, stage) in _stages) stage.to(device);
    }

    /// <inheritdoc/>
    protected override IReadOnlyDictionary<string, Tensor> RunPreprocessed(Tensor input, IReadOnlySet<string> taps)
    {
        var results = new Dictionary<string, Tensor>();
        int last = _names.FindLastIndex(taps.Contains);
        var x = input;
        for (int k = 0; k <= last; k++)
        {
            x = _stages[k].Stage.call(x);
            if (taps.Contains(_names[k])) results[_names[k]] = x;
        }
        return results;
    }

    /// <inheritdoc/>
    protected override void Dispose(bool disposing)
    {
        if (disposing)
            foreach (var (_, stage) in _stages) stage.Dispose();
        base.Dispose(disposing);
    }
}
