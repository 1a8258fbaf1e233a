using System.Reflection;
using System.Runtime.ExceptionServices;

namespace ResearchKit.Interactive;

/// <summary>
/// Calls ResearchKit.Charts inside its <see cref="ChartsLoadContext"/> by reflection. Arguments and results are
/// framework types (strings, arrays, dictionaries); a chart stays an opaque object of the other context.
/// </summary>
sealed class ChartsBridge
{
    static readonly Lazy<ChartsBridge> SharedInstance = new(() => new ChartsBridge(ChartsLoadContext.FindFolder()));

    readonly Type _chart, _page, _figure;
    readonly MethodInfo _fragment, _loader;

    /// <summary>The bridge every ResearchKit.Interactive chart goes through (in a notebook and in tests alike).</summary>
    public static ChartsBridge Shared => SharedInstance.Value;

    public ChartsLoadContext Context { get; }

    ChartsBridge(string folder)
    {
        Context = new ChartsLoadContext(folder);
        try
        {
            var assembly = Context.LoadFromAssemblyPath(Path.Combine(folder, "ResearchKit.Charts.dll"));
            _chart = assembly.GetType("ResearchKit.Charts.Chart", throwOnError: true)!;
            _page = assembly.GetType("ResearchKit.Charts.ChartPage", throwOnError: true)!;
            _figure = assembly.GetType("ResearchKit.Charts.Figure", throwOnError: true)!;
            _fragment = _figure.GetMethod("ToHtmlFragment")!;
            _loader = assembly.GetType("ResearchKit.Charts.PlotlyJs", throwOnError: true)!.GetMethod("LoaderHtml")!;
        }
        catch (Exception e) when (e is not ChartsUnavailableException)
        {
            throw new ChartsUnavailableException($"ResearchKit.Charts could not be loaded from {folder}: {e.Message}", e);
        }
    }

    /// <summary>Calls the chart factory <c>ResearchKit.Charts.Chart.{name}</c>; returns the figure (an object of the other context).</summary>
    public object Chart(string name, params object?[] arguments) =>
        Invoke(_chart.GetMethod(name, BindingFlags.Public | BindingFlags.Static)
               ?? throw new MissingMethodException("ResearchKit.Charts.Chart", name), null, arguments)!;

    public string Fragment(object figure, string? elementId = null) => (string)Invoke(_fragment, figure, [elementId])!;

    public string Json(object figure) => (string)_figure.GetProperty("Json")!.GetValue(figure)!;

    public string Title(object figure) => (string)_figure.GetProperty("Title")!.GetValue(figure)!;

    public string Page(string title, IReadOnlyList<object> figures)
    {
        var typed = Array.CreateInstance(_figure, figures.Count);
        for (int i = 0; i < figures.Count; i++) typed.SetValue(figures[i], i);
        var build = _page.GetMethod("Build", [typeof(string), typeof(IEnumerable<>).MakeGenericType(_figure)])!;
        return (string)Invoke(build, null, [title, typed])!;
    }

    public string PlotlyLoaderHtml() => (string)Invoke(_loader, null, [])!;

    static object? Invoke(MethodInfo method, object? target, object?[] arguments)
    {
        try { return method.Invoke(target, arguments); }
        catch (TargetInvocationException e) when (e.InnerException is not null)
        {
            ExceptionDispatchInfo.Capture(e.InnerException).Throw();
            throw;
        }
    }
}
