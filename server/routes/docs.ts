/**
 * The API reference: /openapi.json generated from the routes' valibot schemas, and an
 * interactive reference at /docs. The reference UI (RapiDoc) is served from this
 * server, so reading the docs loads nothing from a third party.
 */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { Hono } from 'hono';
import { generateSpecs } from 'hono-openapi';
import type { AppEnv } from '../http/env';

const rapidocFile = join(dirname(createRequire(import.meta.url).resolve('rapidoc/package.json')), 'dist', 'rapidoc-min.js');

const DOCS_PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Samtykke API reference</title>
<script type="module" src="/docs/rapidoc-min.js"></script>
</head>
<body>
<rapi-doc spec-url="/openapi.json" render-style="read" show-header="false" allow-authentication="true" theme="light" primary-color="#1f5c99" schema-style="table" font-size="default"></rapi-doc>
</body>
</html>`;

export function mountDocs(app: Hono<AppEnv>, api: Hono<AppEnv>, publicUrl: string): void {
  let spec: Promise<unknown> | undefined;
  app.get('/openapi.json', async (c) => {
    // The API is mounted under /v1: document it there, so each path joined to the server URL is the real route.
    spec ??= generateSpecs(new Hono<AppEnv>().route('/v1', api), {
      documentation: {
        openapi: '3.1.0',
        info: {
          title: 'Samtykke API',
          version: '1',
          description:
            'Consent and subscription ledger. Service calls authenticate with `Authorization: Bearer <API key>`; a key belongs to one site and carries scopes (`admin`, `write`, `check`, `pii:read`). ' +
            'Errors are `{ "error": { "code", "message", "details" } }`.',
        },
        servers: [{ url: publicUrl }],
        components: {
          securitySchemes: {
            bearerAuth: { type: 'http', scheme: 'bearer', description: 'API key' },
            linkToken: { type: 'http', scheme: 'bearer', description: "The token of a person's preference link (the `#token=` fragment of the link in their mail)" },
          },
        },
      },
      defaultValidationErrorResponse: false,
    });
    return c.json(await spec);
  });
  app.get('/docs', (c) => c.html(DOCS_PAGE));
  let script: Promise<Buffer> | undefined;
  app.get('/docs/rapidoc-min.js', async (c) => {
    script ??= readFile(rapidocFile);
    return c.body(new Uint8Array(await script), 200, {
      'content-type': 'text/javascript; charset=utf-8',
      'cache-control': 'public, max-age=86400',
    });
  });
}
