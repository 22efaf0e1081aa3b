// A local HTTP server for loadModel's tests: serves model files by path, counts the requests each path
// gets, and misbehaves on demand (a body cut short of its Content-Length, a slow body to cancel, an
// HTML page). CORS is open so a page on another origin (Vitest's browser mode) can fetch from it.
// GET /__requests answers the counts as JSON and /__reset clears them; neither is counted.
import { type Server, createServer } from 'node:http';
import { gzipSync } from 'node:zlib';

export interface ServedFile {
  body: Uint8Array;
  /** Content-Type (default application/octet-stream). */
  type?: string;
  etag?: string;
  /** Send the full Content-Length but only this many bytes, then close the connection. */
  truncateAt?: number;
  /** Send the body in 4 kB pieces, `slowMs` apart. */
  slowMs?: number;
  status?: number;
  /** Sent gzip-compressed (Content-Encoding: gzip, Content-Length of the compressed bytes; not exposed to other origins). */
  gzip?: boolean;
}

export interface ModelServer {
  url: string;
  files: Map<string, ServedFile>;
  /** Requests per path (GET and HEAD) since the start or the last reset(). */
  requests: Map<string, number>;
  total(): number;
  reset(): void;
  close(): Promise<void>;
}

export async function startModelServer(files: Map<string, ServedFile>): Promise<ModelServer> {
  const requests = new Map<string, number>();
  const server: Server = createServer((req, res) => {
    const path = decodeURIComponent((req.url ?? '/').split('?')[0]);
    res.setHeader('access-control-allow-origin', '*');
    res.setHeader('access-control-expose-headers', 'content-length, etag, content-type');
    if (req.method === 'OPTIONS') return res.writeHead(204).end();
    if (path === '/__requests') {
      res.setHeader('content-type', 'application/json');
      return res.end(JSON.stringify(Object.fromEntries(requests)));
    }
    if (path === '/__reset') {
      requests.clear();
      return res.end('ok');
    }
    requests.set(path, (requests.get(path) ?? 0) + 1);
    const f = files.get(path);
    if (!f) {
      res.writeHead(404, { 'content-type': 'text/plain' });
      return res.end('not found');
    }
    const body = f.gzip ? new Uint8Array(gzipSync(f.body)) : f.body;
    const headers: Record<string, string> = {
      'content-type': f.type ?? 'application/octet-stream',
      'content-length': String(body.length),
    };
    if (f.gzip) headers['content-encoding'] = 'gzip';
    if (f.etag) headers.etag = f.etag;
    res.writeHead(f.status ?? 200, headers);
    if (req.method === 'HEAD') return res.end();
    if (f.truncateAt !== undefined) {
      res.write(body.subarray(0, f.truncateAt));
      setTimeout(() => res.destroy(), 50); // the connection closes short of Content-Length
      return;
    }
    if (!f.slowMs) return res.end(body);
    let at = 0;
    const step = () => {
      if (res.destroyed) return;
      if (at >= body.length) return res.end();
      res.write(body.subarray(at, at + 4096));
      at += 4096;
      setTimeout(step, f.slowMs);
    };
    step();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  return {
    url: `http://127.0.0.1:${port}`,
    files,
    requests,
    total: () => [...requests.values()].reduce((a, b) => a + b, 0),
    reset: () => requests.clear(),
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
