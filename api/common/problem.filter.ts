/**
 * One exception filter for the whole API: every error leaves as `application/problem+json` (RFC 9457) with the
 * offending fields (and rows) named. Domain errors map to 4xx; anything unexpected is logged and answered with a
 * generic 500 that leaks nothing.
 */
import { ArgumentsHost, Catch, HttpException, HttpStatus, Inject, type ExceptionFilter } from '@nestjs/common';
import type { Response } from 'express';
import { DomainError, type FieldProblem } from '../../src/errors';
import type { Logger } from '../../activities/logger';
import { LOGGER } from './tokens';

interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  errors?: FieldProblem[];
}

@Catch()
export class ProblemFilter implements ExceptionFilter {
  constructor(@Inject(LOGGER) private readonly logger: Logger) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const res = host.switchToHttp().getResponse<Response>();
    const problem = this.toProblem(exception);
    res.status(problem.status).type('application/problem+json').json(problem);
  }

  private toProblem(exception: unknown): Problem {
    if (exception instanceof DomainError) {
      return {
        type: 'about:blank',
        title: exception.name,
        status: exception.status,
        detail: exception.message,
        ...(exception.problems.length ? { errors: exception.problems } : {}),
      };
    }
    if (exception instanceof HttpException) {
      const status = exception.getStatus();
      const body = exception.getResponse();
      const message = typeof body === 'string' ? body : (body as { message?: unknown }).message;
      const messages = Array.isArray(message)
        ? message.map((m) => (typeof m === 'string' ? m : JSON.stringify(m)))
        : [typeof message === 'string' ? message : exception.message];
      const errors = (body as { errors?: FieldProblem[] }).errors;
      return {
        type: 'about:blank',
        title: HttpStatus[status] ?? 'Error',
        status,
        detail: messages.join('; '),
        ...(errors ? { errors } : {}),
      };
    }
    this.logger.error({ err: exception }, 'unhandled error');
    return { type: 'about:blank', title: 'INTERNAL_SERVER_ERROR', status: 500, detail: 'internal error' };
  }
}
