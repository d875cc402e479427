import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { FigureId, FigureSpec } from './figures.ts';
import { medianOf, type BenchResult } from './results-model.ts';
import { checkTargets, type TargetCheck } from './targets.ts';

export function renderMarkdown(result: BenchResult): string {
  const { machine, settings } = result;
  const lines = [
    `# Benchmark: Angos vs CNCF Distribution, nginx and the write ceiling (${result.startedAt})`,
    '',
    `Machine: ${machine.cpu}, ${machine.cores} cores, ${machine.memoryGiB} GiB RAM, ${machine.kernel}, Node.js ${machine.node}.`,
    '',
    `Each figure is the median of ${settings.runs} run(s)${settings.quick ? ' (BENCH_QUICK smoke run: small sizes)' : ''}; ` +
      `request rates are ${settings.loadSeconds} s closed-loop measurements. MB/s = 10^6 bytes/s. ` +
      `Load generator: ${result.loadGenerator}. All servers and the client share this machine; runs alternate between systems.`,
    '',
    'Reference: nginx serving the blob as a static file (sendfile) for pulls; for pushes the write ceiling, a bare Node server ' +
      'that hashes the body and writes it to a new file on the same filesystem.',
    '',
    '| Figure | Unit | Angos | Distribution | Reference | Angos ÷ Distribution | Angos ÷ reference |',
    '|---|---|---:|---:|---:|---:|---:|',
  ];
  const onS3 = (figure: FigureSpec): boolean => figure.id.startsWith('s3.');
  const pullThrough = (figure: FigureSpec): boolean => figure.id.startsWith('pullthrough.');
  lines.push(...figureRows(result, result.figures.filter((figure) => !onS3(figure) && !pullThrough(figure))));
  const scaleRows = result.figures.filter((figure) => figure.id.startsWith('scale.') && figure.id.endsWith('.large'));
  if (scaleRows.some((figure) => medianOf(result, 'angos', figure.id) !== undefined)) {
    lines.push('', 'Scale: each system\'s rate at the large size ÷ its rate at the base size:', '', '| Figure | Angos | Distribution |', '|---|---:|---:|');
    for (const figure of scaleRows) {
      const base = figure.id.replace(/\.large$/, '.base') as FigureId;
      const of = (system: 'angos' | 'distribution'): string => ratio(medianOf(result, system, figure.id), medianOf(result, system, base));
      lines.push(`| ${figure.label} | ${of('angos')} | ${of('distribution')} |`);
    }
  }
  lines.push(
    '',
    `On S3 (Ceph RGW): both registries store everything on the same throw-away Ceph RADOS Gateway (one OSD on the ` +
      `in-memory memstore, on this machine), a bucket each, as servers of the phase's own, at smaller sizes ` +
      `(${settings.s3TagCount} tags, ${settings.s3SmallImages} small images) than above. Inline: redirects off, the registry ` +
      'streams the bytes; redirect: the blob GET answers 307 to a presigned URL, which the client follows (its time ' +
      'included). Reference: a direct GET of the object the registry pulls inline, by a presigned URL, with the same ' +
      'client.',
    '',
    '| Figure on S3 (Ceph RGW) | Unit | Angos | Distribution | Reference | Angos ÷ Distribution | Angos ÷ reference |',
    '|---|---|---:|---:|---:|---:|---:|',
    ...figureRows(result, result.figures.filter(onS3)),
  );
  lines.push(
    '',
    'Pull-through cache: each registry as a cache of its own (this registry: `[repository."mirror"]` with the ' +
      'upstream\'s bare host as its `upstream`, so `mirror/x` is the upstream\'s `x`, and `immutable_tags = true` ' +
      'except `latest`; Distribution: `proxy.remoteurl`) in front of the same upstream, a plain Distribution holding ' +
      'the content, whose requests are counted from its own log (no proxy in the data path). Every cold pull is of a ' +
      'blob pushed to the upstream just before, for each system its own. A warm pull starts once the cache holds the ' +
      'blob (no upstream GET of it in flight, and a HEAD of it on the cache makes no upstream request) and must cause ' +
      'no upstream GET. Reference: a direct pull from the upstream for the cold pull, nginx serving a file of the ' +
      'same size for the warm pull.',
    '',
    '| Figure, pull-through cache | Unit | Angos | Distribution | Reference | Angos ÷ Distribution | Angos ÷ reference |',
    '|---|---|---:|---:|---:|---:|---:|',
    ...figureRows(result, result.figures.filter(pullThrough)),
  );
  lines.push('', 'Peak RSS (MiB) after each phase, in run order:', '');
  for (const [system, phases] of Object.entries(result.peakRssByPhase)) {
    lines.push(`- ${system}: ${Object.entries(phases).map(([phase, mib]) => `${phase} ${mib}`).join(', ')}`);
  }
  lines.push('', '## Targets (issue 5; reported, not asserted)', '', '| Goal | Figure | Actual | Met |', '|---|---|---:|:---:|');
  for (const check of checkTargets(result)) lines.push(`| ${check.goal} | ${check.figure} | ${actual(check)} | ${check.met ? 'yes' : 'no'} |`);
  lines.push('');
  return lines.join('\n');
}

function figureRows(result: BenchResult, figures: FigureSpec[]): string[] {
  return figures.map((figure) => {
    const angos = medianOf(result, 'angos', figure.id);
    const distribution = medianOf(result, 'distribution', figure.id);
    const reference = figure.reference && medianOf(result, figure.reference.system, figure.reference.figure);
    const referenceCell = reference === undefined ? '–' : `${num(reference)} (${figure.reference!.system})`;
    return `| ${figure.label} | ${figure.unit} | ${num(angos)} | ${num(distribution)} | ${referenceCell} | ${ratio(angos, distribution)} | ${ratio(angos, reference)} |`;
  });
}

/** Writes `<stamp>.md`, `<stamp>.json` and `latest.md` into `dir`; returns the Markdown path. */
export async function writeResults(dir: string, result: BenchResult): Promise<string> {
  await mkdir(dir, { recursive: true });
  const stamp = result.startedAt.replace(/[:.]/g, '-');
  const markdown = renderMarkdown(result);
  const json = { ...result, targets: checkTargets(result) };
  await writeFile(join(dir, `${stamp}.json`), `${JSON.stringify(json, null, 2)}\n`);
  await writeFile(join(dir, `${stamp}.md`), markdown);
  await writeFile(join(dir, 'latest.md'), markdown);
  return join(dir, `${stamp}.md`);
}

export function summarizeTargets(result: BenchResult): string {
  return checkTargets(result)
    .map((check) => `${check.met ? 'MET    ' : 'NOT MET'}  ${check.goal}  [${check.figure}: ${actual(check)}]`)
    .join('\n');
}

function actual(check: TargetCheck): string {
  if (check.actual === undefined) return 'n/a';
  return check.unit === undefined ? `${check.actual.toFixed(2)}×` : `${num(check.actual)} ${check.unit}`;
}

function num(value: number | undefined): string {
  if (value === undefined) return '–';
  return value >= 100 ? value.toFixed(0) : value.toFixed(1);
}

function ratio(ours: number | undefined, theirs: number | undefined): string {
  if (ours === undefined || theirs === undefined || theirs === 0) return '–';
  return `${(ours / theirs).toFixed(2)}×`;
}
