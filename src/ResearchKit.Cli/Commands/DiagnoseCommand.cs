using System.CommandLine;
using ResearchKit.Cli.Options;
using ResearchKit.Diagnostics;

namespace ResearchKit.Cli.Commands;

/// <summary><c>researchkit diagnose --out report/</c>: the dumbbell lab end to end, with its verdict.</summary>
static class DiagnoseCommand
{
    public static Command Create()
    {
        var seed = new Option<int?>("--seed") { Description = "Seed of the data, the training and the visualizations (default 0)" };
        var seeds = new Option<string?>("--seeds")
        {
            Description = "Sweep: run the planted and the control model for each seed, e.g. 0-9 or 0,3,10-12, and report the detection " +
                "and false-alarm rates (finished seeds are kept in --out; a rerun continues)",
        };
        var planted = new Option<double>("--planted-prob") { Description = "How often the arm accompanies a training dumbbell", DefaultValueFactory = _ => 0.9 };
        var control = new Option<bool>("--control") { Description = "Train without the planted feature (the verdict must come out false)" };
        var epochs = new Option<int?>("--epochs") { Description = "Training epochs (default: the lab's)" };
        var minMargin = new Option<double?>("--min-score-margin") { Description = "Verdict threshold: how far the dumbbell visualization's planted-feature score must beat every other class's (default: the lab's)" };
        var minDrop = new Option<double?>("--min-accuracy-drop") { Description = "Verdict threshold: how much dumbbell accuracy must fall without the arm (default: the lab's); a sweep judges kept seeds again without retraining" };
        var output = OutputOptions.Out("Report folder: visualizations, examples, summary.json, summary.md (a sweep: seed-N.json, sweep.json, sweep.md)");
        var command = new Command("diagnose", "The dumbbell lab: train a classifier on synthetic data with a planted context feature, " +
            "visualize its classes, test counterfactuals and say whether it relies on the feature") { seed, seeds, planted, control, epochs, minMargin, minDrop, output };
        command.SetAction(parse =>
        {
            var folder = parse.GetValue(output)!;
            var settings = new DumbbellLabSettings(PlantedProbability: parse.GetValue(planted));
            if (parse.GetValue(epochs) is { } e) settings = settings with { Epochs = e };
            if (parse.GetValue(minMargin) is { } margin) settings = settings with { MinimumScoreMargin = margin };
            if (parse.GetValue(minDrop) is { } drop) settings = settings with { MinimumAccuracyDrop = drop };
            if (parse.GetValue(seeds) is not { } list)
                return RunOne(settings with { Seed = parse.GetValue(seed) ?? 0 }, parse.GetValue(control), folder, OutputOptions.Overwrite(parse));
            if (parse.GetValue(seed) is not null) throw new InvalidSettingException("give --seed (one run) or --seeds (a sweep), not both");
            if (parse.GetValue(control)) throw new InvalidSettingException("--seeds runs every seed's control model already; drop --control");
            return Sweep(settings, SeedList.Parse(list), folder, OutputOptions.Overwrite(parse));
        });
        return command;
    }

    static int RunOne(DumbbellLabSettings settings, bool control, string folder, bool force)
    {
        IO.Outputs.EnsureWritable(force, Path.Combine(folder, "summary.json"));
        if (control) settings = settings.AsControl();
        using var report = DumbbellLab.Run(settings, progress: LabProgress(), cancellationToken: CliRunner.Cancellation.Token);
        report.WriteTo(folder);
        Console.WriteLine(report.ToMarkdown());
        Console.WriteLine($"verdict: the model {(report.ReliesOnPlantedFeature ? "RELIES" : "does not rely")} on the planted feature; wrote {folder}");
        return 0;
    }

    static int Sweep(DumbbellLabSettings settings, IReadOnlyList<int> seeds, string folder, bool force)
    {
        IProgress<DumbbellLabProgress>? lab = null;
        var progress = new SynchronousProgress<DumbbellSweepProgress>(p =>
        {
            switch (p.Stage)
            {
                case DumbbellSweepStage.Kept or DumbbellSweepStage.Finished:
                    var row = p.Row!;
                    string how = p.Stage == DumbbellSweepStage.Kept ? "kept from an earlier run" : FormattableString.Invariant($"done in {row.Seconds:0} s");
                    Console.Error.WriteLine($"seed {p.Seed} ({p.Done}/{p.Total}) {how}: planted {Outcome(row.Planted, settings)}, control {Outcome(row.Control, settings)}");
                    lab = null;
                    break;
                default:
                    if (p.Lab!.Stage == DumbbellLabStage.Data) lab = LabProgress($"seed {p.Seed} ({p.Done + 1}/{p.Total}) {p.Stage.ToString().ToLowerInvariant()}: ");
                    lab?.Report(p.Lab);
                    break;
            }
        });
        var report = DumbbellLab.Sweep(settings, seeds, folder, progress: progress, overwrite: force, cancellationToken: CliRunner.Cancellation.Token);
        Console.WriteLine(report.ToMarkdown());
        Console.WriteLine(FormattableString.Invariant(
            $"detection rate {report.DetectionRate:0.00} ({report.Detections}/{report.Rows.Count}), false-alarm rate {report.FalseAlarmRate:0.00} ({report.FalseAlarms}/{report.Rows.Count}); wrote {folder}"));
        return 0;
    }

    static string Outcome(DumbbellRunSummary run, DumbbellLabSettings settings) => FormattableString.Invariant(
        $"{(run.ReliesOnPlantedFeature(settings) ? "RELIES" : "does not rely")} (margin {run.ScoreMargin:0.000}, drop {run.AccuracyDrop:0.000})");

    /// <summary>A progress bar per lab stage (data, training, measuring, visualizing a class).</summary>
    static IProgress<DumbbellLabProgress> LabProgress(string prefix = "")
    {
        ProgressBar? bar = null;
        string? stage = null;
        return new SynchronousProgress<DumbbellLabProgress>(p =>
        {
            if (p.Description != stage) (stage, bar) = (p.Description, new ProgressBar(prefix + p.Description, 100));
            bar!.Report((int)Math.Round(p.Fraction * 100));
        });
    }
}
