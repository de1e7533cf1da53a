import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { ServerResponse } from 'node:http';
import { VigilError } from '../errors.ts';

/**
 * GET /docs: Swagger UI over vigil's OpenAPI documents, so that a person can read and try the
 * inference API of every deployment. The renderer is swagger-ui-dist (an npm dependency, served
 * from node_modules: nothing is fetched at run time, and the page loads nothing from elsewhere,
 * which its Content-Security-Policy enforces). Its init script is a file of its own rather than
 * inline, for the same policy.
 */
const ASSETS = new Map([
  ['swagger-ui.css', 'text/css; charset=utf-8'],
  ['swagger-ui-bundle.js', 'text/javascript; charset=utf-8'],
  ['swagger-ui-standalone-preset.js', 'text/javascript; charset=utf-8'],
  ['favicon-32x32.png', 'image/png'],
]);

const POLICY = "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; frame-ancestors 'none'";

let assetDir: string | undefined;
function swaggerDir(): string {
  assetDir ??= dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));
  return assetDir;
}

const PAGE = `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>vigil API</title>
  <link rel="stylesheet" href="/docs/swagger-ui.css">
  <link rel="icon" type="image/png" href="/docs/favicon-32x32.png">
</head>
<body>
  <div id="docs"></div>
  <script src="/docs/swagger-ui-bundle.js"></script>
  <script src="/docs/swagger-ui-standalone-preset.js"></script>
  <script src="/docs/init.js"></script>
</body>
</html>
`;

/** The documents the page offers: the protocol, each deployment's own, then the control API. */
function initScript(deployments: string[]): string {
  const urls = [
    { name: 'Open Inference Protocol (all models)', url: '/v2/openapi.json' },
    ...deployments.map((d) => ({ name: `deployment ${d}`, url: `/v2/models/${encodeURIComponent(d)}/openapi.json` })),
    { name: 'control API (/api/v1)', url: '/api/v1/openapi.json' },
  ];
  return `window.ui = SwaggerUIBundle({
  urls: ${JSON.stringify(urls)},
  dom_id: '#docs',
  deepLinking: true,
  presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
  layout: 'StandaloneLayout',
});
`;
}

function send(res: ServerResponse, type: string, body: string | Buffer, cache: boolean): void {
  res.writeHead(200, {
    'content-type': type,
    'content-length': Buffer.byteLength(body),
    'content-security-policy': POLICY,
    'x-content-type-options': 'nosniff',
    'cache-control': cache ? 'public, max-age=3600' : 'no-store',
  });
  res.end(body);
}

/** Whether a path is the docs page's. */
export const isDocsPath = (path: string): boolean => path === '/docs' || path.startsWith('/docs/');

/** Answers GET /docs and its assets. */
export async function serveDocs(path: string, res: ServerResponse, deployments: string[]): Promise<void> {
  if (path === '/docs' || path === '/docs/') return send(res, 'text/html; charset=utf-8', PAGE, false);
  const name = path.slice('/docs/'.length);
  if (name === 'init.js') return send(res, 'text/javascript; charset=utf-8', initScript(deployments), false);
  const type = ASSETS.get(name);
  if (!type) throw new VigilError('VIGIL_ERR_NOT_FOUND', `GET ${path.slice(0, 100)}`);
  send(res, type, await readFile(join(swaggerDir(), name)), true);
}
