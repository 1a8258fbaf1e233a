namespace ResearchKit.Cli;

/// <summary>Reads a labels file: one class label per line, blank lines ignored.</summary>
static class ClassLabelFile
{
    public static IReadOnlyList<string> Read(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: labels file not found");
        var labels = File.ReadAllLines(path).Select(l => l.Trim()).Where(l => l.Length > 0).ToList();
        if (labels.Count == 0) throw new InvalidDataException($"{path}: labels file has no labels");
        return labels;
    }
}
