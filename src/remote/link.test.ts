import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { nextLink } from './link.ts';

const base = new URL('https://reg.example/v2/a/tags/list?n=2');

describe('nextLink', () => {
  it('resolves a relative next link against the page URL', () => {
    assert.equal(nextLink('</v2/a/tags/list?n=2&last=b>; rel="next"', base)?.href, 'https://reg.example/v2/a/tags/list?n=2&last=b');
    assert.equal(nextLink('<https://cdn.example/p2>;rel=next', base)?.href, 'https://cdn.example/p2');
  });

  it('finds next among other relations and headers', () => {
    assert.equal(nextLink(['</first>; rel="first"', '</prev>; rel="prev", </n>; title="x"; rel="last next"'], base)?.href, 'https://reg.example/n');
  });

  it('none', () => {
    assert.equal(nextLink(undefined, base), undefined);
    assert.equal(nextLink('</p>; rel="prev"', base), undefined);
  });
});
