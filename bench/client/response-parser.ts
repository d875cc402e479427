/** What the load loops need of a response: its status and where its body ends. */
export interface ResponseHead {
  status: number;
  contentLength: number | undefined;
  chunked: boolean;
  close: boolean;
  /** The `Link` header as sent (a paged listing's next page), case kept. */
  link: string | undefined;
  /** The `Location` header as sent (a redirect's target), case kept. */
  location: string | undefined;
}

const MAX_HEAD_BYTES = 64 * 1024;

/**
 * An incremental HTTP/1.1 response reader for one keep-alive connection: fed socket chunks, it reports each
 * complete response. It keeps no body bytes (they are only skipped), which is what lets one process drive
 * dozens of connections without the client becoming the bottleneck, as autocannon does.
 */
export class ResponseParser {
  #head: Buffer[] = [];
  #headBytes = 0;
  #current: ResponseHead | undefined;
  #bodyLeft = 0;
  #chunkState: 'size' | 'data' | 'data-end' | 'trailer' = 'size';
  #line = '';
  #noBody = false;

  /** Call before each request: a HEAD answer has a length but no body. */
  expect(method: string): void {
    this.#noBody = method === 'HEAD';
  }

  /** Feeds bytes; returns the response head once its body is fully read, else undefined. */
  feed(data: Buffer): ResponseHead | undefined {
    let offset = 0;
    if (this.#current === undefined) {
      offset = this.#readHead(data);
      if (this.#current === undefined) return undefined;
    }
    const head: ResponseHead = this.#current;
    const done = head.chunked ? this.#skipChunked(data, offset) : this.#skipLength(data, offset);
    if (!done) return undefined;
    this.#current = undefined;
    return head;
  }

  /** `data` may be a view of a reused read buffer: only copies of it are kept. */
  #readHead(data: Buffer): number {
    const all = this.#head.length === 0 ? data : Buffer.concat([...this.#head, data]);
    const end = all.indexOf('\r\n\r\n');
    if (end < 0) {
      this.#head.push(Buffer.from(data));
      this.#headBytes += data.length;
      if (this.#headBytes > MAX_HEAD_BYTES) throw new Error(`response head exceeds ${MAX_HEAD_BYTES} bytes`);
      return data.length;
    }
    const lines = all.toString('latin1', 0, end).split('\r\n');
    const status = /^HTTP\/1\.[01] (\d{3})/.exec(lines[0] ?? '');
    if (!status) throw new Error(`not an HTTP/1.1 status line: ${JSON.stringify(lines[0])}`);
    const head: ResponseHead = { status: Number(status[1]), contentLength: undefined, chunked: false, close: false, link: undefined, location: undefined };
    for (const line of lines.slice(1)) {
      const colon = line.indexOf(':');
      const name = line.slice(0, colon).trim().toLowerCase();
      const raw = line.slice(colon + 1).trim();
      const value = raw.toLowerCase();
      if (name === 'content-length') head.contentLength = Number(value);
      else if (name === 'link') head.link = raw;
      else if (name === 'location') head.location = raw;
      else if (name === 'transfer-encoding') head.chunked = value.includes('chunked');
      else if (name === 'connection') head.close = value.includes('close');
    }
    const bodyless = this.#noBody || head.status === 204 || head.status === 304 || (head.status >= 100 && head.status < 200);
    if (!bodyless && !head.chunked && head.contentLength === undefined) throw new Error('response with neither Content-Length nor chunked body');
    if (bodyless) head.chunked = false;
    this.#bodyLeft = bodyless ? 0 : (head.contentLength ?? 0);
    this.#chunkState = 'size';
    this.#line = '';
    this.#current = head;
    this.#head = [];
    this.#headBytes = 0;
    // Where the body starts within this chunk.
    return end + 4 - (all.length - data.length);
  }

  #skipLength(data: Buffer, offset: number): boolean {
    this.#bodyLeft -= Math.min(this.#bodyLeft, data.length - offset);
    return this.#bodyLeft === 0;
  }

  #skipChunked(data: Buffer, offset: number): boolean {
    let i = offset;
    while (i < data.length) {
      if (this.#chunkState === 'data') {
        const take = Math.min(this.#bodyLeft, data.length - i);
        i += take;
        this.#bodyLeft -= take;
        if (this.#bodyLeft === 0) this.#chunkState = 'data-end';
        continue;
      }
      const newline = data.indexOf(0x0a, i);
      const end = newline < 0 ? data.length : newline + 1;
      this.#line += data.toString('latin1', i, end);
      i = end;
      if (newline < 0) break;
      const line = this.#line.trimEnd();
      this.#line = '';
      if (this.#chunkState === 'data-end') {
        this.#chunkState = 'size';
      } else if (this.#chunkState === 'size') {
        const size = parseInt(line.split(';')[0] ?? '', 16);
        if (Number.isNaN(size)) throw new Error(`bad chunk size line ${JSON.stringify(line)}`);
        this.#bodyLeft = size;
        this.#chunkState = size === 0 ? 'trailer' : 'data';
      } else if (line === '') {
        return true;
      }
    }
    return false;
  }
}
