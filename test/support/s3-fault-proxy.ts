// A fault mock in front of the real gateway, for faults no real server on this machine shows. It forwards every
// request to a bucket's gateway byte for byte (the Host header included, so signatures still verify), except:
// - a PutObject the test chose to refuse: it never reaches the gateway; the proxy tells the test (which kills the
//   registry server at that moment) and cuts the connection, as if the client had died just before sending it;
// - with `refuseUploadPartCopy`, every UploadPartCopy, answered with S3's 501 NotImplemented as by S3-compatible
//   servers that lack it.
// Nothing else about S3 is imitated: every other answer the registry sees comes from the gateway.
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pipeline } from 'node:stream/promises';
import type { S3Settings } from '../../src/config/types.ts';
import { s3Settings, type RgwFixture, type S3Place } from './rgw-fixture.ts';

/** Sees the key of every PutObject through the proxy (multipart parts excluded); `'refuse'` drops that request. */
export type PutObserver = (key: string) => 'refuse' | undefined;

export class S3FaultProxy implements S3Place {
  readonly bucket: string;
  readonly accessKey: string;
  readonly secretKey: string;
  readonly #server: Server;
  readonly #observers = new Set<PutObserver>();

  private constructor(fixture: RgwFixture, server: Server) {
    this.bucket = fixture.bucket;
    this.accessKey = fixture.accessKey;
    this.secretKey = fixture.secretKey;
    this.#server = server;
  }

  static async start(fixture: RgwFixture, options: { refuseUploadPartCopy?: boolean } = {}): Promise<S3FaultProxy> {
    const target = new URL(fixture.endpoint);
    const server = createServer();
    const proxy = new S3FaultProxy(fixture, server);
    server.on('request', (req, res) => {
      const url = new URL(req.url ?? '/', 'http://proxy');
      const key = proxy.#objectKey(url);
      if (options.refuseUploadPartCopy && req.method === 'PUT' && url.searchParams.has('uploadId') && req.headers['x-amz-copy-source'] !== undefined) {
        req.resume();
        res.writeHead(501, { 'content-type': 'application/xml' });
        res.end('<?xml version="1.0" encoding="UTF-8"?><Error><Code>NotImplemented</Code><Message>UploadPartCopy is not implemented</Message></Error>');
        return;
      }
      if (req.method === 'PUT' && key !== undefined && !url.searchParams.has('uploadId') && proxy.#refuses(key)) {
        req.socket.destroy();
        return;
      }
      const upstream = request({ host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers }, (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        pipeline(answer, res).catch(() => res.destroy());
      });
      upstream.on('error', () => res.destroy());
      pipeline(req, upstream).catch(() => upstream.destroy());
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return proxy;
  }

  get endpoint(): string {
    return `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
  }

  /** Store settings for the bucket through this proxy. */
  options(overrides: Partial<S3Settings> = {}): S3Settings {
    return s3Settings(this, overrides);
  }

  /** Calls `observe` with the key of every later PutObject until the returned function is called. */
  observePuts(observe: PutObserver): () => void {
    this.#observers.add(observe);
    return () => this.#observers.delete(observe);
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => {
      this.#server.close(() => resolve());
      this.#server.closeAllConnections();
    });
  }

  /** The object key of a path-style request on this bucket (`/<bucket>/<key>`). */
  #objectKey(url: URL): string | undefined {
    const start = `/${this.bucket}/`;
    if (!url.pathname.startsWith(start) || url.pathname.length === start.length) return undefined;
    return decodeURIComponent(url.pathname.slice(start.length));
  }

  #refuses(key: string): boolean {
    let refused = false;
    for (const observe of this.#observers) refused = observe(key) === 'refuse' || refused;
    return refused;
  }
}
