/**
 * TEST STAND-IN, not an emulator: the small subset of the Google Cloud Storage JSON API
 * (https://storage.googleapis.com/storage/v1) and upload API that @google-cloud/storage uses for the
 * lake, served from memory on 127.0.0.1: simple (multipart/related) and resumable uploads (chunked,
 * 308 + Range, status queries), object metadata, downloads with `Range`, list with
 * prefix/maxResults/pageToken, delete. JSON paths are accepted with and without the `/storage/v1`
 * prefix (the library drops it when STORAGE_EMULATOR_HOST is set).
 *
 * Fault injection for tests: `failNext(n, status)` answers the next n requests with that status,
 * `deny = true` answers 403 to everything. `requests` logs `METHOD path?query` of each request.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

interface Obj {
  data: Buffer;
  generation: number;
  updated: string;
  contentType: string;
}

interface Upload {
  bucket: string;
  name: string;
  contentType: string;
  chunks: Buffer[];
  received: number;
}

export interface GcsStandIn {
  /** `http://127.0.0.1:PORT` — pass as apiEndpoint. */
  url: string;
  buckets: Map<string, Map<string, Obj>>;
  requests: string[];
  deny: boolean;
  failNext(n: number, status: number): void;
  close(): Promise<void>;
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function md5b64(b: Buffer): string {
  return createHash('md5').update(b).digest('base64');
}

function meta(bucket: string, name: string, o: Obj): Record<string, unknown> {
  return {
    kind: 'storage#object',
    id: `${bucket}/${name}/${o.generation}`,
    name,
    bucket,
    generation: String(o.generation),
    metageneration: '1',
    contentType: o.contentType,
    size: String(o.data.length),
    md5Hash: md5b64(o.data),
    etag: `CJ${o.generation}`,
    timeCreated: o.updated,
    updated: o.updated,
  };
}

function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=UTF-8', ...headers });
  res.end(text);
}

function sendError(res: ServerResponse, status: number, message: string): void {
  sendJson(res, status, { error: { code: status, message, errors: [{ message, reason: String(status) }] } });
}

/** Split a multipart/related body into its parts' bodies. */
function multipartParts(body: Buffer, contentType: string): Buffer[] {
  const m = /boundary="?([^";]+)"?/i.exec(contentType);
  if (!m) return [];
  const delim = Buffer.from(`--${m[1]}`);
  const parts: Buffer[] = [];
  let pos = body.indexOf(delim);
  while (pos >= 0) {
    const start = pos + delim.length;
    if (body.subarray(start, start + 2).toString() === '--') break;
    const next = body.indexOf(delim, start);
    if (next < 0) break;
    let part = body.subarray(start, next);
    if (part.subarray(0, 2).toString() === '\r\n') part = part.subarray(2);
    const headerEnd = part.indexOf('\r\n\r\n');
    let content = headerEnd >= 0 ? part.subarray(headerEnd + 4) : part;
    if (content.subarray(content.length - 2).toString() === '\r\n')
      content = content.subarray(0, content.length - 2);
    parts.push(content);
    pos = next;
  }
  return parts;
}

export async function startGcsStandIn(opts: { buckets?: string[] } = {}): Promise<GcsStandIn> {
  const buckets = new Map<string, Map<string, Obj>>();
  for (const b of opts.buckets ?? []) buckets.set(b, new Map());
  const uploads = new Map<string, Upload>();
  let generation = 1_700_000_000_000_000;
  let failCount = 0;
  let failStatus = 503;
  const state = { deny: false };
  const requests: string[] = [];

  const store = (bucket: string, name: string, data: Buffer, contentType: string): Obj => {
    const o: Obj = { data, generation: ++generation, updated: new Date().toISOString(), contentType };
    buckets.get(bucket)!.set(name, o);
    return o;
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://x');
    const method = req.method ?? 'GET';
    requests.push(`${method} ${url.pathname}${url.search}`);
    const body = await readBody(req);
    if (state.deny) return sendError(res, 403, 'test-account does not have storage.objects access');
    if (failCount > 0) {
      failCount--;
      return sendError(res, failStatus, 'injected failure');
    }
    let path = url.pathname;
    const isUpload = path.startsWith('/upload/storage/v1/');
    path = path.replace(/^\/upload\/storage\/v1/, '').replace(/^\/storage\/v1/, '');
    const m = /^\/b\/([^/]+)(?:\/o(?:\/(.+))?)?$/.exec(path);
    if (!m) return sendError(res, 404, `Not Found: ${url.pathname}`);
    const bucket = decodeURIComponent(m[1]!);
    const objects = buckets.get(bucket);
    if (!objects) return sendError(res, 404, 'The specified bucket does not exist.');
    const name = m[2] === undefined ? undefined : decodeURIComponent(m[2]);

    if (isUpload) {
      const uploadId = url.searchParams.get('upload_id');
      if (method === 'POST' && url.searchParams.get('uploadType') === 'multipart') {
        const parts = multipartParts(body, req.headers['content-type'] ?? '');
        if (parts.length < 2) return sendError(res, 400, 'bad multipart body');
        const md = JSON.parse(parts[0]!.toString('utf8')) as {
          name?: string;
          md5Hash?: string;
          contentType?: string;
        };
        const objName = url.searchParams.get('name') ?? md.name;
        if (!objName) return sendError(res, 400, 'object name required');
        if (md.md5Hash && md.md5Hash !== md5b64(parts[1]!)) {
          return sendError(res, 400, 'Provided MD5 hash does not match the calculated MD5 hash');
        }
        const o = store(
          bucket,
          objName,
          Buffer.from(parts[1]!),
          md.contentType ?? 'application/octet-stream',
        );
        return sendJson(res, 200, meta(bucket, objName, o));
      }
      if (method === 'POST' && url.searchParams.get('uploadType') === 'resumable') {
        const md =
          body.length > 0
            ? (JSON.parse(body.toString('utf8')) as { name?: string; contentType?: string })
            : {};
        const objName = url.searchParams.get('name') ?? md.name;
        if (!objName) return sendError(res, 400, 'object name required');
        const id = randomBytes(12).toString('hex');
        uploads.set(id, {
          bucket,
          name: objName,
          contentType: md.contentType ?? 'application/octet-stream',
          chunks: [],
          received: 0,
        });
        const host = req.headers.host ?? '127.0.0.1';
        const location = `http://${host}/upload/storage/v1/b/${encodeURIComponent(bucket)}/o?uploadType=resumable&name=${encodeURIComponent(objName)}&upload_id=${id}`;
        res.writeHead(200, { location, 'content-length': '0' });
        res.end();
        return;
      }
      if (method === 'PUT' && uploadId) {
        const up = uploads.get(uploadId);
        if (!up) return sendError(res, 404, 'No such upload');
        const range = String(req.headers['content-range'] ?? '');
        const incomplete = () => {
          res.writeHead(
            308,
            up.received > 0
              ? { range: `bytes=0-${up.received - 1}`, 'content-length': '0' }
              : { 'content-length': '0' },
          );
          res.end();
        };
        const finish = () => {
          const data = Buffer.concat(up.chunks);
          uploads.delete(uploadId);
          const o = store(up.bucket, up.name, data, up.contentType);
          return sendJson(res, 200, meta(up.bucket, up.name, o));
        };
        const status = /^bytes \*\/(\d+|\*)$/.exec(range);
        if (status) {
          if (status[1] !== '*' && Number(status[1]) === up.received) return finish();
          return incomplete();
        }
        const r = /^bytes (\d+)-(\d+|\*)\/(\d+|\*|undefined)$/.exec(range);
        if (!r) {
          // No Content-Range: the whole object in one request.
          up.chunks.push(body);
          up.received += body.length;
          return finish();
        }
        const start = Number(r[1]);
        if (start !== up.received)
          return sendError(res, 400, `chunk starts at ${start}, expected ${up.received}`);
        up.chunks.push(body);
        up.received += body.length;
        const total = r[3] === '*' || r[3] === 'undefined' ? undefined : Number(r[3]);
        if (r[2] === '*' || (total !== undefined && up.received >= total)) return finish();
        return incomplete();
      }
      return sendError(res, 400, 'unsupported upload request');
    }

    if (name === undefined) {
      if (m[0].endsWith('/o') && method === 'GET') {
        const prefix = url.searchParams.get('prefix') ?? '';
        const max = Math.min(1000, Number(url.searchParams.get('maxResults') ?? 1000));
        const after = url.searchParams.get('pageToken');
        const names = [...objects.keys()].filter((n) => n.startsWith(prefix)).sort();
        const from = after ? names.findIndex((n) => n > Buffer.from(after, 'base64').toString('utf8')) : 0;
        const page = from < 0 ? [] : names.slice(from, from + max);
        const more = from >= 0 && from + max < names.length;
        return sendJson(res, 200, {
          kind: 'storage#objects',
          items: page.map((n) => meta(bucket, n, objects.get(n)!)),
          ...(more ? { nextPageToken: Buffer.from(page[page.length - 1]!).toString('base64') } : {}),
        });
      }
      if (method === 'GET') return sendJson(res, 200, { kind: 'storage#bucket', name: bucket, id: bucket });
      return sendError(res, 405, 'method not allowed');
    }

    const o = objects.get(name);
    const wantGen = url.searchParams.get('generation');
    if (!o || (wantGen && Number(wantGen) !== o.generation)) {
      return sendError(res, 404, `No such object: ${bucket}/${name}`);
    }
    if (method === 'DELETE') {
      objects.delete(name);
      res.writeHead(204);
      res.end();
      return;
    }
    if (method !== 'GET') return sendError(res, 405, 'method not allowed');
    if (url.searchParams.get('alt') !== 'media') return sendJson(res, 200, meta(bucket, name, o));
    const headers: Record<string, string> = {
      'content-type': o.contentType,
      'x-goog-generation': String(o.generation),
      'x-goog-hash': `md5=${md5b64(o.data)}`,
      'x-goog-stored-content-length': String(o.data.length),
      etag: `CJ${o.generation}`,
    };
    const range = /^bytes=(\d+)-(\d*)$/.exec(String(req.headers.range ?? ''));
    if (range) {
      const start = Number(range[1]);
      const end = range[2] === '' ? o.data.length - 1 : Math.min(Number(range[2]), o.data.length - 1);
      if (start >= o.data.length) return sendError(res, 416, 'Requested range not satisfiable');
      const slice = o.data.subarray(start, end + 1);
      res.writeHead(206, {
        ...headers,
        'content-range': `bytes ${start}-${end}/${o.data.length}`,
        'content-length': String(slice.length),
      });
      res.end(slice);
      return;
    }
    res.writeHead(200, { ...headers, 'content-length': String(o.data.length) });
    res.end(o.data);
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((err) => {
      if (!res.headersSent) sendError(res, 500, String((err as Error).message));
      else res.destroy();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  const standIn: GcsStandIn = {
    url: `http://127.0.0.1:${port}`,
    buckets,
    requests,
    get deny() {
      return state.deny;
    },
    set deny(v: boolean) {
      state.deny = v;
    },
    failNext(n, status) {
      failCount = n;
      failStatus = status;
    },
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
  return standIn;
}
