/**
 * Every error leaves as `{ "error": { "code", "message", "details" } }` with a fitting
 * status. Unexpected errors are logged by name and request id only, never with the
 * request's content, and the client gets no stack trace.
 */
import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { AppError, type ErrorDetail, type ErrorKind } from '../services/errors';
import type { AppEnv } from './env';

const STATUS: Record<ErrorKind, ContentfulStatusCode> = {
  invalid: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  gone: 410,
  unavailable: 503,
};

export function errorJson(c: Context, status: ContentfulStatusCode, code: string, message: string, details: ErrorDetail[] = []) {
  return c.json({ error: { code, message, details } }, status);
}

export function handleError(err: unknown, c: Context<AppEnv>) {
  if (err instanceof AppError) return errorJson(c, STATUS[err.kind], err.code, err.message, err.details);
  if (err instanceof HTTPException) {
    const status = err.status as ContentfulStatusCode;
    const code = status === 400 ? 'malformed_request' : status === 413 ? 'payload_too_large' : `http_${status}`;
    // Hono's own messages (e.g. "Malformed JSON in request body") never echo the input.
    return errorJson(c, status, code, err.message || 'request refused');
  }
  if (isBusy(err)) {
    c.header('Retry-After', '1');
    return errorJson(c, 503, 'database_busy', 'the database is busy; try again');
  }
  const name = err instanceof Error ? err.name : typeof err;
  const code = (err as { code?: unknown } | null)?.code;
  console.error(JSON.stringify({ level: 'error', requestId: c.get('requestId'), error: name, code: typeof code === 'string' ? code : undefined }));
  return errorJson(c, 500, 'internal_error', 'something went wrong on our side; the request id identifies it in our logs');
}

function isBusy(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return code === 'SQLITE_BUSY' || code === 'SQLITE_LOCKED';
}
