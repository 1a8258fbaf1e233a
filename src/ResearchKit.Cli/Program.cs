using System.CommandLine;
using ResearchKit.Cli;
using ResearchKit.Cli.Commands;
using ResearchKit.Cli.Options;

var root = new RootCommand("ResearchKit: see inside image networks — feature visualization, DeepDream and diagnostics")
{
    LayersCommand.Create(),
    InspectCommand.Create(),
    ActivationsCommand.Create(),
    VisualizeCommand.Create(),
    PriorsCommand.Create(),
    DreamCommand.Create(),
    ZoomCommand.Create(),
    LayersSheetCommand.Create(),
    DiagnoseCommand.Create(),
    SaliencyCommand.Create(),
    ExamplesCommand.Create(),
    GalleryCommand.Create(),
    AtlasCommand.Create(),
    BenchCommand.Create(),
};
foreach (var option in ModelOptions.Global) root.Options.Add(option);
return CliRunner.Run(root, args);
