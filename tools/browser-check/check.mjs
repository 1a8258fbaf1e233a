// Opens HTML files in headless Chromium with every network request refused, and fails unless each page loads with
// no console error, no attempt to reach the network, every <img> decoded, every ResearchKit chart drawn by plotly.js
// and every relative link pointing at a file or element that exists.
//
//   node check.mjs [--min-images N] [--min-charts N] [--min-flagged N] [--late-plotly] [--layout WxH,...] [--click SELECTOR] FILE.html...
//
// Options apply to the files after them. The minimums are per file; --min-flagged counts the renders the page flags
// (elements of class "flagged": renders that did not complete). --late-plotly also checks a copy of each file with
// ResearchKit's plotly.js loader moved to the end of the body: charts that run before plotly.js must wait and draw.
// --layout opens the file at each window size (e.g. 1366x768,1920x1080, real scrollbars) and also fails on horizontal
// scrolling, a chart wider than its box, and a Plotly legend clipped by its chart or the window; it prints the flagged
// renders and saves a full-page screenshot of each size to
// <the file's folder>/screenshots/<name>-<W>x<H>.png. --click clicks the first element matching SELECTOR after loading
// (e.g. an atlas channel, to open its detail) and checks again what appeared.
// Chromium is the system's (CHROMIUM, else /usr/bin/chromium).
import { chromium } from 'playwright-core';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const args = process.argv.slice(2);
const files = [];  // { path, images, charts, flagged, layout, click }
const options = { images: 0, charts: 0, flagged: 0, latePlotly: false, layout: null, click: null };
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--min-images') options.images = Number(args[++i]);
  else if (args[i] === '--min-charts') options.charts = Number(args[++i]);
  else if (args[i] === '--min-flagged') options.flagged = Number(args[++i]);
  else if (args[i] === '--late-plotly') options.latePlotly = true;
  else if (args[i] === '--layout') options.layout = parseSizes(args[++i]);
  else if (args[i] === '--click') options.click = args[++i];
  else {
    const { latePlotly, ...settings } = options;
    files.push({ ...settings, path: args[i] });
    if (latePlotly) files.push({ ...settings, path: withPlotlyLast(args[i]) });
  }
}
if (files.length === 0) {
  console.error('usage: node check.mjs [--min-images N] [--min-charts N] [--min-flagged N] [--late-plotly] [--layout WxH,...] [--click SELECTOR] FILE.html...');
  process.exit(2);
}

const executablePath = process.env.CHROMIUM || '/usr/bin/chromium';
if (!existsSync(executablePath)) {
  console.error(`Chromium not found at ${executablePath} (install Debian's chromium or set CHROMIUM)`);
  process.exit(2);
}

// Real scrollbars: a page whose vertical scrollbar appears after the charts are drawn must not scroll sideways.
const browser = await chromium.launch({ executablePath, args: ['--no-sandbox', '--disable-gpu'], ignoreDefaultArgs: ['--hide-scrollbars'] });
let failed = 0;
try {
  for (const file of files) {
    const problems = [];
    for (const viewport of file.layout ?? [{ width: 1200, height: 900 }])
      for (const p of await check(file, viewport)) problems.push(file.layout ? `${viewport.width}x${viewport.height}: ${p}` : p);
    if (problems.length) {
      failed++;
      console.error(`FAIL ${file.path}`);
      for (const p of problems) console.error(`  - ${p}`);
    }
  }
} finally {
  await browser.close();
}
console.log(`${files.length - failed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);

function parseSizes(text) {
  return text.split(',').map(size => {
    const match = /^(\d+)x(\d+)$/.exec(size.trim());
    if (!match) throw new Error(`--layout takes window sizes like 1366x768,1920x1080; got "${size}"`);
    return { width: Number(match[1]), height: Number(match[2]) };
  });
}

function withPlotlyLast(file) {
  const html = readFileSync(file, 'utf8');
  const start = html.indexOf('<script type="text/javascript">\nif (!window.Plotly) {');
  const end = html.indexOf('</script>', start) + '</script>'.length;
  if (start < 0 || !html.includes('</body>')) throw new Error(`${file} has no ResearchKit plotly.js loader and body to move it to`);
  const loader = html.slice(start, end);
  const moved = (html.slice(0, start) + html.slice(end)).replace('</body>', () => loader + '\n</body>');
  const copy = file.replace(/\.html$/, '') + '.late-plotly.html';
  writeFileSync(copy, moved);
  return copy;
}

async function check({ path: file, images: minImages, charts: minCharts, flagged: minFlagged, layout, click }, viewport) {
  const problems = [];
  const context = await browser.newContext({ offline: true, viewport });
  const page = await context.newPage();
  page.setDefaultTimeout(60_000);
  await page.route('**/*', route => {
    const url = route.request().url();
    if (url.startsWith('file:') || url.startsWith('data:')) return route.continue();
    problems.push(`network request: ${url}`);
    return route.abort();
  });
  page.on('console', message => { if (message.type() === 'error') problems.push(`console error: ${message.text()}`); });
  page.on('pageerror', error => problems.push(`script error: ${error.message}`));

  try {
    await page.goto(pathToFileURL(resolve(file)).href, { waitUntil: 'load' });
    let found = await inspect(page);
    if (click) {
      if (await page.locator(click).count() === 0) problems.push(`nothing to click: no element matches ${click}`);
      else {
        await page.locator(click).first().click();
        found = await inspect(page);
      }
    }
    for (const alt of found.brokenImages) problems.push(`image did not load: ${alt}`);
    for (const id of found.undrawnCharts) problems.push(`chart not drawn: #${id} (plotly.js ${found.plotly ?? 'missing'})`);
    for (const link of found.links) {
      const target = link.split('#')[0];
      if (target.startsWith('file:') && !existsSync(fileURLToPath(target))) problems.push(`link to a missing file: ${decodeURI(target)}`);
    }
    for (const id of found.missingAnchors) problems.push(`link to a missing element: #${id}`);
    if (found.images < minImages) problems.push(`${found.images} images, expected at least ${minImages}`);
    if (found.charts < minCharts) problems.push(`${found.charts} charts, expected at least ${minCharts}`);
    if (found.flagged.length < minFlagged) problems.push(`${found.flagged.length} flagged renders, expected at least ${minFlagged}`);
    if (layout) {
      if (found.pageWidth > found.windowWidth)
        problems.push(`horizontal scrolling: the page is ${found.pageWidth} px wide in a ${found.windowWidth} px window (${found.widest.join('; ')})`);
      for (const chart of found.plots) {
        if (chart.svgWidth > chart.boxWidth + 1) problems.push(`chart #${chart.id} is ${chart.svgWidth} px wide in a ${chart.boxWidth} px box`);
        if (chart.legend) problems.push(`chart #${chart.id}: legend clipped (${chart.legend})`);
      }
      const size = `${viewport.width}x${viewport.height}`;
      console.log(`${file} at ${size}: ${found.flagged.length} flagged render(s)${found.flagged.map(f => `\n  flagged: ${f}`).join('')}`);
      const folder = join(dirname(file), 'screenshots');
      mkdirSync(folder, { recursive: true });
      const shot = join(folder, `${basename(file, '.html')}-${size}.png`);
      await page.screenshot({ path: shot, fullPage: true });
      console.log(`  screenshot ${shot}`);
    }
    console.log(`${file}: ${found.images} images, ${found.charts} charts, plotly.js ${found.plotly ?? 'absent'}`);
  } catch (error) {
    problems.push(`could not check the page: ${error.message.split('\n')[0]}`);
  } finally {
    await context.close();
  }
  return problems;
}

// Everything measured in the page, after lazy images are loaded and plotly.js has drawn (and reflowed on resize).
async function inspect(page) {
  return await page.evaluate(async () => {
    const images = [...document.images];
    // Lazy images below the fold would never load in a window nobody scrolls.
    images.forEach(img => { img.loading = 'eager'; });
    const settled = img => img.complete ? null : new Promise(done => {
      img.addEventListener('load', done, { once: true });
      img.addEventListener('error', done, { once: true });
    });
    await Promise.race([Promise.all(images.map(settled)), new Promise(done => setTimeout(done, 20_000))]);
    await new Promise(done => setTimeout(done, 500));
    const plots = [...document.querySelectorAll('.js-plotly-plot')];

    const windowWidth = document.documentElement.clientWidth;
    const visible = element => element.getClientRects().length > 0;
    const describeLegend = (plot, box) => {
      const legend = plot.querySelector('g.legend');
      if (!legend) return null;
      const r = legend.getBoundingClientRect();
      const out = [];
      if (r.left < box.left - 1 || r.right > box.right + 1) out.push(`x ${Math.round(r.left - box.left)}..${Math.round(r.right - box.left)} in a ${Math.round(box.width)} px chart`);
      if (r.top < box.top - 1 || r.bottom > box.bottom + 1) out.push(`y ${Math.round(r.top - box.top)}..${Math.round(r.bottom - box.top)} in a ${Math.round(box.height)} px chart`);
      if (r.left < 0 || r.right > windowWidth) out.push(`x ${Math.round(r.left)}..${Math.round(r.right)} in a ${windowWidth} px window`);
      // A legend taller than its space gets a scrollbar: some entries are hidden.
      if (legend.querySelector('.scrollbar') && legend.querySelector('.scrollbar').getBoundingClientRect().height > 0) out.push('it scrolls: entries hidden');
      return out.length ? out.join(', ') : null;
    };
    const charts = [...document.querySelectorAll('div.researchkit-chart')];
    const anchors = [...document.querySelectorAll('a[href^="#"]')].map(a => decodeURIComponent(a.getAttribute('href').slice(1))).filter(id => id);
    const widest = [...document.body.querySelectorAll('*')]
      .filter(e => e.getBoundingClientRect().right > windowWidth + 1 && visible(e))
      .slice(-3).map(e => `${e.tagName.toLowerCase()}${e.id ? '#' + e.id : ''}${e.className && typeof e.className === 'string' ? '.' + e.className.split(' ')[0] : ''} ends at ${Math.round(e.getBoundingClientRect().right)} px`);
    return {
      images: images.length,
      brokenImages: images.filter(img => img.getAttribute('src') && (!img.complete || img.naturalWidth === 0)).map(img => img.alt || img.src.slice(0, 60)),
      charts: charts.length,
      undrawnCharts: charts.filter(div => visible(div) && !div.querySelector('svg.main-svg')).map(div => div.id),
      plotly: typeof window.Plotly === 'object' ? window.Plotly.version : null,
      links: [...document.querySelectorAll('a[href]')].map(a => a.href).filter(href => href.startsWith('file:')),
      missingAnchors: [...new Set(anchors)].filter(id => !document.getElementById(id)),
      windowWidth,
      pageWidth: document.scrollingElement.scrollWidth,
      widest,
      plots: plots.filter(visible).map(plot => {
        const box = plot.getBoundingClientRect();
        const svg = plot.querySelector('svg.main-svg');
        return { id: plot.id, boxWidth: Math.round(box.width), svgWidth: svg ? Math.round(svg.getBoundingClientRect().width) : 0, legend: describeLegend(plot, box) };
      }),
      flagged: [...document.querySelectorAll('.flagged')].map(e => (e.querySelector('img')?.alt ?? e.id) + ': ' + (e.querySelector('.flag')?.textContent ?? '')),
    };
  });
}
