using ResearchKit.IO;
using System.Net;
using System.Text;
using System.Text.Json;
using ResearchKit.Rendering;

namespace ResearchKit.Atlas;

/// <summary>
/// The atlas page (<c>index.html</c>): a grid of every channel; clicking one shows its large image, settings,
/// objective curve and dataset examples. Everything is inline or beside the page, so it opens from disk offline.
/// </summary>
public static class AtlasPage
{
    /// <summary>The page for <paramref name="manifest"/>, with each channel's objective curve.</summary>
    /// <param name="plotlyScript">A <c>script</c> element defining <c>window.Plotly</c>; null leaves the curves out.</param>
    public static string Build(AtlasManifest manifest, IReadOnlyDictionary<int, IReadOnlyList<double>> curves, string? plotlyScript)
    {
        var settings = manifest.Settings;
        string title = $"{manifest.Model} {settings.Layer}: {manifest.Channels.Count} channels";
        var data = new
        {
            model = manifest.Model,
            settings,
            shards = manifest.Shards,
            channels = manifest.Channels.Select(c => new
            {
                c.Channel, c.Image, c.Sidecar, c.FinalActivation, c.DatasetMax, c.Examples,
                curve = curves.TryGetValue(c.Channel, out var curve) ? curve : [],
            }),
        };
        // "<" escaped so no value can end the script element.
        string json = JsonSerializer.Serialize(data, KitJson.Options).Replace("<", "\\u003c");
        var grid = new StringBuilder();
        foreach (var c in manifest.Channels)
            grid.AppendLine($"""<button class="cell" onclick="show({c.Channel})"><img src="{WebUtility.HtmlEncode(c.Image)}" alt="channel {c.Channel}" loading="lazy"><span>{c.Channel} · {c.FinalActivation:0.##}</span></button>""");
        string missing = manifest.Missing.Count > 0
            ? $"<p class=\"warn\">Missing channels: {AtlasSettings.FormatChannels(manifest.Missing)}</p>"
            : "";
        return $$"""
            <!DOCTYPE html>
            <html lang="en">
            <head>
            <meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>{{WebUtility.HtmlEncode(title)}}</title>
            <style>
            body { font-family: sans-serif; margin: 1.5em; }
            .grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(96px, 1fr)); gap: 6px; }
            .cell { border: 1px solid #ccc; background: #fff; padding: 2px; cursor: pointer; font-size: 12px; }
            .cell img { width: 100%; image-rendering: auto; display: block; }
            #detail { display: none; border: 1px solid #888; padding: 1em; margin: 1em 0; }
            #detail img.large { width: min(448px, 100%); }
            #examples img { height: 96px; margin-right: 4px; }
            .warn { color: #a00; }
            pre { background: #f4f4f4; padding: .5em; overflow-x: auto; }
            </style>
            {{plotlyScript ?? ""}}
            </head>
            <body>
            <h1>{{WebUtility.HtmlEncode(title)}}</h1>
            <p>Preset {{WebUtility.HtmlEncode(settings.Preset)}}, {{settings.Size}} px, {{(settings.Steps is { } s ? $"{s} steps" : "the preset's steps")}}, seed {{settings.Seed}}, batch {{settings.Batch}}; shards {{WebUtility.HtmlEncode(string.Join(", ", manifest.Shards))}}. Click a channel.</p>
            {{missing}}
            <section id="detail">
            <h2 id="detail-title"></h2>
            <img class="large" id="detail-image" alt="">
            <p id="detail-values"></p>
            <div id="detail-chart"></div>
            <div id="examples"></div>
            <details><summary>Settings</summary><pre id="detail-settings"></pre></details>
            </section>
            <div class="grid">
            {{grid}}
            </div>
            <script type="application/json" id="atlas-data">{{json}}</script>
            <script>
            var atlas = JSON.parse(document.getElementById('atlas-data').textContent);
            function show(channel) {
              var c = atlas.channels.find(function (x) { return x.channel === channel; });
              var detail = document.getElementById('detail');
              detail.style.display = 'block';
              document.getElementById('detail-title').textContent = atlas.settings.layer + ' channel ' + channel;
              document.getElementById('detail-image').src = c.image;
              document.getElementById('detail-values').textContent = 'final activation ' + c.finalActivation.toFixed(3) +
                (c.datasetMax === null ? '' : ' (largest over the photos: ' + c.datasetMax.toFixed(3) + ')');
              document.getElementById('detail-settings').textContent = JSON.stringify({ model: atlas.model, settings: atlas.settings, sidecar: c.sidecar }, null, 2);
              var examples = document.getElementById('examples');
              examples.innerHTML = '';
              c.examples.forEach(function (e) {
                var img = document.createElement('img');
                img.src = e.image;
                img.title = e.source + ': ' + e.activation.toFixed(3);
                examples.appendChild(img);
              });
              var chart = document.getElementById('detail-chart');
              if (window.Plotly && c.curve.length > 0) {
                window.Plotly.newPlot(chart, [{ y: c.curve, x: c.curve.map(function (_, i) { return i + 1; }), type: 'scatter', mode: 'lines', name: 'channel ' + channel }],
                  { title: 'Objective per step', xaxis: { title: 'step' }, yaxis: { title: 'activation' }, height: 320 }, { responsive: true });
              } else chart.textContent = '';
              detail.scrollIntoView();
            }
            </script>
            </body>
            </html>
            """;
    }
}
