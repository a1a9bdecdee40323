/**
 * Validation at the edge with valibot through hono-openapi, so every validated input
 * also documents itself in /openapi.json. Failures become a 400 naming the fields;
 * valibot's default messages quote the input, so they are replaced by ones that don't.
 */
import type { Context, MiddlewareHandler } from 'hono';
import { validator } from 'hono-openapi';
import * as v from 'valibot';
import type { ValidationTargets } from 'hono';
import type { ErrorDetail } from '../services/errors';
import { errorJson } from './errors';
import { withDescription } from './openapi';
import { header } from './headers';

const PHRASES: Record<string, string> = {
  email: 'must be an e-mail address',
  url: 'must be an absolute URL',
  integer: 'must be a whole number',
  iso_timestamp: 'must be an ISO 8601 timestamp',
  regex: 'has the wrong format',
  min_length: 'is too short',
  max_length: 'is too long',
  min_value: 'is too small',
  max_value: 'is too large',
  strict_object: 'is not a known field',
  picklist: 'is not one of the allowed values',
};

// Never "Received …": a message must not carry what was sent.
v.setGlobalMessage((issue) => {
  if (issue.kind === 'schema') {
    if (issue.type === 'strict_object') return 'is not a known field';
    if (issue.input === undefined) return 'is required';
    return issue.expected ? `must be ${issue.expected}` : 'has the wrong type';
  }
  return PHRASES[issue.type] ?? 'is not valid';
});

export function issuesToDetails(issues: readonly v.BaseIssue<unknown>[]): ErrorDetail[] {
  return issues.slice(0, 20).map((issue) => {
    const field = issue.path?.map((p) => String(p.key)).join('.') ?? '';
    return field ? { field, message: issue.message } : { message: issue.message };
  });
}

export function validationError(c: Context, issues: readonly v.BaseIssue<unknown>[], where: string) {
  const details = issuesToDetails(issues);
  const first = details[0];
  const message = first ? `${first.field ? `${first.field}: ` : ''}${first.message}` : `invalid ${where}`;
  return errorJson(c, 400, 'invalid_request', message, details);
}

const WHERE: Partial<Record<keyof ValidationTargets, string>> = { json: 'body', query: 'query', param: 'path', header: 'header' };

/**
 * hono-openapi's validator with our error shape. For path parameters and the query, the
 * same check in one step: Hono's validator reads the Content-Type header of every request
 * (which costs a GET a web Headers object under Node) and awaits three times; the send
 * check's route pays that on every call. hono-openapi's description (what /openapi.json
 * is built from) is kept on the middleware either way.
 */
export function validate<T extends keyof ValidationTargets, S extends v.GenericSchema>(target: T, schema: S) {
  const described = validator(target, schema, (result, c) => {
    if (!result.success) return validationError(c, result.error as unknown as v.BaseIssue<unknown>[], WHERE[target] ?? target);
  });
  if (target !== 'param' && target !== 'query') return described;
  return withDescription(described, (c, next) => {
    const input = parseInput(c, target, schema);
    return input instanceof Response ? Promise.resolve(input) : next();
  });
}

/**
 * The path parameters or the query, validated (and also handed to `c.req.valid`), or
 * the 400 answer.
 */
export function parseInput<S extends v.GenericSchema>(c: Context, target: 'param' | 'query', schema: S): v.InferOutput<S> | Response {
  const result = v.safeParse(schema, target === 'param' ? c.req.param() : queryValues(c));
  if (!result.success) return validationError(c, result.issues, WHERE[target]!);
  c.req.addValidatedData(target, result.output as never);
  return result.output;
}

/** The query as Hono's validator hands it over: a repeated name becomes an array. */
function queryValues(c: Context): Record<string, string | string[]> {
  const all = c.req.queries();
  const out: Record<string, string | string[]> = {};
  for (const name in all) {
    const values = all[name]!;
    out[name] = values.length === 1 ? values[0]! : values;
  }
  return out;
}

/** JSON bodies only: anything else is 415 before it is read. */
export const requireJson: MiddlewareHandler = async (c, next) => {
  const type = header(c, 'content-type') ?? '';
  if (!/^application\/([a-z0-9.+-]*\+)?json\s*(;|$)/i.test(type)) {
    return errorJson(c, 415, 'unsupported_media_type', 'send the body as application/json');
  }
  await next();
};

/** Body validation: content type, then the schema. */
export function jsonBody<S extends v.GenericSchema>(schema: S) {
  return [requireJson, validate('json', schema)] as const;
}
