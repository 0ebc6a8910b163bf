/**
 * Small call lists held in memory: split rows in, contacts out, with the row rules of src/list/rules.ts and
 * de-duplication within the list. Uploads stream through api/lists instead; this is for callers that already hold
 * a short list (tests, fixtures, tools).
 */
import { parse } from 'csv-parse/sync';
import type { FieldProblem } from './errors';
import { RowRules, type Contact, type RowRulesOptions } from './list/rules';

export type { Contact } from './list/rules';

export interface ParsedList {
  contacts: Contact[];
  problems: FieldProblem[];
  /** Rows dropped because their number already appeared earlier in the file. */
  duplicates: number;
}

/** Validate already-split rows (header first). Row numbers in problems are 1-based file rows. */
export function validateRows(rows: string[][], opts: { maxContacts: number } & RowRulesOptions): ParsedList {
  const [header, ...data] = rows;
  if (!header) return { contacts: [], problems: [{ field: 'file', reason: 'the list is empty' }], duplicates: 0 };
  const rules = new RowRules(header, opts);
  const problems: FieldProblem[] = [...rules.headerProblems];
  if (problems.some((p) => p.field === 'header')) return { contacts: [], problems, duplicates: 0 };
  if (data.length > opts.maxContacts) {
    problems.push({ field: 'file', reason: `the list has ${data.length} rows; the limit is ${opts.maxContacts}` });
    return { contacts: [], problems, duplicates: 0 };
  }
  const seen = new Set<string>();
  const contacts: Contact[] = [];
  let duplicates = 0;
  data.forEach((cells, i) => {
    const r = rules.check(cells, i + 2);
    if (r.ok === 'blank') return;
    if (!r.ok) {
      problems.push(...r.problems);
      return;
    }
    if (seen.has(r.contact.phone)) {
      duplicates++;
      return;
    }
    seen.add(r.contact.phone);
    contacts.push(r.contact);
  });
  return { contacts: problems.length ? [] : contacts, problems, duplicates };
}

/** Parse a CSV buffer (UTF-8, optional BOM) into validated contacts. */
export function parseContactCsv(buf: Buffer, opts: { maxContacts: number } & RowRulesOptions): ParsedList {
  let rows: string[][];
  try {
    rows = parse(buf, { bom: true, relax_column_count: true, skip_empty_lines: true }) as string[][];
  } catch (err) {
    const line = (err as { lines?: number }).lines;
    return {
      contacts: [],
      problems: [
        { field: 'file', ...(line ? { row: line } : {}), reason: `not a readable CSV file: ${(err as Error).message}` },
      ],
      duplicates: 0,
    };
  }
  return validateRows(rows, opts);
}
