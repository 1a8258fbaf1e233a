using System.CommandLine;
using ResearchKit.Diagnostics;

namespace ResearchKit.Cli.Commands;

/// <summary><c>researchkit diagnose --out report/</c>: the dumbbell lab end to end, with its verdict.</summary>
static class DiagnoseCommand
{
    public static Command Create()
    {
        var seed = new Option<int>("--seed") { Description = "Seed of the data, the training and the visualizations", DefaultValueFactory = _ => 0 };
        var planted = new Option<double>("--planted-prob") { Description = "How often the arm accompanies a training dumbbell", DefaultValueFactory = _ => 0.9 };
        var control = new Option<bool>("--control") { Description = "Train without the planted feature (the verdict must come out false)" };
        var epochs = new Option<int?>("--epochs") { Description = "Training epochs (default: the lab's)" };
        var output = new Option<string>("--out") { Description = "Report folder: visualizations, examples, summary.json, summary.md", Required = true };
        var command = new Command("diagnose", "The dumbbell lab: train a classifier on synthetic data with a planted context feature, " +
            "visualize its classes, test counterfactuals and say whether it relies on the feature") { seed, planted, control, epochs, output };
        command.SetAction(parse =>
        {
            var folder = parse.GetValue(output)!;
            var summary = Path.Combine(folder, "summary.json");
            if (!parse.GetValue(CommonOptions.Force) && File.Exists(summary)) throw new IO.OutputExistsException(summary);
            var settings = new DumbbellLabSettings(Seed: parse.GetValue(seed), PlantedProbability: parse.GetValue(planted));
            if (parse.GetValue(control)) settings = settings.AsControl();
            if (parse.GetValue(epochs) is { } e) settings = settings with { Epochs = e };
            ProgressBar? bar = null;
            string? stage = null;
            var progress = new SynchronousProgress<DumbbellLabProgress>(p =>
            {
                if (p.Stage != stage) (stage, bar) = (p.Stage, new ProgressBar(p.Stage, 100));
                bar!.Report((int)Math.Round(p.Fraction * 100));
            });
            using var report = DumbbellLab.Run(settings, progress: progress, cancellationToken: CliRunner.Cancellation.Token);
            report.WriteTo(folder);
            Console.WriteLine(report.ToMarkdown());
            Console.WriteLine($"verdict: the model {(report.ReliesOnPlantedFeature ? "RELIES" : "does not rely")} on the planted feature; wrote {folder}");
            return 0;
        });
        return command;
    }
}

/// <summary>Reports on the calling thread (Progress&lt;T&gt; would post to the thread pool and reorder lines).</summary>
sealed class SynchronousProgress<T>(Action<T> report) : IProgress<T>
{
    public void Report(T value) => report(value);
}
