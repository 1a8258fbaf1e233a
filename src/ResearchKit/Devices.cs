using static TorchSharp.torch;

namespace ResearchKit;

/// <summary>Device comparison: TorchSharp's <see cref="Device"/> compares by reference.</summary>
internal static class Devices
{
    /// <summary>Whether two devices are the same type and index.</summary>
    public static bool Same(Device a, Device b) => a.type == b.type && a.index == b.index;
}
