// Real credentials for the auth end-to-end tests: password hashes from the `angos argon` command itself and an
// X.509 CA, server and client certificates made by openssl.
import { spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runBinary } from '../support/binaries.ts';
import { request } from '../support/http.ts';
import { cliMain, nodeBin } from '../support/server.ts';

/** `echo <password> | angos argon`: the PHC line it prints. */
export function argonHash(password: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(nodeBin, [cliMain, 'argon'], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('exit', (code) => {
      const line = stdout.trim();
      if (code === 0 && line.startsWith('$argon2id$')) resolve(line);
      else reject(new Error(`angos argon exited ${code}: ${stdout} ${stderr}`));
    });
    child.stdin.end(`${password}\n`);
  });
}

/** `[auth.identity.<id>]` with a hash made by the real CLI. */
export async function identityToml(id: string, username: string, password: string): Promise<string> {
  return `[auth.identity.${id}]\nusername = ${JSON.stringify(username)}\npassword = ${JSON.stringify(await argonHash(password))}\n`;
}

/** Basic `Authorization` header value. */
export function basicAuth(username: string, password: string, scheme = 'Basic'): string {
  return `${scheme} ${Buffer.from(`${username}:${password}`, 'utf8').toString('base64')}`;
}

/** The value of one `auth_attempts_total` series from `/metrics` (0 when the series does not exist yet). */
export async function authAttempts(baseUrl: string, method: string, result: string, headers: Record<string, string> = {}): Promise<number> {
  const response = await request(baseUrl, '/metrics', { headers });
  if (response.status !== 200) throw new Error(`GET /metrics answered ${response.status}`);
  const series = `auth_attempts_total{method="${method}",result="${result}"}`;
  const line = response.body.toString('utf8').split('\n').find((entry) => entry.startsWith(`${series} `));
  return line === undefined ? 0 : Number(line.slice(series.length + 1));
}

export interface CertificateFiles {
  dir: string;
  caCert: string;
  serverCert: string;
  serverKey: string;
  /** Signed by the CA: `CN=build, O=Platform, O=Ops`, EKU clientAuth. */
  clientCert: string;
  clientKey: string;
  /** Self-signed with the same subject: chains to no configured CA. */
  strangerCert: string;
  strangerKey: string;
}

async function openssl(dir: string, args: string[]): Promise<void> {
  await runBinary('openssl', args, { cwd: dir });
}

/** A CA, a server certificate for 127.0.0.1 and client certificates, all P-256 (fast to generate). */
export async function makeCertificates(dir: string): Promise<CertificateFiles> {
  const key = (name: string) => openssl(dir, ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', name]);
  const file = (name: string) => join(dir, name);
  await Promise.all([key('ca.key'), key('server.key'), key('client.key'), key('stranger.key')]);
  await openssl(dir, ['req', '-x509', '-new', '-key', 'ca.key', '-subj', '/CN=Angos Test CA', '-days', '2', '-out', 'ca.pem',
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
  await writeFile(file('server.ext'), 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n');
  await writeFile(file('client.ext'), 'extendedKeyUsage=clientAuth\n');
  const sign = async (name: string, subject: string, ext: string) => {
    await openssl(dir, ['req', '-new', '-key', `${name}.key`, '-subj', subject, '-out', `${name}.csr`]);
    await openssl(dir, ['x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '2',
      '-extfile', ext, '-out', `${name}.pem`]);
  };
  await sign('server', '/CN=127.0.0.1', 'server.ext');
  await sign('client', '/CN=build/O=Platform/O=Ops', 'client.ext');
  await openssl(dir, ['req', '-x509', '-new', '-key', 'stranger.key', '-subj', '/CN=build/O=Platform/O=Ops', '-days', '2',
    '-addext', 'extendedKeyUsage=clientAuth', '-out', 'stranger.pem']);
  return {
    dir,
    caCert: file('ca.pem'),
    serverCert: file('server.pem'),
    serverKey: file('server.key'),
    clientCert: file('client.pem'),
    clientKey: file('client.key'),
    strangerCert: file('stranger.pem'),
    strangerKey: file('stranger.key'),
  };
}
