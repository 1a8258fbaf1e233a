using System.Globalization;
using ResearchKit.IO;
using ResearchKit.Reports;

namespace ResearchKit.Atlas;

/// <summary>
/// The atlas page (<c>index.html</c>): a grid of every channel, each linking its settings and flagged when its render
/// did not complete; clicking one shows its large image, objective curve, dataset examples and settings (the address
/// <c>#channel-7</c> opens channel 7). Everything is inline or beside the page, so it opens from disk offline.
/// </summary>
public static class AtlasPage
{
    /// <summary>The page for <paramref name="manifest"/>, with each channel's objective curve.</summary>
    /// <param name="charts">Draws the curves (its script defines <c>window.Plotly</c>); null leaves the curves out.</param>
    public static string Build(AtlasManifest manifest, IReadOnlyDictionary<int, IReadOnlyList<double>> curves, IReportCharts? charts)
    {
        var settings = manifest.Settings;
        IReadOnlyList<double> Curve(AtlasChannel c) => curves.TryGetValue(c.Channel, out var curve) ? curve : [];
        var flags = manifest.Channels.ToDictionary(c => c.Channel, c => RenderFlag.For(c.Stop, Curve(c).Count));
        var data = new
        {
            model = manifest.Model,
            settings,
            shards = manifest.Shards,
            channels = manifest.Channels.Select(c => new
            {
                c.Channel, c.Image, c.Sidecar, c.FinalActivation, c.DatasetMax, c.Examples, flag = flags[c.Channel],
                curve = Curve(c),
            }),
        };
        // "<" escaped so no value can end the script element.
        string json = KitJson.Serialize(data).Replace("<", "\\u003c");
        var grid = HtmlPage.Grid(manifest.Channels.Select(c => HtmlPage.Figure(c.Image,
            $"channel {c.Channel}: {c.FinalActivation.ToString("0.##", CultureInfo.InvariantCulture)}", c.Sidecar, flags[c.Channel],
            link: $"#channel-{c.Channel}", id: $"channel-{c.Channel}")), minWidth: 112);
        string missing = manifest.Missing.Count > 0 ? HtmlPage.Warning($"Missing channels: {AtlasSettings.FormatChannels(manifest.Missing)}") : "";
        string description = $"Preset {settings.Preset}, {settings.Width}x{settings.Height} px, " +
            $"{(settings.Steps is { } s ? $"{s} steps" : "the preset's steps")}, seed {settings.Seed}, batch {settings.Batch}; " +
            $"shards {string.Join(", ", manifest.Shards)}. Each caption gives the channel and the activation its image reached; " +
            "click a channel for its large image, curve, dataset examples and settings.";
        return new HtmlPage($"{manifest.Model} {settings.Layer}: {manifest.Channels.Count} channels")
            .Head(charts?.Script ?? "")
            .Head(Script)
            .Lead(HtmlPage.Text(description))
            .Section("channels", "Channels", missing + Detail + grid + $"<script type=\"application/json\" id=\"atlas-data\">{json}</script>")
            .Section("settings", "Settings", HtmlPage.Table(["setting", "value"], SettingsRows(manifest)) +
                "<p>Every channel's settings, seed and objective curve are in its JSON sidecar (the <i>settings</i> link under it); " +
                $"the whole atlas in <a href=\"{AtlasManifest.FileName}\">{AtlasManifest.FileName}</a>.</p>")
            .Build();
    }

    static IEnumerable<IReadOnlyList<string>> SettingsRows(AtlasManifest manifest)
    {
        var s = manifest.Settings;
        yield return ["model", manifest.Model];
        yield return ["layer", s.Layer];
        yield return ["channels", AtlasSettings.FormatChannels(s.Channels)];
        yield return ["prior preset", s.Preset];
        yield return ["steps", s.Steps is { } steps ? steps.ToString(CultureInfo.InvariantCulture) : "the preset's"];
        yield return ["size", $"{s.Width}x{s.Height} px (width x height)"];
        yield return ["seed", $"{s.Seed} (a batch's seed is this plus its first channel)"];
        yield return ["batch", s.Batch.ToString(CultureInfo.InvariantCulture)];
        yield return ["dataset photos", s.Images ?? "none"];
    }

    const string Detail = """
        <section id="detail" hidden>
        <h3 id="detail-title"></h3>
        <p id="detail-flag" class="warning" hidden></p>
        <img id="detail-image" alt="" style="width:min(448px,100%)">
        <p id="detail-values"></p>
        <div id="detail-chart" class="researchkit-chart"></div>
        <div id="examples" class="grid" style="--cell:96px"></div>
        <details><summary>Settings</summary><pre id="detail-settings"></pre><p><a id="detail-sidecar">sidecar JSON</a></p></details>
        </section>
        """;

    const string Script = """
        <style>#detail { border: 1px solid var(--line); padding: 0 1em 1em; margin-bottom: 1.5em; }</style>
        <script>
        function show(channel) {
          var atlas = JSON.parse(document.getElementById('atlas-data').textContent);
          var c = atlas.channels.find(function (x) { return x.channel === channel; });
          if (!c) return;
          var detail = document.getElementById('detail');
          detail.hidden = false;
          document.getElementById('detail-title').textContent = atlas.settings.layer + ' channel ' + channel;
          var flag = document.getElementById('detail-flag');
          flag.hidden = !c.flag;
          flag.textContent = c.flag ? c.flag.explanation : '';
          document.getElementById('detail-image').src = c.image;
          document.getElementById('detail-values').textContent = 'final activation ' + Number(c.finalActivation).toFixed(3) +
            (c.datasetMax === null ? '' : ' (largest over the photos: ' + Number(c.datasetMax).toFixed(3) + ')');
          document.getElementById('detail-settings').textContent = JSON.stringify({ model: atlas.model, settings: atlas.settings }, null, 2);
          document.getElementById('detail-sidecar').href = c.sidecar;
          var examples = document.getElementById('examples');
          examples.innerHTML = '';
          c.examples.forEach(function (e) {
            var figure = document.createElement('figure');
            var img = document.createElement('img');
            img.src = e.image;
            img.alt = e.source;
            var caption = document.createElement('figcaption');
            caption.textContent = e.source + ': ' + Number(e.activation).toFixed(3);
            figure.appendChild(img);
            figure.appendChild(caption);
            examples.appendChild(figure);
          });
          var chart = document.getElementById('detail-chart');
          chart.hidden = !(window.Plotly && c.curve.length > 0);
          if (!chart.hidden)
            window.Plotly.newPlot(chart, [{ y: c.curve, x: c.curve.map(function (_, i) { return i + 1; }), type: 'scatter', mode: 'lines', name: 'channel ' + channel }],
              { title: { text: 'Objective per step' }, xaxis: { title: { text: 'step' } }, yaxis: { title: { text: 'activation' } }, height: 320, showlegend: false },
              { responsive: true, displaylogo: false });
          detail.scrollIntoView();
        }
        function showFromAddress() {
          var match = /^#channel-(\d+)$/.exec(location.hash);
          if (match) show(Number(match[1]));
        }
        window.addEventListener('hashchange', showFromAddress);
        // A second click on the channel already in the address changes no hash.
        document.addEventListener('click', function (e) {
          if (e.target.closest && e.target.closest('a[href^="#channel-"]')) setTimeout(showFromAddress);
        });
        window.addEventListener('DOMContentLoaded', showFromAddress);
        </script>
        """;
}
