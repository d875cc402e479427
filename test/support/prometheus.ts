// The Prometheus text exposition format (version 0.0.4) as `/metrics` serves it, parsed into samples, so a test
// reads one labelled series exactly instead of matching lines with a pattern.
import assert from 'node:assert/strict';
import { request } from './http.ts';

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** Every sample line of an exposition (comments and blank lines skipped); a malformed line fails the test. */
export function parseExposition(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '' || line.startsWith('#')) continue;
    const head = /^([a-zA-Z_:][a-zA-Z0-9_:]*)/.exec(line);
    assert.ok(head, `a metric name starts ${JSON.stringify(line)}`);
    const name = head[1]!;
    let at = name.length;
    const labels: Record<string, string> = {};
    if (line[at] === '{') {
      at++;
      for (;;) {
        if (line[at] === '}') break;
        const label = /^([a-zA-Z_][a-zA-Z0-9_]*)="/.exec(line.slice(at));
        assert.ok(label, `a label at ${at} of ${JSON.stringify(line)}`);
        at += label[0].length;
        let value = '';
        for (;;) {
          const c = line[at++];
          assert.ok(c !== undefined, `a closed label value in ${JSON.stringify(line)}`);
          if (c === '"') break;
          if (c === '\\') {
            const escaped = line[at++];
            value += escaped === 'n' ? '\n' : escaped;
          } else value += c;
        }
        assert.ok(!(label[1]! in labels), `label ${label[1]} given once in ${JSON.stringify(line)}`);
        labels[label[1]!] = value;
        if (line[at] === ',') at++;
      }
      at++;
    }
    const rest = line.slice(at).trim().split(/\s+/);
    assert.ok(rest.length === 1 || rest.length === 2, `a value (and an optional timestamp) ends ${JSON.stringify(line)}`);
    const value = rest[0] === '+Inf' ? Infinity : rest[0] === '-Inf' ? -Infinity : Number(rest[0]);
    assert.ok(rest[0] === 'NaN' || !Number.isNaN(value), `a number ends ${JSON.stringify(line)}`);
    samples.push({ name, labels, value });
  }
  return samples;
}

/**
 * The value of the one series of `name` whose labels are exactly `labels`; `undefined` when the series is not
 * exported (a counter never incremented). Two such series fail the test.
 */
export function sampleValue(samples: readonly Sample[], name: string, labels: Record<string, string>): number | undefined {
  const wanted = Object.entries(labels).sort();
  const found = samples.filter((s) => s.name === name && JSON.stringify(Object.entries(s.labels).sort()) === JSON.stringify(wanted));
  assert.ok(found.length <= 1, `one series ${name}${JSON.stringify(labels)}`);
  return found[0]?.value;
}

/** `/metrics` of a server, parsed. */
export async function scrape(baseUrl: string): Promise<Sample[]> {
  const response = await request(baseUrl, '/metrics');
  assert.equal(response.status, 200);
  return parseExposition(response.body.toString('utf8'));
}
