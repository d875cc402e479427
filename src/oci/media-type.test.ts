import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DOCKER_MANIFEST, DOCKER_MANIFEST_LIST, isMediaType, mediaTypeOfContentType, OCI_INDEX, OCI_MANIFEST } from './media-type.ts';

test('media types follow type/subtype with the restricted-name alphabet', () => {
  const valid = [
    OCI_MANIFEST,
    OCI_INDEX,
    DOCKER_MANIFEST,
    DOCKER_MANIFEST_LIST,
    'application/vnd.oci.image.layer.v1.tar+gzip',
    'text/plain',
    'a/b',
    'A/B',
    'x/a!#$&^_.+-',
    `${'a'.repeat(127)}/${'b'.repeat(127)}`,
  ];
  for (const value of valid) assert.equal(isMediaType(value), true, value);
  assert.equal(OCI_MANIFEST, 'application/vnd.oci.image.manifest.v1+json');
  assert.equal(OCI_INDEX, 'application/vnd.oci.image.index.v1+json');
  assert.equal(DOCKER_MANIFEST, 'application/vnd.docker.distribution.manifest.v2+json');
  assert.equal(DOCKER_MANIFEST_LIST, 'application/vnd.docker.distribution.manifest.list.v2+json');
});

test('malformed media types are invalid, parameters included', () => {
  const invalid = [
    '',
    'application',
    'application/',
    '/json',
    'a/b/c',
    '.a/b',
    'a/-b',
    'a b/c',
    'application/vnd x',
    'application/json; charset=utf-8',
    'application/json;charset=utf-8',
    'ü/b',
    'a/b\n',
    `${'a'.repeat(128)}/b`,
    `a/${'b'.repeat(128)}`,
  ];
  for (const value of invalid) assert.equal(isMediaType(value), false, JSON.stringify(value));
});

test('a Content-Type header loses its parameters and keeps its case', () => {
  assert.equal(mediaTypeOfContentType(`${OCI_MANIFEST}; charset=utf-8`), OCI_MANIFEST);
  assert.equal(mediaTypeOfContentType(`${OCI_MANIFEST};charset=utf-8`), OCI_MANIFEST);
  assert.equal(mediaTypeOfContentType(`${OCI_INDEX} ; charset="utf-8"; x=y`), OCI_INDEX);
  assert.equal(mediaTypeOfContentType(OCI_INDEX), OCI_INDEX);
  assert.equal(mediaTypeOfContentType('Application/VND.Example+JSON'), 'Application/VND.Example+JSON');
  assert.notEqual(mediaTypeOfContentType('Application/JSON'), 'application/json');
});

test('a Content-Type header without a valid media type yields none', () => {
  for (const header of ['', 'json', '; charset=utf-8', 'application/vnd x; charset=utf-8', 'a/b/c']) {
    assert.equal(mediaTypeOfContentType(header), undefined, JSON.stringify(header));
  }
});
