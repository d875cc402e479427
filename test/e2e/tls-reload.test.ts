// TLS (docs/configuration.md, `[server.tls]`): certificate files replaced on disk are picked up without a restart;
// a broken replacement keeps the previous certificate; a connection that never completes its handshake is closed
// after `handshake_timeout`. Certificates are made by the real openssl.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { connect as connectTcp } from 'node:net';
import { connect } from 'node:tls';
import { once } from 'node:events';
import { after, before, describe, it } from 'node:test';
import { requireBinary, runBinary } from '../support/binaries.ts';
import { startServer, type RunningServer } from '../support/server.ts';

async function makeCertificate(dir: string, name: string): Promise<{ cert: string; key: string }> {
  const cert = join(dir, `${name}.crt`);
  const key = join(dir, `${name}.key`);
  await runBinary('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', `/CN=${name}`, '-addext', 'subjectAltName=IP:127.0.0.1']);
  return { cert, key };
}

/** The common name of the certificate a fresh handshake presents. */
function presentedName(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port, rejectUnauthorized: false }, () => {
      const subject = socket.getPeerCertificate().subject as { CN?: string | string[] } | undefined;
      socket.end();
      resolve(String(subject?.CN));
    });
    socket.once('error', reject);
  });
}

/** Replaces a file by rename, as deployment tools do, so the server never reads half a file. */
async function replace(target: string, content: Buffer | string): Promise<void> {
  await writeFile(`${target}.new`, content);
  await rename(`${target}.new`, target);
}

/** Polls until the presented certificate is `expected`, giving up after ~10 s (a bound, not a timing assertion). */
async function waitForName(port: number, expected: string): Promise<string> {
  let seen = '';
  for (let attempt = 0; attempt < 100 && seen !== expected; attempt++) {
    seen = await presentedName(port);
    if (seen !== expected) await sleep(100);
  }
  return seen;
}

describe('TLS certificate reload', () => {
  let dir: string;
  let srv: RunningServer | undefined;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'angos-tls-'));
  });
  after(async () => {
    await srv?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('serves the replacement certificate on new handshakes, and keeps it when a broken key is written', async (t) => {
    if (!requireBinary(t, 'openssl')) return;
    const first = await makeCertificate(dir, 'first');
    const second = await makeCertificate(dir, 'second');
    const live = { cert: join(dir, 'live.crt'), key: join(dir, 'live.key') };
    await replace(live.cert, await readFile(first.cert));
    await replace(live.key, await readFile(first.key));
    srv = await startServer({
      extraToml: `[server.tls]\nserver_certificate_bundle = ${JSON.stringify(live.cert)}\nserver_private_key = ${JSON.stringify(live.key)}\n`,
    });
    assert.equal(await presentedName(srv.port), 'first');

    await replace(live.key, await readFile(second.key));
    await replace(live.cert, await readFile(second.cert));
    assert.equal(await waitForName(srv.port, 'second'), 'second');

    await replace(live.key, 'not a key');
    await sleep(500);
    assert.equal(await presentedName(srv.port), 'second');
    assert.ok(
      srv.logs.some((entry) => String((entry.fields as { message?: string }).message).startsWith('Failed to reload TLS configuration')),
      'a failed reload is logged',
    );
  });
});

describe('TLS handshake timeout', () => {
  let dir: string;
  let srv: RunningServer | undefined;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'angos-tls-handshake-'));
  });
  after(async () => {
    await srv?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('closes a connection that sends no ClientHello once handshake_timeout passes', async (t) => {
    if (!requireBinary(t, 'openssl')) return;
    const { cert, key } = await makeCertificate(dir, 'handshake');
    srv = await startServer({
      serverKeys: 'handshake_timeout = 1',
      extraToml: `[server.tls]\nserver_certificate_bundle = ${JSON.stringify(cert)}\nserver_private_key = ${JSON.stringify(key)}\n`,
    });
    const silent = connectTcp(srv.port, '127.0.0.1');
    silent.on('error', () => {});
    await once(silent, 'connect');
    // Node's own default is 120 s; the 10 s bound is a hang guard, not a timing assertion.
    const closed = await Promise.race([once(silent, 'close').then(() => true), sleep(10_000).then(() => false)]);
    silent.destroy();
    assert.ok(closed, 'the server closed the silent connection');
    assert.equal(await presentedName(srv.port), 'handshake', 'handshakes that do happen still work');
  });
});
