namespace ResearchKit.Diagnostics;

/// <summary>The random choices behind a batch of synthetic images of one class, one array entry per image.</summary>
sealed record ScenePlan(
    int ClassIndex,
    float[] CenterX, float[] CenterY, float[] Angle, float[] Scale, float[] Stretch, float[] Bulk,
    (float R, float G, float B)[] ObjectColour, float[] ShadeAngle, float[] ObjectVisible,
    (float R, float G, float B)[] BackgroundColour, float[] GradientAngle, float[] GradientStrength, float[] TextureStrength,
    float[] HasArm, float[] Grip, float[] ArmAngle, (float R, float G, float B)[] SkinColour)
{
    public int Count => CenterX.Length;

    public static ScenePlan Sample(Random random, int classIndex, int count, int imageSize, double plantedProbability)
    {
        float[] Each(Func<float> f) => Enumerable.Range(0, count).Select(_ => f()).ToArray();
        float U(double low, double high) => (float)Palette.Uniform(random, low, high);
        // Each property draws all images' values in turn, so adding a property never changes the earlier ones.
        var backgroundValues = Each(() => U(0.2, 0.8));
        var backgrounds = backgroundValues.Select(v => Palette.Background(random, v)).ToArray();
        var objectColours = backgroundValues.Select(v => Palette.Object(random, v)).ToArray();
        return new ScenePlan(
            classIndex,
            CenterX: Each(() => U(0.38, 0.62) * imageSize),
            CenterY: Each(() => U(0.38, 0.62) * imageSize),
            Angle: Each(() => U(0, 2 * Math.PI)),
            Scale: Each(() => U(1.0, 1.4)),
            Stretch: Each(() => U(0.85, 1.15)),
            Bulk: Each(() => U(0.85, 1.15)),
            ObjectColour: objectColours,
            ShadeAngle: Each(() => U(0, 2 * Math.PI)),
            ObjectVisible: Each(() => 1f),
            BackgroundColour: backgrounds,
            GradientAngle: Each(() => U(0, 2 * Math.PI)),
            GradientStrength: Each(() => U(0, 0.3)),
            TextureStrength: Each(() => U(0.2, 1)),
            HasArm: Each(() => random.NextDouble() < plantedProbability ? 1f : 0f),
            Grip: Each(() => U(-0.05, 0.05)),
            // Roughly perpendicular to the bar, on either side.
            ArmAngle: Each(() => (random.Next(2) == 0 ? 1 : -1) * U(Math.PI / 2 - 0.6, Math.PI / 2 + 0.6)),
            SkinColour: Enumerable.Range(0, count).Select(_ => Palette.Skin(random)).ToArray());
    }

    public ScenePlan Slice(int start, int count)
    {
        T[] Part<T>(T[] values) => values[start..(start + count)];
        return new ScenePlan(ClassIndex, Part(CenterX), Part(CenterY), Part(Angle), Part(Scale), Part(Stretch), Part(Bulk),
            Part(ObjectColour), Part(ShadeAngle), Part(ObjectVisible), Part(BackgroundColour), Part(GradientAngle),
            Part(GradientStrength), Part(TextureStrength), Part(HasArm), Part(Grip), Part(ArmAngle), Part(SkinColour));
    }

    public ScenePlan WithoutArms() => this with { HasArm = new float[Count] };

    public ScenePlan WithoutObjects() => this with { ObjectVisible = new float[Count] };
}
