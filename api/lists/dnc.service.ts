/**
 * The tenant's do-not-call list (免打扰名单): numbers added by JSON or by a CSV/xlsx upload (all or nothing, problems
 * named by row and column), removed one by one, listed for review. Import flags listed numbers (ListImportService);
 * the dial step re-checks with DncRepository.isListed, so a number added mid-campaign is honoured.
 */
import { Inject, Injectable } from '@nestjs/common';
import type { Repositories } from '../../activities/mongo/connection';
import { NotFound, ValidationFailed, type FieldProblem } from '../../src/errors';
import { normalisePhone, maskPhone } from '../../src/phone';
import { REPOSITORIES } from '../common/tokens';
import { LIST_LIMITS, type ListLimits } from './list-limits';
import { readRows, type UploadedList } from './list-reader';
import type { DncEntryInputDto } from './list.dto';

const PHONE_HEADERS = ['phone', '用户号码', '被叫号码', '号码'];
const NOTE_HEADERS = ['note', '备注'];

@Injectable()
export class DncService {
  constructor(
    @Inject(REPOSITORIES) private readonly repos: Repositories,
    @Inject(LIST_LIMITS) private readonly limits: ListLimits,
  ) {}

  private normalise(entries: { phone: string; note?: string; row: number; field: string }[]) {
    const problems: FieldProblem[] = [];
    const out: { phone: string; note?: string }[] = [];
    for (const e of entries) {
      const p = normalisePhone(e.phone);
      if (!p.ok) problems.push({ field: e.field, row: e.row, value: e.phone.slice(0, 100), reason: p.reason });
      else if (e.note && e.note.length > 200)
        problems.push({
          field: 'note',
          row: e.row,
          value: `${e.note.slice(0, 100)}…`,
          reason: 'longer than 200 characters',
        });
      else out.push({ phone: p.e164, ...(e.note ? { note: e.note } : {}) });
    }
    return { problems, out };
  }

  private async add(tenantId: string, received: number, res: ReturnType<DncService['normalise']>) {
    if (res.problems.length)
      throw new ValidationFailed(
        `${res.problems.length} problem(s); nothing was added`,
        res.problems.slice(0, this.limits.maxProblemsKept),
      );
    return { received, added: await this.repos.dnc.add(tenantId, res.out) };
  }

  /** Add JSON entries; all or nothing. */
  async addEntries(tenantId: string, entries: DncEntryInputDto[]) {
    return this.add(
      tenantId,
      entries.length,
      this.normalise(
        entries.map((e, i) => ({
          phone: e.phone,
          ...(e.note ? { note: e.note } : {}),
          row: i + 1,
          field: `entries.${i}.phone`,
        })),
      ),
    );
  }

  /** Add the numbers of an uploaded CSV or xlsx (a phone column, optional note column); all or nothing. */
  async addFile(tenantId: string, file: UploadedList) {
    const entries: { phone: string; note?: string; row: number; field: string }[] = [];
    let phoneCol = -1;
    let noteCol = -1;
    let header: string[] | undefined;
    for await (const { row, cells } of readRows(file, {
      maxRows: this.limits.maxContactsPerTask + 1,
      maxRecordBytes: this.limits.maxRecordBytes,
    })) {
      if (!header) {
        header = cells.map((c) => c.trim());
        phoneCol = header.findIndex((h) => PHONE_HEADERS.includes(h.toLowerCase()));
        noteCol = header.findIndex((h) => NOTE_HEADERS.includes(h.toLowerCase()));
        if (phoneCol < 0)
          throw new ValidationFailed('no phone column', [
            { field: 'header', row: 1, reason: 'no phone column (expected "phone" or "用户号码")' },
          ]);
        continue;
      }
      if (entries.length >= this.limits.maxContactsPerTask)
        throw new ValidationFailed('too many rows', [
          {
            field: 'file',
            row,
            reason: `more than ${this.limits.maxContactsPerTask} rows; the limit is ${this.limits.maxContactsPerTask}`,
          },
        ]);
      const phone = (cells[phoneCol] ?? '').trim();
      if (!phone && cells.every((c) => !c.trim())) continue;
      const note = noteCol >= 0 ? (cells[noteCol] ?? '').trim() : '';
      entries.push({ phone, ...(note ? { note } : {}), row, field: header[phoneCol] ?? 'phone' });
    }
    if (!header) throw new ValidationFailed('the file is empty', [{ field: 'file', reason: 'no header row' }]);
    return this.add(tenantId, entries.length, this.normalise(entries));
  }

  async list(tenantId: string, page: number, pageSize: number, fullNumbers: boolean) {
    const { items, total } = await this.repos.dnc.list(tenantId, (page - 1) * pageSize, pageSize);
    return {
      page,
      pageSize,
      total,
      items: items.map((d) => ({
        phone: fullNumbers ? d.phone : maskPhone(d.phone),
        ...(d.note ? { note: d.note } : {}),
        createdAt: d.createdAt,
      })),
    };
  }

  private e164(phone: string): string {
    const p = normalisePhone(phone);
    if (!p.ok)
      throw new ValidationFailed('not a phone number', [
        { field: 'phone', value: phone.slice(0, 100), reason: p.reason },
      ]);
    return p.e164;
  }

  async check(tenantId: string, phone: string) {
    const e164 = this.e164(phone);
    return { phone: e164, listed: await this.repos.dnc.isListed(tenantId, e164) };
  }

  async remove(tenantId: string, phone: string): Promise<void> {
    if (!(await this.repos.dnc.remove(tenantId, this.e164(phone))))
      throw new NotFound(`number ${maskPhone(phone)} on the do-not-call list`);
  }
}
