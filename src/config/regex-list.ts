// Regex lists (docs/configuration.md): the original used an RE2-like dialect, so look-around and
// back-references, which RE2 lacks (and which invite catastrophic backtracking), are refused rather than
// silently given a meaning the original never had; RE2's leading `(?i)` becomes JavaScript's `i` flag.
import { ConfigValueError, type TableReader } from './table-reader.ts';

export class RegexError extends Error {}

function unsupportedConstruct(pattern: string): string | undefined {
  let inClass = false;
  for (let index = 0; index < pattern.length; index++) {
    const char = pattern[index];
    if (char === '\\') {
      const next = pattern[index + 1] ?? '';
      if (!inClass && /[1-9]/.test(next)) return 'back-references are not supported';
      if (!inClass && next === 'k' && pattern[index + 2] === '<') return 'back-references are not supported';
      index += 1;
    } else if (inClass) {
      if (char === ']') inClass = false;
    } else if (char === '[') {
      inClass = true;
    } else if (char === '(' && pattern[index + 1] === '?') {
      const kind = pattern.slice(index + 2, index + 4);
      if (kind.startsWith('=') || kind.startsWith('!') || kind === '<=' || kind === '<!') return 'look-around is not supported';
    }
  }
  return undefined;
}

/** Compiles one pattern for unanchored search (`latest` matches `latest-rc`). */
export function compileRegex(pattern: string): RegExp {
  const caseless = pattern.startsWith('(?i)');
  const source = caseless ? pattern.slice('(?i)'.length) : pattern;
  let regex: RegExp;
  try {
    regex = new RegExp(source, caseless ? 'iu' : 'u');
  } catch (error) {
    const reason = error instanceof Error ? error.message.replace(/^Invalid regular expression: /, '') : String(error);
    throw new RegexError(`invalid regex '${pattern}': ${reason}`);
  }
  const unsupported = unsupportedConstruct(source);
  if (unsupported !== undefined) throw new RegexError(`invalid regex '${pattern}': ${unsupported}`);
  return regex;
}

/** Reads `[regex]` at `key`; an invalid entry fails naming `key[i]` and the pattern. */
export function readRegexList(table: TableReader, key: string): RegExp[] | undefined {
  return table.stringArray(key)?.map((pattern, index) => {
    try {
      return compileRegex(pattern);
    } catch (error) {
      if (error instanceof RegexError) throw new ConfigValueError(`${table.pathOf(key)}[${index}]: ${error.message}`);
      throw error;
    }
  });
}
