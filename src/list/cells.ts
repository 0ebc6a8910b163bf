/**
 * Spreadsheet formula injection (CWE-1236): a cell that starts with `=`, `+`, `-` or `@` (or a tab or carriage
 * return, which some spreadsheet programs strip before looking) is run as a formula when a CSV or workbook is opened.
 * **Every value this service exports goes through {@link neutraliseCell}**, whatever its source: list values,
 * names and phone numbers (`+86…`) all came from uploads.
 */

const FORMULA_START = /^[=+\-@\t\r]/;

/** Prefix a dangerous text cell with `'`, which spreadsheet programs show as text; other values pass unchanged. */
export function neutraliseCell<T>(value: T): T | string {
  if (typeof value !== 'string') return value;
  return FORMULA_START.test(value) ? `'${value}` : value;
}

/** {@link neutraliseCell} over a row. */
export function neutraliseRow(row: readonly unknown[]): unknown[] {
  return row.map((v) => neutraliseCell(v));
}
