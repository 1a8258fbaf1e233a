namespace ResearchKit;

/// <summary>
/// An <see cref="IProgress{T}"/> that reports on the calling thread, in order (<see cref="Progress{T}"/> posts to the
/// thread pool, which reorders reports and outlives the work).
/// </summary>
public sealed class SynchronousProgress<T>(Action<T> report) : IProgress<T>
{
    /// <inheritdoc/>
    public void Report(T value) => report(value);
}
