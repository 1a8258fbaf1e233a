using System.Diagnostics;
using System.Globalization;
using ResearchKit.Imaging;
using ResearchKit.IO;
using ResearchKit.Objectives;
using ResearchKit.Priors;

namespace ResearchKit.Rendering;

/// <summary>One way of rendering, compared side by side with others: a name and what it changes in a plan.</summary>
/// <param name="Name">How tables and sheets name it, e.g. a preset's name or <c>redirect off</c>.</param>
/// <param name="About">Where the settings come from, or what they change.</param>
/// <param name="Apply">The change to the comparison's plan.</param>
public sealed record PlanVariant(string Name, string About, Func<RenderPlan, RenderPlan> Apply)
{
    /// <summary>The plan with <paramref name="preset"/>'s pieces (<see cref="RenderPlan.WithPreset(PriorPreset)"/>).</summary>
    public static PlanVariant Of(PriorPreset preset) => new(preset.Name, preset.Paper, plan => plan.WithPreset(preset));
}

/// <summary>One variant's render of a unit and how it measures.</summary>
/// <param name="Preset">The preset's (or variant's) name.</param>
/// <param name="Paper">Where its settings come from (a variant's <see cref="PlanVariant.About"/>).</param>
/// <param name="Result">The render (owns its image).</param>
/// <param name="Objective">The objective measured on the final image, with no transforms (mean over a batch).</param>
/// <param name="TotalVariation">Mean total variation (β = 1) of the final image: lower is smoother.</param>
/// <param name="HighFrequencyEnergy">Share of spectral power above half the Nyquist frequency: natural photos have little.</param>
/// <param name="Seconds">Wall-clock time of the render.</param>
/// <param name="PerImage">The same measures for each image of the batch.</param>
public sealed record PriorComparisonRow(string Preset, string Paper, RenderResult Result, double Objective,
    double TotalVariation, double HighFrequencyEnergy, double Seconds, IReadOnlyList<ImageMeasures> PerImage);

/// <summary>How one rendered image measures.</summary>
/// <param name="Objective">The objective's value for this image, with no transforms.</param>
/// <param name="TotalVariation">Total variation (β = 1).</param>
/// <param name="HighFrequencyEnergy">Share of spectral power above half the Nyquist frequency.</param>
public sealed record ImageMeasures(double Objective, double TotalVariation, double HighFrequencyEnergy);

/// <summary>
/// One objective rendered under several prior presets with the same size and seed, each image measured: the priors
/// side by side, as a contact sheet, a table and JSON.
/// <code>using var priors = PriorComparison.Run(Render.Plan(model, "layer3:7").Size(128).Seed(0), steps: 128);</code>
/// </summary>
public sealed class PriorComparison : IDisposable
{
    PriorComparison(Objective objective, Provenance provenance, IReadOnlyList<PriorComparisonRow> rows) =>
        (Objective, Provenance, Rows) = (objective, provenance, rows);

    /// <summary>What was rendered.</summary>
    public Objective Objective { get; }

    /// <summary>Where the renders came from.</summary>
    public Provenance Provenance { get; }

    /// <summary>One row per preset, in the order asked (fewer when cancelled).</summary>
    public IReadOnlyList<PriorComparisonRow> Rows { get; }

    /// <summary>
    /// Renders <paramref name="plan"/>'s objective under each preset (all of <see cref="PriorPresets.All"/> by default)
    /// with the plan's size, seed and device; <paramref name="steps"/> overrides each preset's default step count.
    /// Progress (the plan's <see cref="RenderPlan.Progress"/>) counts the renders as one run, each preset a stage.
    /// </summary>
    /// <param name="onFrame">Receives each render's frames every <paramref name="frameInterval"/> steps, with its preset.</param>
    public static PriorComparison Run(RenderPlan plan, IEnumerable<PriorPreset>? presets = null, int? steps = null,
        Action<PriorPreset, RenderFrame>? onFrame = null, int frameInterval = 8, CancellationToken cancellation = default)
    {
        var chosen = (presets ?? PriorPresets.All).ToList();
        return Run(plan, chosen.Select(PlanVariant.Of), steps,
            onFrame is null ? null : (variant, frame) => onFrame(chosen.First(p => p.Name == variant.Name), frame), frameInterval, cancellation);
    }

    /// <summary>
    /// Renders <paramref name="plan"/> changed by each variant (e.g. with the redirected ReLU gradient off, for 16 steps
    /// and throughout), with the plan's size, seed and device, as <see cref="Run(RenderPlan, IEnumerable{PriorPreset}?, int?, Action{PriorPreset, RenderFrame}?, int, CancellationToken)"/> does presets.
    /// </summary>
    public static PriorComparison Run(RenderPlan plan, IEnumerable<PlanVariant> variants, int? steps = null,
        Action<PlanVariant, RenderFrame>? onFrame = null, int frameInterval = 8, CancellationToken cancellation = default)
    {
        var plans = variants.Select(v => (variant: v, plan: steps is { } n ? v.Apply(plan).Steps(n) : v.Apply(plan))).ToList();
        int total = plans.Sum(p => p.plan.StepCount), before = 0;
        var rows = new List<PriorComparisonRow>();
        foreach (var ((variant, variantPlan), index) in plans.Select((p, i) => (p, i)))
        {
            if (cancellation.IsCancellationRequested) break;
            // Inside a longer run (the plan's stage), the renders count as part of it.
            var stage = plan.Stage is { } outer
                ? new RenderStage($"{outer.Label} · [{index + 1}/{plans.Count}] {variant.Name}", outer.StepsBefore + before, outer.TotalSteps)
                : new RenderStage($"[{index + 1}/{plans.Count}] {variant.Name}", before, total);
            var staged = variantPlan.InStage(stage);
            if (onFrame is not null) staged = staged.Every(frameInterval, f => onFrame(variant, f));
            before += staged.StepCount;
            var clock = Stopwatch.StartNew();
            var result = staged.Run(cancellation);
            clock.Stop();
            var objective = plan.Objective.Measure(plan.Model, result.Images);
            using var variation = ImageStatistics.TotalVariation(result.Images, beta: 1);
            var totalVariation = variation.to_type(TorchSharp.torch.ScalarType.Float64).data<double>().ToArray();
            var highFrequency = ImageStatistics.HighFrequencyEnergy(result.Images);
            rows.Add(new PriorComparisonRow(variant.Name, variant.About, result, objective.Average(), totalVariation.Average(),
                highFrequency.Average(), clock.Elapsed.TotalSeconds,
                [.. objective.Select((value, i) => new ImageMeasures(value, totalVariation[i], highFrequency[i]))]));
        }
        return new PriorComparison(plan.Objective, Provenance.Of(plan.Model, plan.SeedValue, plan.Command), rows);
    }

    /// <summary>
    /// The renders side by side, each captioned with its preset and the activation reached; a batch gets a row per
    /// preset, an image per column.
    /// </summary>
    public ContactSheet Sheet(int columns = 4)
    {
        int batch = Rows.Count > 0 ? Rows[0].PerImage.Count : 1;
        var sheet = ContactSheet.Create(batch > 1 ? batch : columns).Title($"{Provenance.Model} {Objective}");
        foreach (var row in Rows)
            for (int i = 0; i < row.PerImage.Count; i++)
            {
                string caption = string.Create(CultureInfo.InvariantCulture, $"{row.Preset} {row.PerImage[i].Objective:0.##}");
                if (row.Result.Settings.Transparent) sheet.AddTransparent(row.Result.Image(i), caption);
                else sheet.Add(row.Result.Image(i), caption);
            }
        return sheet;
    }

    /// <summary>The measurements as a Markdown table (means over a batch), and for a batch one more with every image.</summary>
    public string ToMarkdown()
    {
        var table = "| preset | objective | total variation | high-frequency energy | seconds |\n|---|---:|---:|---:|---:|\n" +
            string.Concat(Rows.Select(r => string.Create(CultureInfo.InvariantCulture,
                $"| {r.Preset} | {r.Objective:0.###} | {r.TotalVariation:0.####} | {r.HighFrequencyEnergy:0.####} | {r.Seconds:0.#} |\n")));
        if (Rows.Count == 0 || Rows[0].PerImage.Count == 1) return table;
        return table + "\n| preset | image | objective | total variation | high-frequency energy |\n|---|---:|---:|---:|---:|\n" +
            string.Concat(Rows.SelectMany(r => r.PerImage.Select((m, i) => string.Create(CultureInfo.InvariantCulture,
                $"| {r.Preset} | {i} | {m.Objective:0.###} | {m.TotalVariation:0.####} | {m.HighFrequencyEnergy:0.####} |\n"))));
    }

    /// <summary>
    /// Writes the contact sheet to <paramref name="path"/>, the table beside it (<c>.md</c>) and a <see cref="Sidecar"/>
    /// (<c>.json</c>) with every row's measurements and render settings, each atomically.
    /// </summary>
    /// <returns>The files written.</returns>
    /// <exception cref="OutputExistsException">A file exists and <paramref name="overwrite"/> is false.</exception>
    public IReadOnlyList<string> Save(string path, bool overwrite = false)
    {
        string table = Path.ChangeExtension(path, ".md");
        Outputs.EnsureWritable(overwrite, path, table, Sidecar.PathFor(path));
        Sheet().Save(path);
        AtomicFile.WriteAllText(table, $"# {Provenance.Model}: {Objective}\n\n{ToMarkdown()}");
        var sidecar = Sidecar.Write(path, Provenance, new
        {
            objective = Objective.Description,
            rows = RowRecords(),
        });
        return [path, table, sidecar];
    }

    /// <summary>Each row's measurements, stop reason and render settings, as the sidecar records them.</summary>
    public IEnumerable<object> RowRecords() => Rows.Select(r => new
    {
        preset = r.Preset,
        paper = r.Paper,
        objective = r.Objective,
        totalVariation = r.TotalVariation,
        highFrequencyEnergy = r.HighFrequencyEnergy,
        seconds = r.Seconds,
        perImage = r.PerImage,
        stop = r.Result.Stop,
        deadItems = r.Result.DeadItems,
        settings = r.Result.Settings,
    });

    /// <inheritdoc/>
    public void Dispose()
    {
        foreach (var row in Rows) row.Result.Dispose();
    }
}
