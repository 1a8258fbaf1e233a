using ResearchKit.Models;
using ResearchKit.Models.Execution;
using ResearchKit.Models.Onnx;

namespace ResearchKit.Tests.Execution;

/// <summary>
/// Loads models in a mode whatever the CPU: tests check bfloat16's numbers, which emulation on a CPU without bfloat16
/// arithmetic computes as well (slowly), where a user's model would run float32 instead.
/// </summary>
static class ModesForTests
{
    public static OnnxModel Load(string file, ExecutionMode mode)
    {
        var model = OnnxModel.Load(file, InputNormalization.None, execution: ExecutionMode.Exact);
        model.UseExecution(mode, evenIfEmulated: true);
        return model;
    }
}
