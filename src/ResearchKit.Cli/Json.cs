using System.Text.Json;

namespace ResearchKit.Cli;

static class Json
{
    public static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };
}
