using static TorchSharp.torch;

namespace ResearchKit.Diagnostics;

/// <summary>Sets TorchSharp's CPU thread count for a while and restores it on dispose.</summary>
static class TorchThreads
{
    public static IDisposable Use(int? threads)
    {
        int previous = get_num_threads();
        if (threads is { } count && count != previous) set_num_threads(count);
        return new Restore(previous);
    }

    sealed class Restore(int previous) : IDisposable
    {
        public void Dispose()
        {
            if (get_num_threads() != previous) set_num_threads(previous);
        }
    }
}
