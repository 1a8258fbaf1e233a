using System.CommandLine;
using ResearchKit.Cli;
using ResearchKit.Cli.Commands;

var root = new RootCommand("ResearchKit: see inside image networks — feature visualization, DeepDream and diagnostics")
{
    CommonOptions.Model, CommonOptions.Normalize, CommonOptions.Labels, CommonOptions.Kernels, CommonOptions.Force,
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
return CliRunner.Run(root, args);
