/**
 * Call-list imports: CreateTask's list and AttachTask's contacts, from a CSV or xlsx file or from JSON.
 *
 * One pass over the rows, with memory bounded by the list's numbers (a Set for the in-file duplicate check), not by
 * its contacts: full buckets of 500 contacts are written as they fill, beyond the end of the task's list where no
 * reader looks (readers stop at `totalContacts`). The import becomes visible at one commit point — the task document
 * created (CreateTask) or its `totalContacts` moved (AttachTask). A rejected file stops writing at its first problem,
 * keeps reading to report every problem, and removes what it wrote: nothing of it is ever visible.
 *
 * Duplicates against the task's existing contacts are found in the task's phone hash buckets (`contact_phones`,
 * exact `_id` reads of only the buckets the file's numbers fall in); a hit is confirmed against the contact's own
 * bucket, so an entry left by a failed import whose clean-up also failed can never drop a new number.
 */
import { Inject, Injectable } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import type { Logger } from '../../activities/logger';
import type { Repositories } from '../../activities/mongo/connection';
import { ListImportRepository } from '../../activities/mongo/list-repositories';
import type { ImportReport } from '../../activities/mongo/list-schemas';
import { phoneBucketOf } from '../../activities/mongo/list-repositories';
import type { ContactPageDoc, PageContact, TaskDoc } from '../../activities/mongo/schemas';
import { DomainError, ValidationFailed, type FieldProblem } from '../../src/errors';
import { RowRules, type Contact } from '../../src/list/rules';
import { LOGGER, REPOSITORIES } from '../common/tokens';
import { LIST_LIMITS, type ListLimits } from './list-limits';
import { TRUNCATED, type ListRow } from './list-reader';

/** Contacts per bucket document (see activities/mongo/schemas.ts). */
export const PAGE_SIZE = 500;
/** Buckets written per bulk request. */
const PAGES_PER_WRITE = 20;
/** Existing buckets kept in memory while confirming duplicate hits. */
const VERIFY_CACHE_PAGES = 64;

/** Where an import goes: a new task (written at the end) or an existing one (locked for the import). */
export type ImportTarget =
  | {
      kind: 'create';
      taskId: string;
      /** Builds the task document once the list's totals are known. */
      task: (totals: {
        totalContacts: number;
        pages: number;
        duplicates: number;
        doNotCall: number;
      }) => Omit<TaskDoc, 'createdAt' | 'updatedAt'>;
      requiredVariables: readonly string[];
    }
  | { kind: 'attach'; taskId: string };

/** Thrown (as a 422) when a list is rejected; carries the stored report's id. */
export class ListRejected extends ValidationFailed {
  constructor(
    readonly report: ImportReport,
    problems: FieldProblem[],
  ) {
    super(
      `the call list has ${report.problemCount} problem(s) in ${report.invalidRows} row(s); nothing was imported. ` +
        `Error report: /tasks/imports/${report.importId}/errors.xlsx` +
        (report.problemCount > problems.length ? ` (the first ${problems.length} are listed)` : ''),
      problems,
    );
    this.name = 'ListRejected';
  }
}

interface RunState {
  problems: FieldProblem[];
  problemCount: number;
  invalidRows: number;
  rows: number;
  /** The file's new numbers → their contact index (also what is written to the phone hash buckets). */
  seen: Map<string, number>;
  duplicatesInFile: number;
  duplicatesInTask: number;
  doNotCall: number;
  imported: number;
  /** Nothing more is written once a problem is found; the rest of the file is only checked. */
  writing: boolean;
}

@Injectable()
export class ListImportService {
  constructor(
    @Inject(REPOSITORIES) private readonly repos: Repositories,
    @Inject(LIST_LIMITS) private readonly limits: ListLimits,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  /** Rows of a JSON contact list, as if it were a file with a header (row 1) and one row per contact. */
  static rowsOfJson(
    contacts: { phone: string; name?: string; timezone?: string; variables?: Record<string, string> }[],
  ): ListRow[] {
    const vars: string[] = [];
    for (const c of contacts) for (const k of Object.keys(c.variables ?? {})) if (!vars.includes(k)) vars.push(k);
    const header = ['phone', 'name', 'timezone', ...vars];
    return [
      { row: 1, cells: header },
      ...contacts.map((c, i) => ({
        row: i + 2,
        cells: [c.phone ?? '', c.name ?? '', c.timezone ?? '', ...vars.map((v) => c.variables?.[v] ?? '')],
      })),
    ];
  }

  /**
   * Import rows into a new task or append them to an existing one. Returns the accepted report; throws
   * {@link ListRejected} (nothing written), NotFound, or a 409 when another import holds the task.
   */
  async import(
    tenantId: string,
    target: ImportTarget,
    rows: AsyncIterable<ListRow> | Iterable<ListRow>,
    meta: { fileName?: string; requiredVariables?: readonly string[] } = {},
  ): Promise<ImportReport> {
    const importId = `imp_${randomBytes(9).toString('hex')}`;
    const { taskId } = target;
    let startIndex = 0;
    let locked = false;
    let required: readonly string[] = meta.requiredVariables ?? [];
    if (target.kind === 'attach') {
      const task = await this.repos.imports.lock(tenantId, taskId, importId);
      if (!task) {
        const exists = await this.repos.tasks.get(tenantId, taskId);
        if (!exists) throw new DomainError(`task ${taskId} not found`, 404);
        throw new DomainError('another import into this task is running; retry when it has finished', 409);
      }
      locked = true;
      startIndex = task.totalContacts;
    } else required = target.requiredVariables;

    const st: RunState = {
      problems: [],
      problemCount: 0,
      invalidRows: 0,
      rows: 0,
      seen: new Map(),
      duplicatesInFile: 0,
      duplicatesInTask: 0,
      doNotCall: 0,
      imported: 0,
      writing: true,
    };
    const firstNewPage = Math.ceil(startIndex / PAGE_SIZE);
    let nextPage = firstNewPage;
    const pendingPages: ContactPageDoc[] = [];
    /** New contacts that complete the task's partly filled last bucket; written just before the commit. */
    const partial: PageContact[] = [];
    let current: PageContact[] = [];
    let phonesWritten = false;
    const existingBuckets = new Map<number, Map<string, number>>();
    const verifyCache = new Map<number, Set<string>>();
    const dnc = await this.repos.dnc.numbers(tenantId);

    const problem = (p: FieldProblem) => {
      st.problemCount++;
      if (st.problems.length < this.limits.maxProblemsKept) st.problems.push(p);
      st.writing = false;
    };
    const flushPages = async (force: boolean) => {
      if (!st.writing || (!force && pendingPages.length < PAGES_PER_WRITE) || !pendingPages.length) return;
      await this.repos.imports.putPages(pendingPages.splice(0));
    };
    /** The task's phone buckets with this import's numbers added; written once, after the whole file passed. */
    const writePhones = async () => {
      const buckets = new Map<number, Map<string, number>>();
      for (const [phone, index] of st.seen) {
        const [b, key] = ListImportRepository.bucketKey(phone);
        let bucket = buckets.get(b);
        if (!bucket) {
          bucket =
            startIndex === 0
              ? new Map<string, number>()
              : new Map(existingBuckets.get(b) ?? (await this.repos.imports.phoneBucket(tenantId, taskId, b)));
          buckets.set(b, bucket);
        }
        bucket.set(key, index);
      }
      phonesWritten = true;
      await this.repos.imports.putPhoneBuckets(tenantId, taskId, buckets, startIndex === 0 ? 'insert' : 'replace');
    };
    const inTask = async (phone: string): Promise<boolean> => {
      if (startIndex === 0) return false;
      const b = phoneBucketOf(phone);
      let bucket = existingBuckets.get(b);
      if (!bucket) {
        bucket = await this.repos.imports.phoneBucket(tenantId, taskId, b);
        existingBuckets.set(b, bucket);
      }
      const index = bucket.get(ListImportRepository.keyOf(phone));
      if (index === undefined || index >= startIndex) return false;
      const pageNo = Math.floor(index / PAGE_SIZE);
      let phones = verifyCache.get(pageNo);
      if (!phones) {
        const page = await this.repos.pages.get(tenantId, taskId, pageNo);
        phones = new Set((page?.contacts ?? []).filter((c) => c.i < startIndex).map((c) => c.phone));
        if (verifyCache.size >= VERIFY_CACHE_PAGES) verifyCache.delete(verifyCache.keys().next().value as number);
        verifyCache.set(pageNo, phones);
      }
      return phones.has(phone);
    };
    const toPageContact = (c: Contact, i: number, listed: boolean): PageContact => ({
      i,
      phone: c.phone,
      vars: c.variables,
      attempts: 0,
      ...(c.name ? { name: c.name } : {}),
      ...(c.timezone ? { tz: c.timezone } : {}),
      ...(listed ? { dnc: true } : {}),
    });

    try {
      let rules: RowRules | undefined;
      for await (const { row, cells } of rows) {
        if (!rules) {
          rules = new RowRules(cells, { requiredVariables: required });
          rules.headerProblems.forEach(problem);
          continue;
        }
        if (cells[0] === TRUNCATED) {
          problem({
            field: 'file',
            reason: `the task would have more than ${this.limits.maxContactsPerTask} contacts; the limit is ${this.limits.maxContactsPerTask}`,
          });
          break;
        }
        const r = rules.check(cells, row);
        if (r.ok === 'blank') continue;
        st.rows++;
        if (!r.ok) {
          st.invalidRows++;
          r.problems.forEach(problem);
          continue;
        }
        const phone = r.contact.phone;
        if (st.seen.has(phone)) {
          st.duplicatesInFile++;
          continue;
        }
        if (await inTask(phone)) {
          st.duplicatesInTask++;
          continue;
        }
        const index = startIndex + st.imported;
        if (index >= this.limits.maxContactsPerTask) {
          problem({
            field: 'file',
            row,
            reason: `the task would have more than ${this.limits.maxContactsPerTask} contacts; the limit is ${this.limits.maxContactsPerTask}`,
          });
          break;
        }
        st.imported++;
        st.seen.set(phone, index);
        const listed = dnc.has(phone);
        if (listed) st.doNotCall++;
        const pc = toPageContact(r.contact, index, listed);
        if (!st.writing) continue;
        if (index < firstNewPage * PAGE_SIZE) {
          partial.push(pc);
          continue;
        }
        current.push(pc);
        if (current.length === PAGE_SIZE) {
          pendingPages.push({ _id: `${taskId}/${nextPage}`, tenantId, taskId, page: nextPage, contacts: current });
          nextPage++;
          current = [];
          await flushPages(false);
        }
      }
      if (!rules) problem({ field: 'file', reason: 'the list is empty: no header row' });
      else if (!st.problemCount && !st.imported && !st.duplicatesInFile && !st.duplicatesInTask)
        problem({ field: 'file', reason: 'the list has no contact rows' });

      if (!st.writing) {
        const report = this.report(importId, target, st, 'rejected');
        await this.compensate(tenantId, taskId, firstNewPage, nextPage, undefined);
        await this.repos.imports.saveImport({
          _id: importId,
          tenantId,
          ...(target.kind === 'attach' ? { taskId } : {}),
          kind: target.kind,
          ...(meta.fileName ? { fileName: meta.fileName } : {}),
          report,
          problems: st.problems,
          ttlMs: this.limits.reportTtlMs,
        });
        throw new ListRejected(report, st.problems);
      }

      if (current.length) {
        pendingPages.push({ _id: `${taskId}/${nextPage}`, tenantId, taskId, page: nextPage, contacts: current });
        nextPage++;
      }
      await flushPages(true);
      await writePhones();
      const totalContacts = startIndex + st.imported;
      const pages = Math.ceil(totalContacts / PAGE_SIZE);
      const dups = st.duplicatesInFile + st.duplicatesInTask;
      if (target.kind === 'create') {
        await this.repos.imports.createTask(
          target.task({ totalContacts, pages, duplicates: dups, doNotCall: st.doNotCall }),
        );
      } else {
        await this.repos.imports.fillPage(tenantId, taskId, firstNewPage - 1, startIndex % PAGE_SIZE, partial);
        const ok = await this.repos.imports.commitAppend(tenantId, taskId, importId, {
          totalContacts,
          pages,
          duplicates: dups,
          doNotCall: st.doNotCall,
        });
        if (!ok) throw new DomainError('the import lost its lock on the task; nothing was imported, retry', 409);
        locked = false;
      }
      const report = { ...this.report(importId, target, st, 'accepted'), totalContacts };
      await this.repos.imports.saveImport({
        _id: importId,
        tenantId,
        taskId,
        kind: target.kind,
        ...(meta.fileName ? { fileName: meta.fileName } : {}),
        report,
        problems: [],
        ttlMs: this.limits.reportTtlMs,
      });
      this.logger.info({ tenantId, taskId, importId, imported: st.imported, totalContacts }, 'call list imported');
      return report;
    } catch (err) {
      if (!(err instanceof ListRejected)) {
        // A fault after writing began: remove what this import wrote, so nothing of it is ever visible.
        await this.compensate(
          tenantId,
          taskId,
          firstNewPage,
          nextPage,
          phonesWritten ? st.seen.keys() : undefined,
        ).catch((e: unknown) => this.logger.error({ err: e, taskId, importId }, 'clean-up of a failed import failed'));
      }
      throw err;
    } finally {
      if (locked) await this.repos.imports.unlock(tenantId, taskId, importId);
    }
  }

  private report(importId: string, target: ImportTarget, st: RunState, status: 'accepted' | 'rejected'): ImportReport {
    return {
      importId,
      ...(status === 'accepted' || target.kind === 'attach' ? { taskId: target.taskId } : {}),
      status,
      rows: st.rows,
      imported: status === 'accepted' ? st.imported : 0,
      duplicatesInFile: st.duplicatesInFile,
      duplicatesInTask: st.duplicatesInTask,
      doNotCall: st.doNotCall,
      invalidRows: st.invalidRows,
      problemCount: st.problemCount,
    };
  }

  /** Remove the buckets and numbers an import wrote. Entries of the partial bucket stay beyond the list's end. */
  private async compensate(
    tenantId: string,
    taskId: string,
    fromPage: number,
    toPage: number,
    phones: Iterable<string> | undefined,
  ): Promise<void> {
    if (toPage > fromPage) await this.repos.imports.deletePages(tenantId, taskId, fromPage, toPage);
    if (phones) await this.repos.imports.removePhones(tenantId, taskId, phones);
  }
}
