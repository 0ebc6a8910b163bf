/**
 * Validation of DTOs with class-validator, reporting every failing field by its dotted path, so a client can fix a
 * request in one round trip.
 */
import { BadRequestException, ValidationPipe, type ValidationError } from '@nestjs/common';
import { plainToInstance, type ClassConstructor } from 'class-transformer';
import { validateSync } from 'class-validator';
import type { FieldProblem } from '../../src/errors';
import { ValidationFailed } from '../../src/errors';

export function flatten(errors: ValidationError[], prefix = ''): FieldProblem[] {
  return errors.flatMap((e) => {
    const field = prefix ? `${prefix}.${e.property}` : e.property;
    const own = Object.values(e.constraints ?? {}).map((reason) => ({ field, reason }));
    return [...own, ...flatten(e.children ?? [], field)];
  });
}

export function validationPipe(): ValidationPipe {
  return new ValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    transform: true,
    exceptionFactory: (errors) => {
      const problems = flatten(errors);
      return new BadRequestException({
        message: problems.map((p) => `${p.field}: ${p.reason}`),
        errors: problems,
      });
    },
  });
}

/** Validate a plain object (e.g. a JSON form field of a multipart request) into a DTO, or throw 422 naming fields. */
export function validateInto<T extends object>(cls: ClassConstructor<T>, plain: unknown, prefix: string): T {
  const instance = plainToInstance(cls, plain);
  const errors = validateSync(instance, { whitelist: true, forbidNonWhitelisted: true });
  if (errors.length) {
    const problems = flatten(errors, prefix);
    throw new ValidationFailed(problems.map((p) => `${p.field}: ${p.reason}`).join('; '), problems);
  }
  return instance;
}
