/**
 * Domain errors. Domain code throws these; one exception filter in the API turns them into
 * `application/problem+json` responses with the field (and row) named.
 */

export interface FieldProblem {
  /** Dotted path of the field, or the column name for list rows. */
  field: string;
  /** 1-based data row of an uploaded list (the header is row 1, so the first contact is row 2). */
  row?: number;
  value?: string;
  reason: string;
}

export class DomainError extends Error {
  constructor(
    message: string,
    readonly status: 400 | 404 | 409 | 413 | 422,
    readonly problems: FieldProblem[] = [],
  ) {
    super(message);
    this.name = 'DomainError';
  }
}

export class ValidationFailed extends DomainError {
  constructor(message: string, problems: FieldProblem[]) {
    super(message, 422, problems);
    this.name = 'ValidationFailed';
  }
}

export class NotFound extends DomainError {
  constructor(what: string) {
    super(`${what} not found`, 404);
    this.name = 'NotFound';
  }
}
