import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { medianOf, type BenchResult } from './results-model.ts';
import { checkTargets, type TargetCheck } from './targets.ts';

export function renderMarkdown(result: BenchResult): string {
  const { machine, settings } = result;
  const lines = [
    `# Benchmark: Angos vs CNCF Distribution vs nginx (${result.startedAt})`,
    '',
    `Machine: ${machine.cpu}, ${machine.cores} cores, ${machine.memoryGiB} GiB RAM, ${machine.kernel}, Node.js ${machine.node}.`,
    '',
    `Each figure is the median of ${settings.runs} run(s)${settings.quick ? ' (BENCH_QUICK smoke run: small sizes)' : ''}; ` +
      `request rates are ${settings.loadSeconds} s closed-loop measurements. MB/s = 10^6 bytes/s. ` +
      `Load generator: ${result.loadGenerator}. All three servers and the client share this machine; runs alternate between systems.`,
    '',
    '| Figure | Unit | Angos | Distribution | nginx | Angos ÷ Distribution | Angos ÷ nginx |',
    '|---|---|---:|---:|---:|---:|---:|',
  ];
  for (const figure of result.figures) {
    const angos = medianOf(result, 'angos', figure.id);
    const distribution = medianOf(result, 'distribution', figure.id);
    const nginx = medianOf(result, 'nginx', figure.id);
    lines.push(
      `| ${figure.label} | ${figure.unit} | ${num(angos)} | ${num(distribution)} | ${num(nginx)} | ${ratio(angos, distribution)} | ${ratio(angos, nginx)} |`,
    );
  }
  lines.push('', 'Peak RSS (MiB) after each phase, in run order:', '');
  for (const [system, phases] of Object.entries(result.peakRssByPhase)) {
    lines.push(`- ${system}: ${Object.entries(phases).map(([phase, mib]) => `${phase} ${mib}`).join(', ')}`);
  }
  lines.push('', '## Targets (issue 5; reported, not asserted)', '', '| Goal | Figure | Actual | Met |', '|---|---|---:|:---:|');
  for (const check of checkTargets(result)) lines.push(`| ${check.goal} | ${check.figure} | ${actual(check)} | ${check.met ? 'yes' : 'no'} |`);
  lines.push('');
  return lines.join('\n');
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
  return check.figure === 'rss.peak' ? `${num(check.actual)} MiB` : `${check.actual.toFixed(2)}×`;
}

function num(value: number | undefined): string {
  if (value === undefined) return '–';
  return value >= 100 ? value.toFixed(0) : value.toFixed(1);
}

function ratio(ours: number | undefined, theirs: number | undefined): string {
  if (ours === undefined || theirs === undefined || theirs === 0) return '–';
  return `${(ours / theirs).toFixed(2)}×`;
}
