/**
 * The OpenAPI 3.1 document of the HTTP API, served at `/openapi.json` and saved as docs/openapi.json
 * (a docs test keeps the two equal).
 */
import { DATA_TYPES } from '../schema/datasets.js';
import { VERSION } from '../version.js';

const tableResponses = {
  '200': {
    description:
      'Rows in timestamp order, streamed. Format by `format=` or `Accept`: NDJSON (default), CSV (header row), Arrow IPC stream. Header `x-ticklake-rows` gives the row count.',
    content: {
      'application/x-ndjson': { schema: { type: 'string' } },
      'text/csv': { schema: { type: 'string' } },
      'application/vnd.apache.arrow.stream': { schema: { type: 'string', format: 'binary' } },
    },
  },
  '400': { $ref: '#/components/responses/Error' },
  '401': { $ref: '#/components/responses/Error' },
  '404': { $ref: '#/components/responses/Error' },
  '413': { $ref: '#/components/responses/Error' },
  '504': { $ref: '#/components/responses/Error' },
};

const q = (name: string, description: string, required = false, schema: object = { type: 'string' }) => ({
  name,
  in: 'query',
  required,
  description,
  schema,
});

const rangeParams = [
  q(
    'key',
    'instrument key VENUE:TYPE:SYMBOL; repeat or comma-separate for several (merged in timestamp order)',
    true,
  ),
  q('from', 'inclusive start: YYYY-MM-DD (UTC midnight), ISO time or epoch ms', true),
  q('to', 'exclusive end: YYYY-MM-DD (UTC midnight), ISO time or epoch ms', true),
  q('columns', 'comma-separated columns (default all)'),
  q('format', 'ndjson | csv | arrow (default: from Accept, else ndjson)', false, {
    type: 'string',
    enum: ['ndjson', 'csv', 'arrow'],
  }),
];

export function openApiDocument(): Record<string, unknown> {
  return {
    openapi: '3.1.0',
    info: {
      title: 'ticklake HTTP API',
      version: VERSION,
      description:
        'Read-only access to a ticklake market-data lake. Errors are JSON {"error": {"code", "message", "hint"}} with the stable ticklake error code. A bearer token is required when the server is bound to anything but loopback (and whenever one is configured); /healthz and /openapi.json are open.',
    },
    security: [{ bearer: [] }],
    paths: {
      '/healthz': {
        get: { summary: 'Liveness', security: [], responses: { '200': { description: '{"status":"ok"}' } } },
      },
      '/openapi.json': {
        get: { summary: 'This document', security: [], responses: { '200': { description: 'OpenAPI 3.1' } } },
      },
      '/metrics': {
        get: {
          summary: 'Prometheus metrics: requests, latency histograms, rows and bytes served, read cache',
          responses: { '200': { description: 'text/plain; version=0.0.4' } },
        },
      },
      '/v1/instruments': {
        get: {
          summary: "One date's instrument list (instrument availability)",
          parameters: [
            q('date', 'YYYY-MM-DD', true),
            q('venue', 'e.g. DERIBIT (comma-separate for several)'),
            q('type', 'spot | perpetual | future | option (or SPOT_PAIR, PERP, FUTURE, OPTION)'),
            q('base', 'base asset, e.g. BTC'),
            q('quote', 'quote asset, e.g. USD'),
            q('exchange', 'vendor exchange, e.g. deribit'),
            q(
              'expiringWithin',
              'only instruments expiring within this long after the day starts: days (30) or 30d, 12h, 90m',
            ),
            rangeParams[4],
          ],
          responses: tableResponses,
        },
      },
      '/v1/ticks/{dataType}': {
        get: {
          summary: 'Raw ticks of one or more instruments for [from, to)',
          parameters: [
            {
              name: 'dataType',
              in: 'path',
              required: true,
              schema: { type: 'string', enum: [...DATA_TYPES] },
            },
            ...rangeParams,
          ],
          responses: tableResponses,
        },
      },
      '/v1/candles': {
        get: {
          summary: 'Candles of one or more instruments',
          parameters: [q('timeframe', '15s | 1m | 5m | 15m | 1h | 4h | 24h', true), ...rangeParams],
          responses: tableResponses,
        },
      },
      '/v1/book_snapshots': {
        get: {
          summary: 'Processed book snapshots at a fixed interval',
          parameters: [q('timeframe', 'snapshot interval, e.g. 1m', true), ...rangeParams],
          responses: tableResponses,
        },
      },
      '/v1/features': {
        get: {
          summary: 'A feature set',
          parameters: [
            q('set', 'feature set name', true),
            q('version', 'feature set version (default latest)', false, { type: 'integer' }),
            q('timeframe', 'e.g. 1m', true),
            ...rangeParams,
          ],
          responses: tableResponses,
        },
      },
      '/v1/catalog/files': {
        get: {
          summary: 'Catalog records of published files',
          parameters: [
            q('dataset', 'raw_tick_data, processed_candles, ...'),
            q('dataType', 'e.g. trades'),
            q('key', 'instrument key'),
            q('fromDay', 'inclusive YYYY-MM-DD'),
            q('toDay', 'inclusive YYYY-MM-DD'),
          ],
          responses: { '200': { description: '{"files": [FileRecord, ...]}' } },
        },
      },
      '/v1/jobs': {
        get: {
          summary: 'Jobs (when the catalog lists them) and ingestion tasks',
          parameters: [q('taskStatus', 'pending | running | done | absent | failed')],
          responses: { '200': { description: '{"jobs": [...] | null, "tasks": [...]}' } },
        },
      },
      '/v1/jobs/{id}': {
        get: {
          summary: 'One job',
          parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'integer' } }],
          responses: {
            '200': { description: '{"job": JobRecord}' },
            '404': { $ref: '#/components/responses/Error' },
          },
        },
      },
      '/v1/sql': {
        post: {
          summary:
            'One read-only SELECT over the lake views (trades, quotes, candles_1m, instruments, ...). Only when the server runs with --enable-sql.',
          requestBody: {
            content: {
              'application/json': {
                schema: { type: 'object', properties: { sql: { type: 'string' } }, required: ['sql'] },
              },
              'text/plain': { schema: { type: 'string' } },
            },
          },
          parameters: [rangeParams[4]],
          responses: { ...tableResponses, '403': { $ref: '#/components/responses/Error' } },
        },
      },
    },
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } },
      responses: {
        Error: {
          description: 'A typed error',
          content: {
            'application/json': {
              schema: {
                type: 'object',
                properties: {
                  error: {
                    type: 'object',
                    properties: {
                      code: { type: 'string' },
                      message: { type: 'string' },
                      hint: { type: 'string' },
                    },
                    required: ['code', 'message'],
                  },
                },
              },
            },
          },
        },
      },
    },
  };
}
