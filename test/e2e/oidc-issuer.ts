// An OIDC issuer served by the test on loopback: a discovery document and a JWKS made with jose, request
// counters, and switches for outages, so the registry's real fetches can be observed and broken. Plain HTTP by
// default, HTTPS when given TLS server options.
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer, type ServerOptions as HttpsServerOptions } from 'node:https';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK, type JWTPayload } from 'jose';

export interface SigningKey {
  readonly kid: string | undefined;
  readonly alg: string;
  readonly privateKey: CryptoKey;
  readonly jwk: JWK;
}

export async function makeSigningKey(kid: string | undefined, alg = 'RS256'): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  const jwk = await exportJWK(publicKey);
  return { kid, alg, privateKey, jwk: { ...jwk, ...(kid === undefined ? {} : { kid }), use: 'sig', alg } };
}

export class OidcIssuer {
  readonly server: Server | HttpsServer;
  url = '';
  /** Keys published in the JWKS. */
  published: SigningKey[] = [];
  /** Requests per path (`/.well-known/openid-configuration`, `/jwks`). */
  readonly requests = new Map<string, number>();
  /** Status answered for the JWKS; 200 serves the keys. */
  jwksStatus = 200;
  /** When set, the discovery document names this issuer instead of the real one. */
  discoveryIssuer: string | undefined;
  /** When set, requests without exactly this `Authorization` get 401. */
  requiredAuthorization: string | undefined;
  /** The `Authorization` header of every request, in order (null when absent). */
  readonly authorizations: Array<string | null> = [];

  constructor(tls?: HttpsServerOptions) {
    const handle = (req: IncomingMessage, res: ServerResponse) => {
      const path = req.url ?? '';
      this.requests.set(path, (this.requests.get(path) ?? 0) + 1);
      this.authorizations.push(req.headers.authorization ?? null);
      if (this.requiredAuthorization !== undefined && req.headers.authorization !== this.requiredAuthorization) {
        res.statusCode = 401;
        res.end('{}');
        return;
      }
      if (path === '/.well-known/openid-configuration') {
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ issuer: this.discoveryIssuer ?? this.url, jwks_uri: `${this.url}/jwks` }));
      } else if (path === '/jwks' && this.jwksStatus === 200) {
        res.setHeader('content-type', 'application/jwk-set+json');
        res.end(JSON.stringify({ keys: [{ kty: 'oct', kid: 'symmetric', k: 'AAAA' }, ...this.published.map((key) => key.jwk)] }));
      } else {
        res.statusCode = path === '/jwks' ? this.jwksStatus : 404;
        res.end('{}');
      }
    };
    this.server = tls === undefined ? createServer(handle) : createHttpsServer(tls, handle);
  }

  /** Listening on loopback; `tls` makes it an `https://` issuer (with `requestCert`, a client-certificate one). */
  static async start(tls?: HttpsServerOptions): Promise<OidcIssuer> {
    const issuer = new OidcIssuer(tls);
    issuer.server.listen(0, '127.0.0.1');
    await once(issuer.server, 'listening');
    issuer.url = `${tls === undefined ? 'http' : 'https'}://127.0.0.1:${(issuer.server.address() as AddressInfo).port}`;
    return issuer;
  }

  /** Total requests the registry made to this issuer. */
  get total(): number {
    return [...this.requests.values()].reduce((sum, count) => sum + count, 0);
  }

  jwksFetches(): number {
    return this.requests.get('/jwks') ?? 0;
  }

  /** A token signed by `key` with iss = this issuer, exp in an hour unless `claims` override. */
  sign(key: SigningKey, claims: JWTPayload & Record<string, unknown> = {}): Promise<string> {
    const now = Math.floor(Date.now() / 1000);
    return new SignJWT({ iss: this.url, sub: 'build', exp: now + 3600, ...claims })
      .setProtectedHeader({ alg: key.alg, ...(key.kid === undefined ? {} : { kid: key.kid }) })
      .sign(key.privateKey);
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((done) => this.server.close(done));
  }
}

/** A JWT whose header and payload are whatever the test says, with a junk signature. */
export function forgedToken(header: Record<string, unknown>, payload: Record<string, unknown>): string {
  const part = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  return `${part(header)}.${part(payload)}.${Buffer.from('not-a-signature').toString('base64url')}`;
}

export function bearer(token: string): string {
  return `Bearer ${token}`;
}
