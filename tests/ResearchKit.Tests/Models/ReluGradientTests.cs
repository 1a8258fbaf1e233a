using ResearchKit.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace ResearchKit.Tests.Models;

public class ReluGradientTests
{
    // The gradient reaching x when the loss's gradient at the ReLU's output is `upstream` (loss = Σ output·upstream).
    static float[] InputGradient(float[] x, float[] upstream, long[] shape, bool redirect, Func<Tensor, Tensor>? op = null)
    {
        using var scope = NewDisposeScope();
        var input = tensor(x).reshape(shape).requires_grad_(true);
        Tensor output;
        using (ReluGradient.Redirect(redirect)) output = (op ?? ReluGradient.Relu)(input);
        (output * tensor(upstream).reshape(shape)).sum().backward();
        return input.grad!.data<float>().ToArray();
    }

    [Fact]
    public void Off_it_is_the_ordinary_relu_gradient()
    {
        float[] x = [-1, 2, -3, 0.5f], g = [-1, -2, 3, 4];
        Assert.Equal([0, -2, 0, 4], InputGradient(x, g, [1, 4], redirect: false));
    }

    [Fact]
    public void A_batch_item_where_nothing_passes_gets_every_gradient_except_pushes_further_down()
    {
        // Item 0 has a live unit (2 > 0): ordinary gradient. Item 1 is all negative: the loss gradient −1 ("raise this
        // input") passes, +3 ("lower an input that is already below 0") does not.
        float[] x = [-1, 2, -1, -2], g = [-1, -2, -1, 3];
        Assert.Equal([0, -2, -1, 0], InputGradient(x, g, [2, 2], redirect: true));
        Assert.Equal([0, -2, 0, 0], InputGradient(x, g, [2, 2], redirect: false));
    }

    [Fact]
    public void A_clipped_activation_is_redirected_at_both_bounds_and_other_clamps_are_not()
    {
        // All units outside [0, 6]: −1 may rise (gradient −1 passes), 7 may fall (gradient +2 passes), 8 may not rise further.
        float[] x = [-1, 7, 8], g = [-1, 2, -5];
        Assert.Equal([-1, 2, 0], InputGradient(x, g, [1, 3], redirect: true, t => ReluGradient.Clamp(t, 0, 6)));
        Assert.Equal([0, 0, 0], InputGradient(x, g, [1, 3], redirect: true, t => ReluGradient.Clamp(t, -0.5, 6)));
    }

    [Fact]
    public void The_forward_values_never_change_and_the_scope_restores_the_previous_state()
    {
        using var scope = NewDisposeScope();
        var x = randn(2, 3, 4, 4, generator: new Generator(3)).requires_grad_(true);
        Tensor redirected;
        using (ReluGradient.Redirect())
        {
            Assert.True(ReluGradient.Redirecting);
            using (ReluGradient.Redirect(false)) Assert.False(ReluGradient.Redirecting);
            Assert.True(ReluGradient.Redirecting);
            redirected = ReluGradient.Relu(x);
        }
        Assert.False(ReluGradient.Redirecting);
        Assert.Equal(0, (redirected - nn.functional.relu(x)).abs().max().item<float>());
    }

    [Fact]
    public void Settings_read_and_write_as_words()
    {
        Assert.Equal(ReluRedirect.Lucid, ReluRedirect.Parse("16"));
        Assert.Equal(ReluRedirect.Lucid, ReluRedirect.Parse("first 16 steps"));
        Assert.Equal(ReluRedirect.Throughout, ReluRedirect.Parse("throughout"));
        Assert.Equal(ReluRedirect.Off, ReluRedirect.Parse("off"));
        Assert.Equal("\"first 16 steps\"", System.Text.Json.JsonSerializer.Serialize(ReluRedirect.Lucid));
        Assert.Equal(ReluRedirect.Throughout, System.Text.Json.JsonSerializer.Deserialize<ReluRedirect>("\"throughout\""));
        Assert.True(ReluRedirect.Lucid.AppliesAt(15));
        Assert.False(ReluRedirect.Lucid.AppliesAt(16));
        Assert.Contains("redirect-relu", Assert.Throws<InvalidSettingException>(() => ReluRedirect.Parse("sometimes")).Message);
    }
}
