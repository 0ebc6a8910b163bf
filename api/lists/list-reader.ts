/**
 * Reading an uploaded call list row by row: CSV through csv-parse's stream API (the file is never one string, the
 * rows never one array), xlsx through SheetJS (the first sheet, capped at the task's limit while parsing). Every
 * malformed input ends as a ValidationFailed naming the file (and the row when known), never as a 500.
 */
import { isUtf8 } from 'node:buffer';
import { Readable } from 'node:stream';
import { parse } from 'csv-parse';
import * as XLSX from 'xlsx';
import { ValidationFailed } from '../../src/errors';

/** The parts of a multer file the readers use. */
export interface UploadedList {
  buffer: Buffer;
  originalname: string;
  size: number;
}

export type ListFormat = 'csv' | 'xlsx';

/** One row as read: 1-based row number in the file (the header is row 1) and its cells as text. */
export interface ListRow {
  row: number;
  cells: string[];
}

const ZIP_MAGIC = Buffer.from([0x50, 0x4b, 0x03, 0x04]);

/** The file's format from its name, checked against its first bytes. */
export function formatOf(file: UploadedList): ListFormat {
  const name = file.originalname ?? '';
  if (!file.size || !file.buffer?.length)
    throw new ValidationFailed('the call list is empty', [{ field: 'file', value: name, reason: 'the file is empty' }]);
  if (/\.xlsx$/i.test(name)) {
    if (!file.buffer.subarray(0, 4).equals(ZIP_MAGIC))
      throw new ValidationFailed('the call list is not an xlsx workbook', [
        { field: 'file', value: name, reason: 'not an xlsx workbook (the content is not a zip package)' },
      ]);
    return 'xlsx';
  }
  if (/\.csv$/i.test(name)) {
    if (!isUtf8(file.buffer))
      throw new ValidationFailed('the CSV file is not UTF-8', [
        { field: 'file', value: name, reason: 'a CSV list must be UTF-8 (in Excel: save as "CSV UTF-8")' },
      ]);
    return 'csv';
  }
  throw new ValidationFailed('unsupported call list format', [
    { field: 'file', value: name, reason: 'the call list must be a .csv or .xlsx file' },
  ]);
}

/** Stream a CSV buffer through csv-parse in 64 KB chunks. */
async function* csvRows(buf: Buffer, maxRecordBytes: number): AsyncGenerator<ListRow> {
  const CHUNK = 64 * 1024;
  const chunks = function* () {
    for (let i = 0; i < buf.length; i += CHUNK) yield buf.subarray(i, i + CHUNK);
  };
  const parser = Readable.from(chunks()).pipe(
    parse({ bom: true, relax_column_count: true, max_record_size: maxRecordBytes, skip_empty_lines: false }),
  );
  let row = 0;
  try {
    for await (const record of parser as AsyncIterable<string[]>) {
      row++;
      yield { row, cells: record };
    }
  } catch (err) {
    const e = err as { code?: string; lines?: number; message?: string };
    const reason =
      e.code === 'CSV_MAX_RECORD_SIZE'
        ? `a row is longer than ${maxRecordBytes} bytes`
        : `not a readable CSV file: ${(e.message ?? 'parse error').slice(0, 200)}`;
    throw new ValidationFailed('the call list could not be read', [
      { field: 'file', ...(e.lines ? { row: e.lines } : {}), reason },
    ]);
  } finally {
    parser.destroy();
  }
}

function cellText(cell: XLSX.CellObject | undefined): string {
  if (!cell || cell.v === undefined || cell.v === null) return '';
  switch (cell.t) {
    case 'n':
      // Phone numbers typed as numbers: the integer's digits, never the display form (1.38E+10).
      return Number.isInteger(cell.v) ? (cell.v as number).toFixed(0) : String(cell.v);
    case 'd':
      return (cell.v as Date).toISOString();
    case 'e':
      return '#ERROR';
    default:
      return String(cell.v);
  }
}

/** The first sheet of a workbook, at most `maxRows` rows (header included) parsed. */
function* xlsxRows(buf: Buffer, maxRows: number): Generator<ListRow> {
  let wb: XLSX.WorkBook;
  try {
    wb = XLSX.read(buf, {
      type: 'buffer',
      dense: true,
      sheetRows: maxRows,
      cellFormula: false,
      cellHTML: false,
      cellText: false,
      cellStyles: false,
      bookVBA: false,
    });
  } catch (err) {
    throw new ValidationFailed('the call list could not be read', [
      { field: 'file', reason: `not a readable xlsx workbook: ${((err as Error).message ?? '').slice(0, 200)}` },
    ]);
  }
  const first = wb.SheetNames[0];
  const ws = first ? wb.Sheets[first] : undefined;
  if (!ws)
    throw new ValidationFailed('the workbook has no sheet', [{ field: 'file', reason: 'the workbook is empty' }]);
  const data = (ws['!data'] ?? []) as (XLSX.CellObject | undefined)[][];
  for (let r = 0; r < data.length; r++) {
    const cells = (data[r] ?? []).map(cellText);
    yield { row: r + 1, cells };
  }
  // sheetRows cut the sheet: the file holds more rows than were parsed.
  const full = (ws as { '!fullref'?: string })['!fullref'];
  if (full && XLSX.utils.decode_range(full).e.r + 1 > maxRows) yield { row: maxRows + 1, cells: ['__truncated__'] };
}

/** Marker row {@link readRows} yields when an xlsx sheet was longer than the row cap. */
export const TRUNCATED = '__truncated__';

/** Rows of a CSV or xlsx list, header first. `maxRows` caps what is parsed of a workbook. */
export function readRows(
  file: UploadedList,
  opts: { maxRows: number; maxRecordBytes: number },
): AsyncIterable<ListRow> | Iterable<ListRow> {
  return formatOf(file) === 'csv' ? csvRows(file.buffer, opts.maxRecordBytes) : xlsxRows(file.buffer, opts.maxRows);
}
