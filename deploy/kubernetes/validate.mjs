// Checks atlas-job.yaml offline, without a cluster:
//   1. every object against the Kubernetes API schema (kubernetes-models, generated from the Kubernetes OpenAPI spec:
//      types, required fields, enumerations, formats; like that spec, it lets unknown fields through);
//   2. the Indexed Job against the Slurm recipe ../slurm/atlas.sbatch: as many shards as the array has tasks, pod i
//      rendering shard i into atlas-i with the recipe's default settings, CPUs and memory and OMP_NUM_THREADS from
//      the CPUs, and a merge that starts once every shard has written its manifest.
//
//   cd deploy/kubernetes && npm ci && node validate.mjs
import { readFileSync } from 'node:fs';
import { parseAllDocuments } from 'yaml';
import { Job } from 'kubernetes-models/batch/v1';
import { PersistentVolumeClaim } from 'kubernetes-models/v1';

const here = new URL('.', import.meta.url);
const manifestFile = new URL('atlas-job.yaml', here);
const recipeFile = new URL('../slurm/atlas.sbatch', here);
const problems = [];
const check = (ok, what) => { if (!ok) problems.push(what); };

// 1. The schema.
const documents = parseAllDocuments(readFileSync(manifestFile, 'utf8'));
for (const document of documents) if (document.errors.length > 0) problems.push(`YAML: ${document.errors[0].message}`);
const objects = documents.map(d => d.toJS());
const models = { Job, PersistentVolumeClaim };
for (const object of objects) {
  const name = `${object?.kind} ${object?.metadata?.name}`;
  const Model = models[object?.kind];
  if (!Model) { problems.push(`${name}: no schema here for kind ${object?.kind}`); continue; }
  try { new Model(object).validate(); } catch (e) { problems.push(`${name}: ${e.message}`); }
}

// 2. The same atlas as the Slurm recipe.
const recipe = readFileSync(recipeFile, 'utf8');
const sbatch = option => recipe.match(new RegExp(`^#SBATCH --${option}=(\\S+)`, 'm'))?.[1];
const defaults = Object.fromEntries([...recipe.matchAll(/^(\w+)=\$\{\1:-([^}]*)\}/gm)].map(m => [m[1], m[2]]));
const [first, last] = (sbatch('array') ?? '').split('-').map(Number);
const shards = last - first + 1;
check(first === 0 && shards > 0, `atlas.sbatch: --array=${sbatch('array')} is not 0-N`);
const mebibytes = text => {
  const m = /^(\d+)(Gi|G|Mi|M)?$/.exec(text ?? '');
  return m ? Number(m[1]) * (m[2]?.startsWith('G') ? 1024 : 1) : NaN;   // Slurm's G and M are binary units
};

const byName = Object.fromEntries(objects.map(o => [o?.metadata?.name, o]));
const render = byName['atlas-render'], merge = byName['atlas-merge'];
check(render?.kind === 'Job' && merge?.kind === 'Job', 'atlas-job.yaml: expected the Jobs atlas-render and atlas-merge');
if (render?.kind === 'Job' && merge?.kind === 'Job') {
  const spec = render.spec;
  check(spec.completionMode === 'Indexed', `atlas-render: completionMode ${spec.completionMode}, not Indexed`);
  check(spec.completions === shards && spec.parallelism === shards,
    `atlas-render: completions ${JSON.stringify(spec.completions)} and parallelism ${JSON.stringify(spec.parallelism)}, not the recipe's ${shards} array tasks`);
  const container = spec.template.spec.containers[0];
  const command = [...(container.command ?? []), ...(container.args ?? [])].join(' ');
  const option = name => command.match(new RegExp(`--${name} (\\S+)`))?.[1];
  check(option('shard') === `auto/${shards}`, `atlas-render: --shard ${option('shard')}, not auto/${shards}`);
  check(option('out') === '/data/atlas-$JOB_COMPLETION_INDEX', `atlas-render: --out ${option('out')}, not /data/atlas-$JOB_COMPLETION_INDEX`);
  for (const [name, variable] of [['layer', 'LAYER'], ['channels', 'CHANNELS'], ['prior', 'PRIOR'], ['size', 'SIZE'], ['batch', 'BATCH'], ['device', 'DEVICE']])
    check(option(name) === defaults[variable], `atlas-render: --${name} ${option(name)}, but atlas.sbatch renders ${variable}=${defaults[variable]}`);
  const requests = container.resources?.requests ?? {};
  check(String(requests.cpu) === sbatch('cpus-per-task'), `atlas-render: cpu ${requests.cpu}, but atlas.sbatch asks --cpus-per-task=${sbatch('cpus-per-task')}`);
  check(mebibytes(requests.memory) === mebibytes(sbatch('mem')), `atlas-render: memory ${requests.memory}, but atlas.sbatch asks --mem=${sbatch('mem')}`);
  const threads = container.env?.find(e => e.name === 'OMP_NUM_THREADS');
  check(threads?.valueFrom?.resourceFieldRef?.resource === 'requests.cpu', 'atlas-render: OMP_NUM_THREADS does not come from requests.cpu');

  const wait = merge.spec.template.spec.initContainers?.[0]?.command?.join(' ') ?? '';
  check(wait.includes('/data/atlas-*/manifest.json') && wait.includes(`-ge ${shards} ]`),
    `atlas-merge: its init container does not wait for ${shards} shard manifests`);
  const mergeCommand = merge.spec.template.spec.containers[0].command.join(' ');
  check(/atlas merge atlas-\*\/ --out atlas"/.test(recipe) && mergeCommand.includes('atlas merge /data/atlas-*/ --out /data/atlas'),
    'atlas-merge: not the recipe\'s merge (atlas merge atlas-*/ --out atlas)');
}

if (problems.length > 0) {
  for (const problem of problems) console.error(`error: ${problem}`);
  process.exit(1);
}
console.log(`atlas-job.yaml: ${objects.length} objects match the Kubernetes schema; the Indexed Job renders the recipe's ` +
  `${shards} shards with its settings (${defaults.LAYER} ${defaults.CHANNELS}), CPUs and memory, and the merge waits for all ${shards}`);
