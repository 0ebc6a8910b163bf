/**
 * The row rules of a call list (seed-spec §2.2, and §1.12/§9 for variables): which header means what, how a
 * phone number, a name, a time zone and a variable value are checked. Pure and incremental: a reader feeds rows one
 * at a time, so a list of a million rows is never held as a whole to be validated.
 */
import type { FieldProblem } from '../errors';
import { isValidZone } from '../calendar';
import { normalisePhone } from '../phone';

/** One contact as it leaves validation. */
export interface Contact {
  /** E.164. */
  phone: string;
  name?: string;
  /** IANA zone of the contact, when the list gives one. */
  timezone?: string;
  variables: Record<string, string>;
}

/** Column headers recognised for the fixed fields; the template uses the Chinese ones. */
export const HEADER_ALIASES: Readonly<Record<string, 'phone' | 'name' | 'timezone'>> = Object.freeze({
  phone: 'phone',
  用户号码: 'phone',
  被叫号码: 'phone',
  name: 'name',
  用户名称: 'name',
  timezone: 'timezone',
  时区: 'timezone',
});

/** The template's fixed columns, in order. */
export const TEMPLATE_COLUMNS = ['用户号码', '用户名称', '时区'] as const;

/**
 * Variable names (seed §9, DECISION C4): an English letter first, then letters, digits and underscore. The seed
 * also forbids generic names such as email, mobile, id, nick, site ("等": we take the five it lists).
 */
export const VARIABLE_NAME = /^[A-Za-z][A-Za-z0-9_]{0,29}$/;
export const RESERVED_VARIABLE_NAMES: readonly string[] = ['email', 'mobile', 'id', 'nick', 'site'];
/** Seed §9: a variable's value "必须小于150字符以内" — fewer than 150 characters. */
export const MAX_VARIABLE_VALUE_LENGTH = 149;
export const MAX_NAME_LENGTH = 50;
/** A problem's echoed value is cut to this length so a huge cell cannot bloat the report. */
export const MAX_ECHOED_VALUE = 100;

/**
 * Seed §9: "不支持传入链接". Schemes, `www.` and bare domains under common top-level domains count as links;
 * decimals such as `3.5` do not.
 */
const LINK =
  /(?:[a-z][a-z0-9+.-]*:\/\/|www\.|(?:^|[^a-z0-9-])[a-z0-9-]+\.(?:com|cn|net|org|io|cc|top|xyz|info|me|vip|shop|club|site|link|ly|co)(?![a-z0-9]))/i;

/** The `${name}` variables a prompt uses, in order of first use, without repeats. */
export function promptVariables(prompt: string | undefined): string[] {
  const out: string[] = [];
  for (const m of (prompt ?? '').matchAll(/\$\{([^}]*)\}/g)) {
    const name = (m[1] ?? '').trim();
    if (name && !out.includes(name)) out.push(name);
  }
  return out;
}

/** Why a variable column name is not acceptable, or undefined if it is. */
export function variableNameProblem(name: string): string | undefined {
  if (!VARIABLE_NAME.test(name))
    return 'a variable column name must start with an English letter and hold only letters, digits and _ (≤ 30)';
  if (RESERVED_VARIABLE_NAMES.includes(name.toLowerCase()))
    return `"${name}" is too generic to be a variable name (${RESERVED_VARIABLE_NAMES.join(', ')} are not allowed)`;
  return undefined;
}

/** Why a variable value is not acceptable (seed §9), or undefined if it is. */
export function variableValueProblem(value: string): string | undefined {
  if (value.length > MAX_VARIABLE_VALUE_LENGTH)
    return `longer than ${MAX_VARIABLE_VALUE_LENGTH} characters (seed §9: fewer than 150)`;
  if (LINK.test(value)) return 'links are not allowed in variable values';
  return undefined;
}

const echo = (v: string) => (v.length > MAX_ECHOED_VALUE ? `${v.slice(0, MAX_ECHOED_VALUE)}…` : v);

/** What one row gave: a contact, or the row's problems (all of them, not just the first). */
export type RowResult = { ok: true; contact: Contact } | { ok: false; problems: FieldProblem[] } | { ok: 'blank' };

export interface RowRulesOptions {
  /** Variables the task's prompt uses: their columns must exist and their values must not be empty. */
  requiredVariables?: readonly string[];
}

/**
 * The rules for one list, built from its header. `headerProblems` is non-empty when the header itself is unusable
 * (no phone column, a bad variable name, a variable the prompt needs is missing); rows are still checked so a
 * single report lists everything.
 *
 * Row numbers are 1-based file rows: the header is row 1, the first contact row 2.
 */
export class RowRules {
  readonly columns: string[];
  readonly headerProblems: FieldProblem[] = [];
  private readonly roles: ('phone' | 'name' | 'timezone' | undefined)[];
  private readonly phoneCol: number;
  private readonly required: readonly string[];

  constructor(header: readonly string[], opts: RowRulesOptions = {}) {
    this.columns = header.map((h) => String(h ?? '').trim());
    this.roles = this.columns.map((c) => HEADER_ALIASES[c] ?? HEADER_ALIASES[c.toLowerCase()]);
    this.phoneCol = this.roles.indexOf('phone');
    this.required = opts.requiredVariables ?? [];
    if (this.phoneCol < 0)
      this.headerProblems.push({ field: 'header', row: 1, reason: 'no phone column (expected "phone" or "用户号码")' });
    const seen = new Set<string>();
    this.columns.forEach((c, i) => {
      const key = this.roles[i] ?? c;
      if (c && seen.has(key))
        this.headerProblems.push({ field: c, row: 1, value: echo(c), reason: 'the column appears twice' });
      seen.add(key);
      if (this.roles[i]) return;
      const problem = variableNameProblem(c);
      if (problem) this.headerProblems.push({ field: c || `column ${i + 1}`, row: 1, value: echo(c), reason: problem });
    });
    for (const v of this.required)
      if (!this.columns.includes(v))
        this.headerProblems.push({
          field: v,
          row: 1,
          reason: `the task's prompt uses \${${v}}, so the list needs a "${v}" column`,
        });
  }

  /** Check one data row. Every cell is checked even when the phone is bad, so the report lists all of a row's problems. */
  check(cells: readonly string[], row: number): RowResult {
    if (cells.every((c) => !String(c ?? '').trim())) return { ok: 'blank' };
    const problems: FieldProblem[] = [];
    const contact: Contact = { phone: '', variables: {} };
    if (this.phoneCol >= 0) {
      const raw = String(cells[this.phoneCol] ?? '');
      const phone = normalisePhone(raw);
      if (phone.ok) contact.phone = phone.e164;
      else
        problems.push({ field: this.columns[this.phoneCol] ?? 'phone', row, value: echo(raw), reason: phone.reason });
    }
    this.columns.forEach((col, c) => {
      if (c === this.phoneCol) return;
      const value = String(cells[c] ?? '').trim();
      const role = this.roles[c];
      if (role === 'name') {
        if (value.length > MAX_NAME_LENGTH)
          problems.push({ field: col, row, value: echo(value), reason: `longer than ${MAX_NAME_LENGTH} characters` });
        else if (value) contact.name = value;
      } else if (role === 'timezone') {
        if (value && !isValidZone(value))
          problems.push({ field: col, row, value: echo(value), reason: 'not an IANA time zone' });
        else if (value) contact.timezone = value;
      } else if (value) {
        const problem = variableValueProblem(value);
        if (problem) problems.push({ field: col, row, value: echo(value), reason: problem });
        else contact.variables[col] = value;
      } else if (this.required.includes(col)) {
        problems.push({ field: col, row, value: '', reason: `empty, but the task's prompt uses \${${col}}` });
      }
    });
    return problems.length ? { ok: false, problems } : { ok: true, contact };
  }
}
