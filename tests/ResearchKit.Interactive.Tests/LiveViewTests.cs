using System.Text.RegularExpressions;
using Microsoft.DotNet.Interactive;
using Microsoft.DotNet.Interactive.Commands;
using Microsoft.DotNet.Interactive.Events;
using Microsoft.DotNet.Interactive.Formatting;
using ResearchKit.Native;
using static TorchSharp.torch;

namespace ResearchKit.Interactive.Tests;

public class LiveViewTests
{
    /// <summary>A kernel whose cells are C# delegates: enough to give LiveView a real invocation context.</summary>
    sealed class DelegateKernel() : Kernel("delegates"), IKernelCommandHandler<SubmitCode>
    {
        public Dictionary<string, Action> Cells { get; } = [];

        public Task HandleAsync(SubmitCode command, KernelInvocationContext context)
        {
            Cells[command.Code]();
            return Task.CompletedTask;
        }
    }

    [Fact]
    public async Task A_live_view_is_one_output_updated_in_place_also_from_later_cells()
    {
        TorchRuntime.EnsureLoaded();
        using var kernel = new DelegateKernel();
        LiveView? view = null;
        using var image = full(1, 3, 16, 16, 0.5f);
        kernel.Cells["start"] = () => view = LiveView.Start("channel 7");
        kernel.Cells["run"] = () =>
        {
            for (int step = 0; step < 3; step++)
                view!.Update(image, step * 10, objective: 1.5 * step, new Dictionary<string, double> { ["channel"] = step, ["tv"] = -0.25 });
        };

        var started = await kernel.SendAsync(new SubmitCode("start"));
        var ran = await kernel.SendAsync(new SubmitCode("run"));

        var produced = Assert.Single(started.Events.OfType<DisplayedValueProduced>());
        var updates = ran.Events.OfType<DisplayedValueUpdated>().ToArray();
        Assert.Equal(3, updates.Length);
        Assert.All(updates, u => Assert.Equal(produced.ValueId, u.ValueId));
        Assert.Equal([(0, 0.0), (10, 1.5), (20, 3.0)], view!.History);
        string last = updates[^1].FormattedValues.Single(v => v.MimeType == HtmlFormatter.MimeType).Value;
        Assert.Contains("<b>step 20</b> · objective 3", last);
        Assert.Contains("<td>tv</td><td>-0.25</td>", last);
        Assert.Single(Regex.Matches(last, "<img src=\"data:image/png;base64,"));
        Assert.Contains("\"x\":[0.0,10.0,20.0]", last);
        Assert.Contains("\"y\":[0.0,1.5,3.0]", last);
    }

    [Fact]
    public async Task A_live_output_replaces_text_with_a_picture_in_place()
    {
        TorchRuntime.EnsureLoaded();
        using var kernel = new DelegateKernel();
        using var image = full(1, 3, 8, 8, 0.5f);
        kernel.Cells["run"] = () =>
        {
            var output = LiveOutput.Show("starting <now>");
            output.Update(image);
        };

        var ran = await kernel.SendAsync(new SubmitCode("run"));

        var produced = Assert.Single(ran.Events.OfType<DisplayedValueProduced>());
        var updated = Assert.Single(ran.Events.OfType<DisplayedValueUpdated>());
        Assert.Equal(produced.ValueId, updated.ValueId);
        Assert.Contains("starting &lt;now&gt;", produced.FormattedValues.Single(v => v.MimeType == HtmlFormatter.MimeType).Value);
        Assert.Contains("<img src=\"data:image/png;base64,", updated.FormattedValues.Single(v => v.MimeType == HtmlFormatter.MimeType).Value);
    }

    [Fact]
    public void Outside_a_kernel_a_live_view_says_where_it_must_run()
    {
        var e = Assert.Throws<InvalidOperationException>(() => LiveView.Start("channel 7"));
        Assert.Contains("channel 7", e.Message);
    }
}
