namespace ResearchKit.Native;

/// <summary>
/// Decides, around each piece of model work, whether libtorch may use its oneDNN kernels (off otherwise; see
/// <see cref="TorchRuntime"/>). The switch is process-wide, so scopes are exclusive: a model running on audited
/// oneDNN kernels never lets another thread's model use them for convolutions nobody audited. A thread may nest
/// scopes (a render callback that runs another model); the inner scope's choice holds until it is disposed.
/// </summary>
public static class OneDnn
{
    static readonly Lock Gate = new();
    static bool _enabled;

    /// <summary>
    /// Waits until no other thread holds a scope, then sets oneDNN on or off until the returned scope is disposed
    /// (on the same thread).
    /// </summary>
    public static IDisposable Use(bool enabled)
    {
        TorchRuntime.EnsureLoaded();
        Gate.Enter();
        var scope = new Scope(_enabled);
        Set(enabled);
        return scope;
    }

    /// <summary>True inside a scope that turned oneDNN on.</summary>
    public static bool IsEnabled => _enabled;

    static void Set(bool enabled)
    {
        if (enabled != _enabled) TorchRuntime.SetOneDnn(enabled);
        _enabled = enabled;
    }

    sealed class Scope(bool previous) : IDisposable
    {
        bool _disposed;

        public void Dispose()
        {
            if (_disposed) return;
            _disposed = true;
            Set(previous);
            Gate.Exit();
        }
    }
}
