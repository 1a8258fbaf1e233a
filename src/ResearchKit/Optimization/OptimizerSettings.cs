using System.Globalization;
using System.Text.Json.Serialization;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace ResearchKit.Optimization;

/// <summary>
/// How the free tensors are updated from their gradients. The renderer minimizes a loss (−objective + penalties);
/// "ascent" names refer to the objective. Settings are records that serialize to JSON;
/// <see cref="Create"/> makes the stateful optimizer for one render.
/// </summary>
[JsonPolymorphic(TypeDiscriminatorPropertyName = "kind")]
[JsonDerivedType(typeof(Adam), "adam")]
[JsonDerivedType(typeof(NormalizedAscent), "normalizedAscent")]
[JsonDerivedType(typeof(GradientAscent), "gradientAscent")]
public abstract record OptimizerSettings
{
    /// <summary>An optimizer for <paramref name="parameters"/> (leaf tensors whose <c>grad</c> the loss's backward fills).</summary>
    public abstract IOptimizer Create(IReadOnlyList<Tensor> parameters);

    /// <summary>Short text for captions and JSON, e.g. "Adam lr 0.05".</summary>
    public abstract string Describe();

    /// <summary>Throws unless <paramref name="value"/> is positive and finite.</summary>
    protected static double Positive(double value, string paramName) =>
        value > 0 && double.IsFinite(value) ? value : throw new InvalidSettingException("Must be positive and finite.", paramName, value);

    /// <summary>Invariant formatting for descriptions.</summary>
    protected static string F(double v) => v.ToString("0.######", CultureInfo.InvariantCulture);

    /// <summary>Throws unless every parameter is a floating-point leaf that requires a gradient.</summary>
    protected static IReadOnlyList<Tensor> CheckLeaves(IReadOnlyList<Tensor> parameters)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        if (parameters.Count == 0) throw new InvalidSettingException("There are no parameters to optimize.", nameof(parameters));
        for (int i = 0; i < parameters.Count; i++)
            if (parameters[i] is null || !parameters[i].requires_grad || !parameters[i].is_leaf)
                throw new InvalidSettingException($"Parameter {i} must be a leaf tensor with requires_grad.", nameof(parameters));
        return parameters;
    }
}

/// <summary>A stateful optimizer for one render.</summary>
public interface IOptimizer : IDisposable
{
    /// <summary>Clears the parameters' gradients before the next backward pass.</summary>
    void ZeroGrad();

    /// <summary>Updates the parameters in place from their current gradients (parameters without a gradient are left alone).</summary>
    void Step();
}

/// <summary>Adam (Kingma &amp; Ba 2014) with default betas; Lucid renders with learning rate 0.05.</summary>
public sealed record Adam(double LearningRate = 0.05) : OptimizerSettings
{
    /// <summary>Step size.</summary>
    public double LearningRate { get; init; } = Positive(LearningRate, nameof(LearningRate));

    /// <inheritdoc/>
    public override IOptimizer Create(IReadOnlyList<Tensor> parameters)
    {
        var leaves = CheckLeaves(parameters).Select((p, i) => p as Parameter ?? throw new InvalidSettingException($"Adam needs TorchSharp Parameter leaves (as every Parameterization provides); parameter {i} is a plain tensor.", nameof(parameters))).ToArray();
        return new TorchOptimizer(TorchSharp.torch.optim.Adam(leaves, LearningRate));
    }

    /// <inheritdoc/>
    public override string Describe() => $"Adam lr {F(LearningRate)}";

    sealed class TorchOptimizer(TorchSharp.torch.optim.Optimizer inner) : IOptimizer
    {
        public void ZeroGrad() => inner.zero_grad();
        public void Step() => inner.step();
        public void Dispose() => inner.Dispose();
    }
}

/// <summary>
/// Gradient steps normalized by the mean absolute gradient, θ ← θ − StepSize · g / mean|g| per parameter tensor
/// (Mordvintsev et al. 2015, DeepDream's make_step). The step size is then in the parameter's own units whatever the
/// network's gradient scale; DeepDream's 1.5 on 0–255 pixels is 1.5/255 here.
/// </summary>
public sealed record NormalizedAscent(double StepSize = 1.5 / 255) : OptimizerSettings
{
    /// <summary>Mean absolute change per step, in parameter units.</summary>
    public double StepSize { get; init; } = Positive(StepSize, nameof(StepSize));

    /// <inheritdoc/>
    public override IOptimizer Create(IReadOnlyList<Tensor> parameters) =>
        new ManualOptimizer(CheckLeaves(parameters), g => g / (g.abs().mean() + 1e-8) * StepSize);

    /// <inheritdoc/>
    public override string Describe() => $"normalized ascent step {F(StepSize)}";
}

/// <summary>
/// Plain gradient steps θ ← θ − LearningRate · g (Simonyan et al. 2013). The right rate depends on the network's
/// gradient scale; <see cref="NormalizedAscent"/> does not.
/// </summary>
public sealed record GradientAscent(double LearningRate) : OptimizerSettings
{
    /// <summary>Multiplier of the gradient.</summary>
    public double LearningRate { get; init; } = Positive(LearningRate, nameof(LearningRate));

    /// <inheritdoc/>
    public override IOptimizer Create(IReadOnlyList<Tensor> parameters) =>
        new ManualOptimizer(CheckLeaves(parameters), g => g * LearningRate);

    /// <inheritdoc/>
    public override string Describe() => $"gradient ascent lr {F(LearningRate)}";
}

/// <summary>θ ← θ − update(g) for each parameter with a gradient.</summary>
sealed class ManualOptimizer(IReadOnlyList<Tensor> parameters, Func<Tensor, Tensor> update) : IOptimizer
{
    public void ZeroGrad()
    {
        using var scope = NewDisposeScope(); // each grad access wraps a new handle
        foreach (var p in parameters) p.grad?.zero_();
    }

    public void Step()
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        foreach (var p in parameters)
            if (p.grad is { } g) p.sub_(update(g));
    }

    public void Dispose() { }
}
