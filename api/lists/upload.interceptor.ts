/**
 * Multipart upload of one call list, with the size cap taken from the injected list limits (Nest's
 * FileInterceptor fixes its options at decoration time). A file over the cap is a 413 that names the limit;
 * a JSON request passes through untouched, so one route serves both the upload and the JSON variant.
 */
import { Inject, Injectable, type CallHandler, type ExecutionContext, type NestInterceptor } from '@nestjs/common';
import type { Request, Response } from 'express';
import multer from 'multer';
import type { Observable } from 'rxjs';
import { DomainError } from '../../src/errors';
import { LIST_LIMITS, type ListLimits } from './list-limits';

@Injectable()
export class ListUploadInterceptor implements NestInterceptor {
  private readonly upload: ReturnType<ReturnType<typeof multer>['single']>;

  constructor(@Inject(LIST_LIMITS) private readonly limits: ListLimits) {
    this.upload = multer({
      storage: multer.memoryStorage(),
      limits: { fileSize: limits.maxFileBytes, files: 1, fields: 10, fieldSize: 1024 * 1024 },
    }).single('file');
  }

  async intercept(ctx: ExecutionContext, next: CallHandler): Promise<Observable<unknown>> {
    const req = ctx.switchToHttp().getRequest<Request>();
    const res = ctx.switchToHttp().getResponse<Response>();
    if (req.is('multipart/form-data')) {
      await new Promise<void>((resolve, reject) =>
        this.upload(req, res, (err: unknown) => (err ? reject(this.toDomain(err)) : resolve())),
      );
    }
    return next.handle();
  }

  private toDomain(err: unknown): DomainError {
    const code = (err as { code?: string }).code;
    const mb = (this.limits.maxFileBytes / 1024 / 1024).toFixed(0);
    if (code === 'LIMIT_FILE_SIZE')
      return new DomainError(`the file is larger than the limit of ${mb} MB`, 413, [
        { field: 'file', reason: `larger than the limit of ${this.limits.maxFileBytes} bytes (${mb} MB)` },
      ]);
    if (code === 'LIMIT_UNEXPECTED_FILE' || code === 'LIMIT_FILE_COUNT')
      return new DomainError('one file, in the form field "file"', 400, [
        { field: (err as { field?: string }).field ?? 'file', reason: 'one call list file, in the field "file"' },
      ]);
    return new DomainError('the multipart request could not be read', 400, [
      { field: 'body', reason: code ? `malformed multipart request (${code})` : 'malformed multipart request' },
    ]);
  }
}
