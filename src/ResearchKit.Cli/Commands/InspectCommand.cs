using System.CommandLine;
using System.Text.Json;
using ResearchKit.IO;
using ResearchKit.Models.Onnx;

namespace ResearchKit.Cli.Commands;

/// <summary><c>researchkit inspect M.onnx</c>: what an ONNX file holds and whether the kit can import it.</summary>
static class InspectCommand
{
    public static Command Create()
    {
        var file = new Argument<string>("model") { Description = "ONNX file to inspect" };
        var json = new Option<bool>("--json") { Description = "Print JSON" };
        var command = new Command("inspect",
            "Show an ONNX file's inputs, outputs, opset and operators, the operators the importer lacks (with their nodes), and taps worth probing")
            { file, json };
        command.SetAction(parse =>
        {
            var report = OnnxInspection.Of(parse.GetValue(file)!);
            if (parse.GetValue(json))
            {
                Console.WriteLine(JsonSerializer.Serialize(report, KitJson.Options));
                return 0;
            }
            string Values(IEnumerable<OnnxValueInfo> values) =>
                string.Join("; ", values.Select(v => $"{v.Name} {v.Type} [{string.Join(",", v.Shape)}]"));
            var opsets = string.Join(", ", report.Opsets.Select(o => o.Key.Length == 0 ? $"opset {o.Value}" : $"{o.Key} {o.Value}"));
            Console.WriteLine($"{report.File}: {(report.Producer.Length > 0 ? report.Producer : "unknown producer")}, {opsets}");
            Console.WriteLine($"inputs:  {Values(report.Inputs)}");
            Console.WriteLine($"outputs: {Values(report.Outputs)}");
            Console.WriteLine($"operators ({report.Operators.Sum(o => o.Value)} nodes): {string.Join(", ", report.Operators.Select(o => $"{o.Key} {o.Value}"))}");
            if (report.Unsupported.Count == 0) Console.WriteLine("unsupported operators: none");
            foreach (var op in report.Unsupported)
                Console.WriteLine($"unsupported operator {op.Op}: {op.Nodes.Count} node(s): {string.Join(", ", op.Nodes.Take(10))}{(op.Nodes.Count > 10 ? ", ..." : "")}");
            if (report.LoadError is { } error)
            {
                Console.WriteLine($"import: fails: {error}");
                if (report.Unsupported.Count > 0) Console.WriteLine("(docs/your-model.md says what to do about an unsupported operator)");
                return 0;
            }
            Console.WriteLine("import: ok");
            Console.WriteLine("suggested taps:");
            int width = Math.Max(16, report.Taps.Max(t => t.Tap.Length) + 2);
            foreach (var tap in report.Taps)
                Console.WriteLine($"  {tap.Tap.PadRight(width)}{string.Join("x", tap.Shape),-16} {tap.Reason}");
            return 0;
        });
        return command;
    }
}
