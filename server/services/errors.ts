/**
 * Domain errors. Services say what went wrong in domain terms; the HTTP layer maps the
 * kind to a status. Messages and details never carry personal data.
 */
export type ErrorKind = 'invalid' | 'unauthorized' | 'forbidden' | 'not_found' | 'conflict' | 'gone' | 'unavailable';

export interface ErrorDetail {
  field?: string;
  message: string;
}

export class AppError extends Error {
  constructor(
    readonly kind: ErrorKind,
    readonly code: string,
    message: string,
    readonly details: ErrorDetail[] = [],
  ) {
    super(message);
    this.name = 'AppError';
  }
}

export const notFound = (what: string) => new AppError('not_found', 'not_found', `${what} not found`);
export const invalidField = (field: string, message: string, code = 'invalid_request') =>
  new AppError('invalid', code, `${field}: ${message}`, [{ field, message }]);
export const conflict = (code: string, message: string) => new AppError('conflict', code, message);
