/** Reading problem+json answers in API tests. */
import type request from 'supertest';

/** The fields a problem+json answer names, each once, in order. */
export const problemFields = (res: request.Response): string[] => [
  ...new Set(((res.body as { errors?: { field: string }[] }).errors ?? []).map((e) => e.field)),
];
