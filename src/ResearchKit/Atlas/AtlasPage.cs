using System.Globalization;
using System.Net;
using System.Text;
using ResearchKit.IO;
using ResearchKit.Reports;
using ResearchKit.Rendering;

namespace ResearchKit.Atlas;

/// <summary>
/// The atlas page (<c>index.html</c>): a grid of every channel; clicking one shows its large image, settings,
/// objective curve and dataset examples. Everything is inline or beside the page, so it opens from disk offline.
/// </summary>
public static class AtlasPage
{
    /// <summary>The page for <paramref name="manifest"/>, with each channel's objective curve.</summary>
    /// <param name="charts">Draws the curves (its script defines <c>window.Plotly</c>); null leaves the curves out.</param>
    public static string Build(AtlasManifest manifest, IReadOnlyDictionary<int, IReadOnlyList<double>> curves, IReportCharts? charts)
    {
        var settings = manifest.Settings;
        var data = new
        {
            model = manifest.Model,
            settings,
            shards = manifest.Shards,
            channels = manifest.Channels.Select(c => new
            {
                c.Channel, c.Image, c.Sidecar, c.FinalActivation, c.DatasetMax, c.Examples, c.Stop,
                curve = curves.TryGetValue(c.Channel, out var curve) ? curve : [],
            }),
        };
        // "<" escaped so no value can end the script element.
        string json = KitJson.Serialize(data).Replace("<", "\\u003c");
        var grid = new StringBuilder("<div class=\"grid\" style=\"--cell:112px\">");
        foreach (var c in manifest.Channels)
        {
            string flag = c.Stop == RenderStop.Completed ? "" : $"<p class=\"flag\">{HtmlPage.Text(c.Stop.ToString())}</p>";
            grid.AppendLine($"""<figure class="cell{(flag.Length > 0 ? " flagged" : "")}" role="button" tabindex="0" onclick="show({c.Channel})">{flag}<img src="{WebUtility.HtmlEncode(c.Image)}" alt="channel {c.Channel}" loading="lazy"><figcaption>{c.Channel} · {c.FinalActivation.ToString("0.##", CultureInfo.InvariantCulture)}</figcaption></figure>""");
        }
        grid.Append("</div>");
        string missing = manifest.Missing.Count > 0 ? HtmlPage.Warning($"Missing channels: {AtlasSettings.FormatChannels(manifest.Missing)}") : "";
        string description = $"Preset {settings.Preset}, {settings.Width}x{settings.Height} px, " +
            $"{(settings.Steps is { } s ? $"{s} steps" : "the preset's steps")}, seed {settings.Seed}, batch {settings.Batch}; " +
            $"shards {string.Join(", ", manifest.Shards)}. Click a channel for its large image, curve, dataset examples and settings.";
        return new HtmlPage($"{manifest.Model} {settings.Layer}: {manifest.Channels.Count} channels")
            .Head(charts?.Script ?? "")
            .Head(Script)
            .Lead(HtmlPage.Text(description))
            .Section("channels", "Channels", missing + Detail + grid + $"<script type=\"application/json\" id=\"atlas-data\">{json}</script>")
            .Build();
    }

    const string Detail = """
        <section id="detail" hidden>
        <h3 id="detail-title"></h3>
        <img id="detail-image" alt="" style="width:min(448px,100%)">
        <p id="detail-values"></p>
        <div id="detail-chart" class="researchkit-chart"></div>
        <div id="examples" class="grid" style="--cell:96px"></div>
        <details><summary>Settings</summary><pre id="detail-settings"></pre><p><a id="detail-sidecar">sidecar JSON</a></p></details>
        </section>
        """;

    const string Script = """
        <style>.cell { cursor: pointer; } .cell:focus { outline: 2px solid #2f80ed; }</style>
        <script>
        function show(channel) {
          var atlas = JSON.parse(document.getElementById('atlas-data').textContent);
          var c = atlas.channels.find(function (x) { return x.channel === channel; });
          var detail = document.getElementById('detail');
          detail.hidden = false;
          document.getElementById('detail-title').textContent = atlas.settings.layer + ' channel ' + channel + (c.stop === 'completed' ? '' : ' (' + c.stop + ')');
          document.getElementById('detail-image').src = c.image;
          document.getElementById('detail-values').textContent = 'final activation ' + c.finalActivation.toFixed(3) +
            (c.datasetMax === null ? '' : ' (largest over the photos: ' + c.datasetMax.toFixed(3) + ')');
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
            caption.textContent = e.source + ': ' + e.activation.toFixed(3);
            figure.appendChild(img);
            figure.appendChild(caption);
            examples.appendChild(figure);
          });
          var chart = document.getElementById('detail-chart');
          if (window.Plotly && c.curve.length > 0) {
            window.Plotly.newPlot(chart, [{ y: c.curve, x: c.curve.map(function (_, i) { return i + 1; }), type: 'scatter', mode: 'lines', name: 'channel ' + channel }],
              { title: { text: 'Objective per step' }, xaxis: { title: { text: 'step' } }, yaxis: { title: { text: 'activation' } }, height: 320, showlegend: false }, { responsive: true, displaylogo: false });
          } else chart.textContent = '';
          detail.scrollIntoView();
        }
        document.addEventListener('keydown', function (e) {
          if (e.key === 'Enter' && e.target.classList && e.target.classList.contains('cell')) e.target.click();
        });
        </script>
        """;
}
