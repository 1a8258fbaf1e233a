namespace ResearchKit.Diagnostics;

/// <summary>
/// The colour ranges of the synthetic world. Skin tones (the planted feature) occupy hues 14–30° with moderate
/// saturation; object colours keep well away from them (hues 75–320°) and backgrounds are nearly grey, so the arm is
/// the only skin-coloured thing in any image and <see cref="PlantedFeature"/> can recognise it by colour.
/// </summary>
static class Palette
{
    public static (float R, float G, float B) Skin(Random random) =>
        Hsv(Uniform(random, 14, 30), Uniform(random, 0.35, 0.6), Uniform(random, 0.5, 0.95));

    /// <summary>An object colour whose value differs from the background's by at least 0.25, so the shape stands out.</summary>
    public static (float R, float G, float B) Object(Random random, double backgroundValue)
    {
        double value = backgroundValue > 0.5 ? Uniform(random, 0.1, backgroundValue - 0.25) : Uniform(random, backgroundValue + 0.25, 1);
        return Hsv(Uniform(random, 75, 320), Uniform(random, 0.5, 0.95), value);
    }

    public static (float R, float G, float B) Background(Random random, double value) =>
        Hsv(Uniform(random, 0, 360), Uniform(random, 0, 0.12), value);

    public static double Uniform(Random random, double low, double high) => low + (high - low) * random.NextDouble();

    /// <summary>HSV (hue in degrees, saturation and value in [0,1]) to RGB.</summary>
    public static (float R, float G, float B) Hsv(double hue, double saturation, double value)
    {
        double h = ((hue % 360) + 360) % 360 / 60;
        double c = value * saturation;
        double x = c * (1 - Math.Abs(h % 2 - 1));
        var (r, g, b) = (int)h switch
        {
            0 => (c, x, 0.0),
            1 => (x, c, 0.0),
            2 => (0.0, c, x),
            3 => (0.0, x, c),
            4 => (x, 0.0, c),
            _ => (c, 0.0, x),
        };
        double m = value - c;
        return ((float)(r + m), (float)(g + m), (float)(b + m));
    }
}
