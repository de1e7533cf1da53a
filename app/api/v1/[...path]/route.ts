import { clientAddress, crossOriginRefused, isSameOrigin } from '../../../lib/same-origin';
import { sessionToken } from '../../../lib/session-cookie';
import { vigilRequest } from '../../../lib/vigil-api';

interface Context {
  params: Promise<{ path: string[] }>;
}

/** A refusal of the console's own, in vigil's one error shape: `{error: message, code}`. */
function refuse(status: number, code: string, message: string): Response {
  return Response.json({ error: message, code }, { status });
}

/**
 * The browser's way to vigil: same origin, so the session cookie comes along, and here it becomes
 * the bearer token. vigil's status and JSON come back unchanged, so its own checks (role, CSRF)
 * answer the browser directly: a viewer's action gets vigil's 403 VIGIL_ERR_FORBIDDEN.
 */
async function forward(req: Request, { params }: Context): Promise<Response> {
  if (req.method !== 'GET' && !isSameOrigin(req)) return crossOriginRefused();
  // Without a session nothing is forwarded: vigil would take a token-less call from the console's
  // loopback address for its local admin.
  const token = await sessionToken();
  if (!token) return refuse(401, 'VIGIL_ERR_UNAUTHORIZED', 'not signed in');
  const { path } = await params;
  if (path.some((seg) => seg === '.' || seg === '..' || seg === ''))
    return refuse(404, 'VIGIL_ERR_NOT_FOUND', 'no such route');
  const target = `/api/v1/${path.map(encodeURIComponent).join('/')}${new URL(req.url).search}`;
  const hasBody = req.method !== 'GET' && req.method !== 'DELETE';
  let res: Response;
  try {
    res = await vigilRequest(target, {
      method: req.method,
      token,
      csrf: req.headers.get('x-vigil-csrf'),
      clientAddress: clientAddress(req),
      body: hasBody ? await req.arrayBuffer() : null,
      contentType: hasBody ? (req.headers.get('content-type') ?? 'application/json') : null,
    });
  } catch {
    return refuse(502, 'VIGIL_ERR_NODE_UNREACHABLE', 'the console cannot reach vigil');
  }
  const headers = new Headers({ 'cache-control': 'no-store' });
  for (const h of ['content-type', 'retry-after']) {
    const v = res.headers.get(h);
    if (v) headers.set(h, v);
  }
  const body = res.status === 204 || res.status === 304 ? null : await res.arrayBuffer();
  return new Response(body, { status: res.status, headers });
}

export { forward as GET, forward as POST, forward as PUT, forward as DELETE };
