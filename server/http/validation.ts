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

/** hono-openapi's validator with our error shape. */
export function validate<T extends keyof ValidationTargets, S extends v.GenericSchema>(target: T, schema: S) {
  return validator(target, schema, (result, c) => {
    if (!result.success) return validationError(c, result.error as unknown as v.BaseIssue<unknown>[], WHERE[target] ?? target);
  });
}

/** JSON bodies only: anything else is 415 before it is read. */
export const requireJson: MiddlewareHandler = async (c, next) => {
  const type = c.req.header('content-type') ?? '';
  if (!/^application\/([a-z0-9.+-]*\+)?json\s*(;|$)/i.test(type)) {
    return errorJson(c, 415, 'unsupported_media_type', 'send the body as application/json');
  }
  await next();
};

/** Body validation: content type, then the schema. */
export function jsonBody<S extends v.GenericSchema>(schema: S) {
  return [requireJson, validate('json', schema)] as const;
}
