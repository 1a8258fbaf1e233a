// Opens HTML files in headless Chromium with every network request refused, and fails unless each page loads with
// no console error, no attempt to reach the network, every <img> decoded, and every ResearchKit chart drawn by plotly.js.
//
//   node check.mjs [--min-images N] [--min-charts N] [--late-plotly] FILE.html... [options FILE.html...]...
//
// Options apply to the files after them. The minimums are per file. --late-plotly also checks a copy of each file with
// ResearchKit's plotly.js loader moved to the end of the body: charts that run before plotly.js must wait and draw.
// Chromium is the system's (CHROMIUM, else /usr/bin/chromium).
import { chromium } from 'playwright-core';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const args = process.argv.slice(2);
const files = [];  // { path, images, charts }
const options = { images: 0, charts: 0, latePlotly: false };
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--min-images') options.images = Number(args[++i]);
  else if (args[i] === '--min-charts') options.charts = Number(args[++i]);
  else if (args[i] === '--late-plotly') options.latePlotly = true;
  else {
    files.push({ path: args[i], images: options.images, charts: options.charts });
    if (options.latePlotly) files.push({ path: withPlotlyLast(args[i]), images: options.images, charts: options.charts });
  }
}
if (files.length === 0) {
  console.error('usage: node check.mjs [--min-images N] [--min-charts N] FILE.html...');
  process.exit(2);
}

const executablePath = process.env.CHROMIUM || '/usr/bin/chromium';
if (!existsSync(executablePath)) {
  console.error(`Chromium not found at ${executablePath} (install Debian's chromium or set CHROMIUM)`);
  process.exit(2);
}

const browser = await chromium.launch({ executablePath, args: ['--no-sandbox', '--disable-gpu'] });
let failed = 0;
try {
  for (const file of files) {
    const problems = await check(file);
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

async function check({ path: file, images: minImages, charts: minCharts }) {
  const problems = [];
  const context = await browser.newContext({ offline: true, viewport: { width: 1200, height: 900 } });
  const page = await context.newPage();
  await page.route('**/*', route => {
    const url = route.request().url();
    if (url.startsWith('file:') || url.startsWith('data:')) return route.continue();
    problems.push(`network request: ${url}`);
    return route.abort();
  });
  page.on('console', message => { if (message.type() === 'error') problems.push(`console error: ${message.text()}`); });
  page.on('pageerror', error => problems.push(`script error: ${error.message}`));

  await page.goto(pathToFileURL(resolve(file)).href, { waitUntil: 'load' });
  // plotly draws synchronously in newPlot, but give queued draws and image decoding a moment.
  await page.waitForTimeout(500);
  const found = await page.evaluate(async () => {
    const images = [...document.images];
    await Promise.all(images.map(img => img.decode().catch(() => {})));
    const charts = [...document.querySelectorAll('div.researchkit-chart')];
    return {
      images: images.length,
      brokenImages: images.filter(img => !img.complete || img.naturalWidth === 0).map(img => img.alt || img.src.slice(0, 40)),
      charts: charts.length,
      undrawnCharts: charts.filter(div => !div.querySelector('svg.main-svg')).map(div => div.id),
      plotly: typeof window.Plotly === 'object' ? window.Plotly.version : null,
    };
  });
  await context.close();

  for (const alt of found.brokenImages) problems.push(`image did not decode: ${alt}`);
  for (const id of found.undrawnCharts) problems.push(`chart not drawn: #${id} (plotly.js ${found.plotly ?? 'missing'})`);
  if (found.images < minImages) problems.push(`${found.images} images, expected at least ${minImages}`);
  if (found.charts < minCharts) problems.push(`${found.charts} charts, expected at least ${minCharts}`);
  console.log(`${file}: ${found.images} images, ${found.charts} charts, plotly.js ${found.plotly ?? 'absent'}`);
  return problems;
}
