// `WWW-Authenticate` of a remote's 401 (spec §1.2): which scheme it wants and, for Bearer, where to get a token.

export interface Challenge {
  /** Lower-cased: `bearer`, `basic`, or whatever else the remote sent. */
  readonly scheme: string;
  /** Auth parameters by lower-cased name, values unquoted. */
  readonly params: ReadonlyMap<string, string>;
}

/**
 * The challenges of one header value, in order (`Basic realm="x", Bearer realm="y"` is two). Malformed
 * parameters end the parse of their challenge: what came before them is kept.
 */
export function parseChallenges(header: string): Challenge[] {
  const challenges: Challenge[] = [];
  let at = 0;
  const skip = (pattern: RegExp) => {
    while (at < header.length && pattern.test(header[at] as string)) at += 1;
  };
  while (at < header.length) {
    skip(/[\s,]/);
    const schemeMatch = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+/.exec(header.slice(at));
    if (schemeMatch === null) break;
    at += schemeMatch[0].length;
    const params = new Map<string, string>();
    challenges.push({ scheme: schemeMatch[0].toLowerCase(), params });
    for (;;) {
      const save = at;
      skip(/[\s,]/);
      const nameMatch = /^([!#$%&'*+.^_`|~0-9A-Za-z-]+)\s*=\s*/.exec(header.slice(at));
      // A name without `=` starts the next challenge (or is a token68, which no registry scheme uses).
      if (nameMatch === null) {
        at = save;
        break;
      }
      at += nameMatch[0].length;
      let value = '';
      if (header[at] === '"') {
        at += 1;
        while (at < header.length && header[at] !== '"') {
          if (header[at] === '\\' && at + 1 < header.length) at += 1;
          value += header[at];
          at += 1;
        }
        at += 1;
      } else {
        const token = /^[^,\s]*/.exec(header.slice(at))?.[0] ?? '';
        value = token;
        at += token.length;
      }
      params.set((nameMatch[1] as string).toLowerCase(), value);
    }
  }
  return challenges;
}

/** The challenge to answer among all `WWW-Authenticate` headers: the first Bearer, else the first of any scheme. */
export function chooseChallenge(headers: string | string[] | undefined): Challenge | undefined {
  const all = (Array.isArray(headers) ? headers : headers === undefined ? [] : [headers]).flatMap(parseChallenges);
  return all.find((challenge) => challenge.scheme === 'bearer') ?? all[0];
}

/** `GET <realm>?<every other parameter>`: the token request of a Bearer challenge; throws on a missing or bad realm. */
export function tokenUrl(challenge: Challenge): URL {
  const realm = challenge.params.get('realm');
  if (realm === undefined || realm === '' || !URL.canParse(realm)) throw new Error(`Bearer challenge without a usable realm: '${realm ?? ''}'`);
  const url = new URL(realm);
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error(`Bearer realm '${realm}' is not an http(s) URL`);
  for (const [name, value] of challenge.params) if (name !== 'realm') url.searchParams.append(name, value);
  return url;
}
