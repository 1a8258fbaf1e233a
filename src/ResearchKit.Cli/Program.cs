using System.CommandLine;
using System.Diagnostics;
using ResearchKit.Cli;
using ResearchKit.Cli.Commands;
using ResearchKit.Cli.Options;
using ResearchKit.Models.Execution;

// Convolution audits run in a child (this program again), so that a oneDNN kernel that crashes takes only the child down.
const string auditChild = "audit-convolutions";
if (args is [auditChild]) return ConvolutionAudit.ServeChild(Console.In, Console.Out);
ConvolutionAudit.ChildProcess = () =>
{
    var start = new ProcessStartInfo(Environment.ProcessPath!);
    if (Path.GetFileNameWithoutExtension(Environment.ProcessPath) == "dotnet") start.ArgumentList.Add(typeof(CliRunner).Assembly.Location);
    start.ArgumentList.Add(auditChild);
    return start;
};

var root = new RootCommand("ResearchKit: see inside image networks — feature visualization, DeepDream and diagnostics")
{
    LayersCommand.Create(),
    InspectCommand.Create(),
    ActivationsCommand.Create(),
    VisualizeCommand.Create(),
    InvertCommand.Create(),
    CaricatureCommand.Create(),
    PriorsCommand.Create(),
    DreamCommand.Create(),
    ZoomCommand.Create(),
    LayersSheetCommand.Create(),
    DiagnoseCommand.Create(),
    SaliencyCommand.Create(),
    ExamplesCommand.Create(),
    GalleryCommand.Create(),
    AtlasCommand.Create(),
    SilentUnitsCommand.Create(),
    BenchCommand.Create(),
};
foreach (var option in ModelOptions.Global) root.Options.Add(option);
return CliRunner.Run(root, args);
