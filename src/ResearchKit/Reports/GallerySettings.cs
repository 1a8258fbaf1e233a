namespace ResearchKit.Reports;

/// <summary>How much work the gallery does; <see cref="Quick"/> is for tests and first looks.</summary>
/// <param name="Photo">Sample photo name or path the probes start from.</param>
/// <param name="Size">Side of each channel visualization, pixels.</param>
/// <param name="Steps">Optimizer steps per visualization.</param>
/// <param name="ChannelsPerBlock">Channels visualized per block (the ones the photo drives hardest).</param>
/// <param name="Presets">Prior presets compared side by side (null: all).</param>
/// <param name="DreamSide">Longer side of the photo for the layer-comparison dream.</param>
/// <param name="DreamOctaves">Octaves of the dream.</param>
/// <param name="DreamSteps">Steps per octave.</param>
/// <param name="Seed">Seed of every render.</param>
/// <param name="DumbbellEpochs">Training epochs of the dumbbell lab's classifiers (0 skips the lab).</param>
public sealed record GallerySettings(string Photo, int Size, int Steps, int ChannelsPerBlock, IReadOnlyList<string>? Presets,
    int DreamSide, int DreamOctaves, int DreamSteps, int Seed, int DumbbellEpochs)
{
    /// <summary>The full gallery: three channels per block at 160 px and 160 steps, every preset, the lab at its defaults.</summary>
    public static GallerySettings Full(int seed) => new("chelsea", 160, 160, 3, null, 336, 4, 10, seed, -1);

    /// <summary>A first look in about a minute: one channel per block, small images, few steps, three presets, a one-epoch lab.</summary>
    public static GallerySettings Quick(int seed) => new("chelsea", 80, 16, 1, ["None", "Lucid", "Bilateral"], 128, 2, 3, seed, 1);
}
