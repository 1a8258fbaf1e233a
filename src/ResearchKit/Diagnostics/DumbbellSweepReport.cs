using System.Globalization;
using System.Text;
using System.Text.Json;
using ResearchKit.IO;

namespace ResearchKit.Diagnostics;

/// <summary>The measurements of one lab run (one trained model) that a sweep compares across seeds; no verdict, no images.</summary>
/// <param name="TestAccuracy">Accuracy on held-out images from the training distribution.</param>
/// <param name="AccuracyWithFeature">Accuracy on counterfactual dumbbells with the arm.</param>
/// <param name="AccuracyWithoutFeature">Accuracy on the same dumbbells without it.</param>
/// <param name="ArmOnlyDumbbellRate">Fraction of arm-alone images classified as dumbbell.</param>
/// <param name="DumbbellScore">Planted-feature score of the dumbbell visualization.</param>
/// <param name="BestOtherClass">The other class whose visualization scores highest.</param>
/// <param name="BestOtherScore">That class's score.</param>
public sealed record DumbbellRunSummary(double TestAccuracy, double AccuracyWithFeature, double AccuracyWithoutFeature,
    double ArmOnlyDumbbellRate, double DumbbellScore, string BestOtherClass, double BestOtherScore)
{
    /// <summary>What removing the arm costs (see <see cref="DumbbellReport.AccuracyDrop"/>).</summary>
    public double AccuracyDrop => AccuracyWithFeature - AccuracyWithoutFeature;

    /// <summary>The dumbbell visualization's score minus the best other class's (see <see cref="DumbbellReport.ScoreMargin"/>).</summary>
    public double ScoreMargin => DumbbellScore - BestOtherScore;

    /// <summary>The verdict of <paramref name="rule"/>'s thresholds on these measurements.</summary>
    public bool ReliesOnPlantedFeature(DumbbellLabSettings rule) => rule.Relies(ScoreMargin, AccuracyDrop);

    /// <summary>The measurements of <paramref name="report"/>.</summary>
    public static DumbbellRunSummary Of(DumbbellReport report)
    {
        string dumbbell = report.ClassNames[SyntheticShapes.Dumbbell];
        var bestOther = report.PlantedFeatureScores.Where(s => s.Key != dumbbell).MaxBy(s => s.Value);
        return new(report.TestAccuracy, report.AccuracyWithFeature, report.AccuracyWithoutFeature, report.ArmOnlyDumbbellRate,
            report.PlantedFeatureScores[dumbbell], bestOther.Key, bestOther.Value);
    }
}

/// <summary>One seed of a sweep: the planted model and its control, trained from the same seed.</summary>
/// <param name="Seed">The seed of the data, the training and the visualizations.</param>
/// <param name="Planted">The model trained with the arm planted.</param>
/// <param name="Control">The model trained without it (<see cref="DumbbellLabSettings.AsControl"/>).</param>
/// <param name="Seconds">Wall time of both runs.</param>
public sealed record DumbbellSweepRow(int Seed, DumbbellRunSummary Planted, DumbbellRunSummary Control, double Seconds);

/// <summary>
/// The dumbbell lab over many seeds (<see cref="DumbbellLab.Sweep"/>): how often the verdict catches the planted model
/// (detection rate) and how often it wrongly accuses the control (false-alarm rate), with every seed's measurements.
/// The verdicts are computed from the measurements with <see cref="Settings"/>' thresholds.
/// </summary>
/// <param name="Settings">The lab's settings; each row replaces the seed with its own.</param>
/// <param name="Visualizer">How the class visualizations were made.</param>
/// <param name="Rows">One row per seed, in seed order.</param>
public sealed record DumbbellSweepReport(DumbbellLabSettings Settings, string Visualizer, IReadOnlyList<DumbbellSweepRow> Rows)
{
    /// <summary>Name of the JSON summary a sweep writes into its folder.</summary>
    public const string JsonFile = "sweep.json";

    /// <summary>Name of the Markdown summary a sweep writes into its folder.</summary>
    public const string MarkdownFile = "sweep.md";

    /// <summary>Planted models the verdict judged to rely on the arm.</summary>
    public int Detections => Rows.Count(r => r.Planted.ReliesOnPlantedFeature(Settings));

    /// <summary>Control models the verdict judged to rely on the arm they never saw.</summary>
    public int FalseAlarms => Rows.Count(r => r.Control.ReliesOnPlantedFeature(Settings));

    /// <summary><see cref="Detections"/> over the seeds (NaN without rows).</summary>
    public double DetectionRate => Rows.Count == 0 ? double.NaN : (double)Detections / Rows.Count;

    /// <summary><see cref="FalseAlarms"/> over the seeds (NaN without rows).</summary>
    public double FalseAlarmRate => Rows.Count == 0 ? double.NaN : (double)FalseAlarms / Rows.Count;

    /// <summary>Mean wall time of one seed (planted and control run).</summary>
    public double MeanSecondsPerSeed => Rows.Count == 0 ? double.NaN : Rows.Average(r => r.Seconds);

    /// <summary>
    /// The 95 % Wilson score interval of a rate of <paramref name="successes"/> in <paramref name="trials"/>: with ten
    /// seeds, 10/10 only says the true rate is likely above 0.72.
    /// </summary>
    public static (double Low, double High) WilsonInterval(int successes, int trials)
    {
        if (trials == 0) return (0, 1);
        const double z = 1.959964;
        double p = (double)successes / trials, z2n = z * z / trials;
        double centre = (p + z2n / 2) / (1 + z2n);
        double half = z * Math.Sqrt(p * (1 - p) / trials + z2n / (4 * trials)) / (1 + z2n);
        // At 0 and n successes one end is exactly 0 or 1; rounding would put it a hair inside.
        return (successes == 0 ? 0 : centre - half, successes == trials ? 1 : centre + half);
    }

    /// <summary>Writes <see cref="JsonFile"/> and <see cref="MarkdownFile"/> into <paramref name="folder"/>, each atomically.</summary>
    /// <returns>The files written.</returns>
    public IReadOnlyList<string> WriteTo(string folder)
    {
        string json = Path.Combine(folder, JsonFile), markdown = Path.Combine(folder, MarkdownFile);
        AtomicFile.WriteAllText(json, ToJson());
        AtomicFile.WriteAllText(markdown, ToMarkdown());
        return [json, markdown];
    }

    /// <summary>The rates, the rule, the settings and every row with its verdicts, as JSON.</summary>
    public string ToJson() => JsonSerializer.Serialize(new
    {
        seeds = Rows.Count,
        detections = Detections,
        detectionRate = DetectionRate,
        detectionInterval95 = Interval(Detections),
        falseAlarms = FalseAlarms,
        falseAlarmRate = FalseAlarmRate,
        falseAlarmInterval95 = Interval(FalseAlarms),
        meanSecondsPerSeed = MeanSecondsPerSeed,
        rule = Settings.Rule,
        settings = Settings,
        visualizer = Visualizer,
        rows = Rows.Select(r => new
        {
            r.Seed,
            planted = Judged(r.Planted),
            control = Judged(r.Control),
            r.Seconds,
        }),
    }, KitJson.Options);

    double[] Interval(int successes)
    {
        var (low, high) = WilsonInterval(successes, Rows.Count);
        return [low, high];
    }

    object Judged(DumbbellRunSummary run) => new
    {
        reliesOnPlantedFeature = run.ReliesOnPlantedFeature(Settings),
        run.TestAccuracy,
        run.AccuracyWithFeature,
        run.AccuracyWithoutFeature,
        run.AccuracyDrop,
        run.ArmOnlyDumbbellRate,
        run.DumbbellScore,
        run.BestOtherClass,
        run.BestOtherScore,
        run.ScoreMargin,
    };

    /// <summary>The rates and a table of every seed's planted and control run, as Markdown.</summary>
    public string ToMarkdown()
    {
        var culture = CultureInfo.InvariantCulture;
        var md = new StringBuilder();
        md.AppendLine(culture, $"# Dumbbell lab over {Rows.Count} seeds: detection {Detections}/{Rows.Count}, false alarms {FalseAlarms}/{Rows.Count}");
        md.AppendLine();
        md.AppendLine("| rate | value | 95 % interval |");
        md.AppendLine("|---|---:|---:|");
        md.AppendLine(culture, $"| detection (planted models judged to rely on the arm) | {Rate(Detections)} |");
        md.AppendLine(culture, $"| false alarm (control models judged to rely on it) | {Rate(FalseAlarms)} |");
        md.AppendLine();
        md.AppendLine(culture, $"Seeds {SeedList.Format(Rows.Select(r => r.Seed))}; planted probability {Settings.PlantedProbability:0.##} (control 0), " +
            $"{Settings.ImageSize}x{Settings.ImageSize} images, {Settings.TrainImagesPerClass} training images per class, {Settings.Epochs} epochs, " +
            $"{Settings.ProbeImages} probe images. Wall time per seed (both models): mean {MeanSecondsPerSeed:0} s, min / median / max {Spread(r => r.Seconds, "0")} s.");
        md.AppendLine(culture, $"Rule: {Settings.Rule}. Visualizer: {Visualizer}.");
        md.AppendLine();
        md.AppendLine("Where the thresholds sit between the two kinds of model:");
        md.AppendLine();
        md.AppendLine("| measurement | threshold | planted: min / median / max | control: min / median / max |");
        md.AppendLine("|---|---:|---:|---:|");
        md.AppendLine(culture, $"| visualization margin | {Settings.MinimumScoreMargin:0.000} | {Spread(r => r.Planted.ScoreMargin)} | {Spread(r => r.Control.ScoreMargin)} |");
        md.AppendLine(culture, $"| accuracy drop without the arm | {Settings.MinimumAccuracyDrop:0.000} | {Spread(r => r.Planted.AccuracyDrop)} | {Spread(r => r.Control.AccuracyDrop)} |");
        md.AppendLine();
        md.AppendLine("| seed | model | test acc. | acc. with arm | without | drop | arm alone → dumbbell | dumbbell viz score | best other class | margin | verdict |");
        md.AppendLine("|---:|---|---:|---:|---:|---:|---:|---:|---|---:|---|");
        foreach (var row in Rows)
            foreach (var (name, run) in new[] { ("planted", row.Planted), ("control", row.Control) })
                md.AppendLine(culture, $"| {row.Seed} | {name} | {run.TestAccuracy:0.000} | {run.AccuracyWithFeature:0.000} | {run.AccuracyWithoutFeature:0.000} | " +
                    $"{run.AccuracyDrop:0.000} | {run.ArmOnlyDumbbellRate:0.000} | {run.DumbbellScore:0.0000} | {run.BestOtherClass} {run.BestOtherScore:0.0000} | " +
                    $"{run.ScoreMargin:0.0000} | {(run.ReliesOnPlantedFeature(Settings) ? "relies" : "does not rely")} |");
        return md.ToString();
    }

    /// <summary>"min / median / max" of a measurement over the rows.</summary>
    string Spread(Func<DumbbellSweepRow, double> measurement, string format = "0.000")
    {
        if (Rows.Count == 0) return "–";
        var sorted = Rows.Select(measurement).Order().ToArray();
        double median = sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
        return string.Join(" / ", new[] { sorted[0], median, sorted[^1] }.Select(v => v.ToString(format, CultureInfo.InvariantCulture)));
    }

    string Rate(int count)
    {
        var (low, high) = WilsonInterval(count, Rows.Count);
        return FormattableString.Invariant($"{(double)count / Math.Max(1, Rows.Count):0.00} ({count}/{Rows.Count}) | {low:0.00}–{high:0.00}");
    }
}
