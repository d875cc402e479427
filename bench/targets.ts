import type { FigureId } from './figures.ts';
import { medianOf, type BenchResult } from './results-model.ts';

/** The goals of issue 5, checked for the report; they are not assertions and never fail the run. */
interface Target {
  goal: string;
  figures: FigureId[];
  /** Angos' median must be at least `ratio` × the peer's, or (peer absent) at most `ratio` itself. */
  peer: 'distribution' | 'nginx' | undefined;
  ratio: number;
}

const TARGETS: Target[] = [
  { goal: 'pull ≥ 0.9× nginx', figures: ['pull.single', 'pull.parallel'], peer: 'nginx', ratio: 0.9 },
  { goal: 'push ≥ 3× Distribution', figures: ['push.monolithic', 'push.chunked'], peer: 'distribution', ratio: 3 },
  {
    goal: 'manifest GET/HEAD ≥ 10× Distribution',
    figures: ['manifest.get-tag', 'manifest.get-digest', 'manifest.head-tag'],
    peer: 'distribution',
    ratio: 10,
  },
  { goal: 'tags/catalog ≥ 5× Distribution', figures: ['tags.list', 'catalog'], peer: 'distribution', ratio: 5 },
  { goal: 'small-image push ≥ 2× Distribution', figures: ['images.sequential', 'images.parallel'], peer: 'distribution', ratio: 2 },
  { goal: 'peak RSS ≤ 150 MiB', figures: ['rss.peak'], peer: undefined, ratio: 150 },
];

export interface TargetCheck {
  goal: string;
  figure: FigureId;
  /** Angos ÷ peer, or Angos' own value for an absolute goal. */
  actual: number | undefined;
  met: boolean;
}

export function checkTargets(result: BenchResult): TargetCheck[] {
  return TARGETS.flatMap((target) =>
    target.figures.map((figure) => {
      const ours = medianOf(result, 'angos', figure);
      if (target.peer === undefined) {
        return { goal: target.goal, figure, actual: ours, met: ours !== undefined && ours <= target.ratio };
      }
      const theirs = medianOf(result, target.peer, figure);
      const actual = ours !== undefined && theirs !== undefined && theirs > 0 ? ours / theirs : undefined;
      return { goal: target.goal, figure, actual, met: actual !== undefined && actual >= target.ratio };
    }),
  );
}
