import { PULL_THROUGH_CLIENTS, type FigureId } from './figures.ts';
import { medianOf, type BenchResult } from './results-model.ts';
import type { SystemName } from './systems/system.ts';

/** The goals of issue 5 (and of the pull-through cache's issue), checked for the report; they are not assertions and never fail the run. */
interface Target {
  goal: string;
  figures: FigureId[];
  /**
   * What Angos' median is divided by: the same figure of a peer system, another figure (`peerFigure`) of a peer
   * system or of Angos itself; `undefined` for an absolute goal, met when Angos' own value is at most `ratio`.
   */
  peer: SystemName | undefined;
  peerFigure?: (figure: FigureId) => FigureId;
  ratio: number;
  /** The figures are durations: the ratio is the peer's ÷ Angos' (how many times faster Angos is). */
  durations?: true;
  /** An absolute goal's unit, shown with Angos' value. */
  unit?: string;
}

const atBaseSize = (figure: FigureId): FigureId => figure.replace(/\.large$/, '.base') as FigureId;

const TARGETS: Target[] = [
  { goal: 'pull ≥ 0.9× nginx (in-process client)', figures: ['pull.single', 'pull.parallel'], peer: 'nginx', ratio: 0.9 },
  { goal: 'pull with curl ≥ 1.5× Distribution', figures: ['pull.single.curl'], peer: 'distribution', ratio: 1.5 },
  { goal: 'pull with curl ≥ 0.5× nginx', figures: ['pull.single.curl'], peer: 'nginx', ratio: 0.5 },
  { goal: 'push ≥ 0.85× write ceiling', figures: ['push.monolithic', 'push.chunked'], peer: 'ceiling', peerFigure: () => 'push.ceiling', ratio: 0.85 },
  { goal: 'push ≥ 1.5× Distribution', figures: ['push.monolithic', 'push.chunked'], peer: 'distribution', ratio: 1.5 },
  {
    goal: 'manifest GET/HEAD ≥ 10× Distribution',
    figures: ['manifest.get-tag', 'manifest.get-digest', 'manifest.head-tag'],
    peer: 'distribution',
    ratio: 10,
  },
  {
    goal: 'manifest GET with update_pull_time = true ≥ 0.7× without',
    figures: ['manifest.get-tag.pull-time', 'manifest.get-digest.pull-time'],
    peer: 'angos',
    peerFigure: (figure) => figure.replace(/\.pull-time$/, '') as FigureId,
    ratio: 0.7,
  },
  { goal: 'tags/catalog ≥ 5× Distribution', figures: ['tags.list', 'catalog'], peer: 'distribution', ratio: 5 },
  { goal: 'small-image push ≥ 2× Distribution', figures: ['images.sequential', 'images.parallel'], peer: 'distribution', ratio: 2 },
  {
    goal: 'paged listing at the large size ≥ 0.5× at the base size',
    figures: ['scale.tags.pages.large', 'scale.catalog.pages.large'],
    peer: 'angos',
    peerFigure: atBaseSize,
    ratio: 0.5,
  },
  { goal: 'paged listing at the large size ≥ 20× Distribution', figures: ['scale.tags.pages.large', 'scale.catalog.pages.large'], peer: 'distribution', ratio: 20 },
  {
    goal: 'GC: deleted images\' bytes reclaimed ≥ 2× faster than Distribution\'s offline garbage-collect',
    figures: ['gc.reclaim'],
    peer: 'distribution',
    ratio: 2,
    durations: true,
  },
  { goal: 'GC: manifest GET while collecting ≥ 0.8× idle', figures: ['gc.manifest-get'], peer: 'angos', peerFigure: () => 'gc.manifest-get.idle', ratio: 0.8 },
  { goal: 'peak RSS ≤ 150 MiB', figures: ['rss.peak'], peer: undefined, ratio: 150, unit: 'MiB' },
  { goal: 'on S3 (Ceph RGW): push and small-image push ≥ 1.5× Distribution', figures: ['s3.push.monolithic', 's3.images.sequential'], peer: 'distribution', ratio: 1.5 },
  { goal: 'on S3 (Ceph RGW): manifest GET and tags list ≥ 10× Distribution', figures: ['s3.manifest.get-tag', 's3.tags.list'], peer: 'distribution', ratio: 10 },
  { goal: 'on S3 (Ceph RGW): pull inline ≥ 0.9× a direct S3 GET', figures: ['s3.pull.inline'], peer: 'rgw', peerFigure: () => 's3.pull.direct', ratio: 0.9 },
  {
    goal: 'pull-through: cold pull ≥ 0.8× a direct pull from the upstream',
    figures: ['pullthrough.cold'],
    peer: 'upstream',
    peerFigure: () => 'pullthrough.direct',
    ratio: 0.8,
  },
  { goal: 'pull-through: warm pull ≥ 0.9× nginx', figures: ['pullthrough.warm'], peer: 'nginx', ratio: 0.9 },
  { goal: 'pull-through: manifest GET by mutable tag ≥ 1× Distribution as a proxy', figures: ['pullthrough.manifest.get-mutable-tag'], peer: 'distribution', ratio: 1 },
  {
    goal: 'pull-through: manifest GET by digest and by immutable tag ≥ 10× Distribution as a proxy',
    figures: ['pullthrough.manifest.get-digest', 'pullthrough.manifest.get-immutable-tag'],
    peer: 'distribution',
    ratio: 10,
  },
  {
    goal: `pull-through: ${PULL_THROUGH_CLIENTS} clients pulling one cold blob cause ≤ 2 upstream GETs of it`,
    figures: ['pullthrough.concurrent.fetches'],
    peer: undefined,
    ratio: 2,
    unit: 'GETs',
  },
];

export interface TargetCheck {
  goal: string;
  figure: FigureId;
  /** Angos ÷ peer (peer ÷ Angos for durations), or Angos' own value for an absolute goal. */
  actual: number | undefined;
  /** An absolute goal's unit (`actual` is then a value, not a ratio). */
  unit?: string;
  met: boolean;
}

export function checkTargets(result: BenchResult): TargetCheck[] {
  return TARGETS.flatMap((target) =>
    target.figures.map((figure) => {
      const ours = medianOf(result, 'angos', figure);
      if (target.peer === undefined) {
        return { goal: target.goal, figure, actual: ours, unit: target.unit, met: ours !== undefined && ours <= target.ratio };
      }
      const theirs = medianOf(result, target.peer, target.peerFigure?.(figure) ?? figure);
      const [numerator, denominator] = target.durations ? [theirs, ours] : [ours, theirs];
      const actual = numerator !== undefined && denominator !== undefined && denominator > 0 ? numerator / denominator : undefined;
      return { goal: target.goal, figure, actual, met: actual !== undefined && actual >= target.ratio };
    }),
  );
}
