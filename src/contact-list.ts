/**
 * Call-list rows: header recognition, phone normalisation, per-row problems and de-duplication. Pure: the API
 * parses the upload and hands the rows here; nothing is written unless the whole list is clean.
 */
import { parse } from 'csv-parse/sync';
import type { FieldProblem } from './errors';
import { normalisePhone } from './phone';

export interface Contact {
  /** E.164. */
  phone: string;
  name?: string;
  /** IANA zone of the contact, when the list gives one. */
  timezone?: string;
  variables: Record<string, string>;
}

export interface ParsedList {
  contacts: Contact[];
  problems: FieldProblem[];
  /** Rows dropped because their number already appeared earlier in the file. */
  duplicates: number;
}

const HEADER_ALIASES: Record<string, 'phone' | 'name' | 'timezone'> = {
  phone: 'phone',
  用户号码: 'phone',
  被叫号码: 'phone',
  name: 'name',
  用户名称: 'name',
  timezone: 'timezone',
  时区: 'timezone',
};

const VARIABLE_NAME = /^[A-Za-z][A-Za-z0-9_]{0,29}$/;
const MAX_VARIABLE_LENGTH = 100;

function validZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

/** Validate already-split rows (header first). Row numbers in problems are 1-based file rows. */
export function validateRows(rows: string[][], opts: { maxContacts: number }): ParsedList {
  const problems: FieldProblem[] = [];
  const [header, ...data] = rows;
  if (!header) return { contacts: [], problems: [{ field: 'file', reason: 'the list is empty' }], duplicates: 0 };
  const columns = header.map((h) => h.trim());
  const roles = columns.map((c) => HEADER_ALIASES[c] ?? HEADER_ALIASES[c.toLowerCase()]);
  const phoneCol = roles.indexOf('phone');
  if (phoneCol < 0) {
    return {
      contacts: [],
      problems: [{ field: 'header', row: 1, reason: 'no phone column (expected "phone" or "用户号码")' }],
      duplicates: 0,
    };
  }
  columns.forEach((c, i) => {
    if (!roles[i] && !VARIABLE_NAME.test(c)) {
      problems.push({
        field: c || `column ${i + 1}`,
        row: 1,
        value: c,
        reason: 'a variable column name must start with an English letter and hold only letters, digits and _ (≤ 30)',
      });
    }
  });
  if (data.length > opts.maxContacts) {
    problems.push({ field: 'file', reason: `the list has ${data.length} rows; the limit is ${opts.maxContacts}` });
    return { contacts: [], problems, duplicates: 0 };
  }
  const seen = new Set<string>();
  const contacts: Contact[] = [];
  let duplicates = 0;
  data.forEach((cells, i) => {
    const row = i + 2;
    if (cells.every((c) => !c.trim())) return; // blank line
    const phoneCheck = normalisePhone(cells[phoneCol] ?? '');
    if (!phoneCheck.ok) {
      problems.push({
        field: columns[phoneCol] ?? 'phone',
        row,
        value: cells[phoneCol] ?? '',
        reason: phoneCheck.reason,
      });
    }
    // Every cell of the row is checked even when the phone is bad, so one report lists all of the row's problems.
    const contact: Contact = { phone: phoneCheck.ok ? phoneCheck.e164 : '', variables: {} };
    columns.forEach((col, c) => {
      const value = (cells[c] ?? '').trim();
      if (c === phoneCol) return;
      if (roles[c] === 'name') {
        if (value.length > 50) problems.push({ field: col, row, value, reason: 'name is longer than 50 characters' });
        else if (value) contact.name = value;
      } else if (roles[c] === 'timezone') {
        if (value && !validZone(value)) problems.push({ field: col, row, value, reason: 'not an IANA time zone' });
        else if (value) contact.timezone = value;
      } else if (value) {
        if (value.length > MAX_VARIABLE_LENGTH)
          problems.push({ field: col, row, value, reason: `longer than ${MAX_VARIABLE_LENGTH} characters` });
        else if (/https?:\/\/|www\./i.test(value))
          problems.push({ field: col, row, value, reason: 'links are not allowed' });
        else contact.variables[col] = value;
      }
    });
    if (!phoneCheck.ok) return;
    if (seen.has(contact.phone)) {
      duplicates++;
      return;
    }
    seen.add(contact.phone);
    contacts.push(contact);
  });
  return { contacts: problems.length ? [] : contacts, problems, duplicates };
}

/** Parse a CSV buffer (UTF-8, optional BOM) into validated contacts. */
export function parseContactCsv(buf: Buffer, opts: { maxContacts: number }): ParsedList {
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
