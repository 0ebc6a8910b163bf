/**
 * Exports for auditors (issue #9): a task's call records (every attempt, not only the latest per number) and its
 * dialog transcripts (every turn of every answered call with a script), as xlsx, CSV or JSON.
 *
 * Batch work, never on the campaign's hot path: the contacts are read bucket by bucket and each attempt's call
 * record and dialog record by exact `_id` (the attempt id), through the repositories' public methods only.
 * **Every spreadsheet cell goes through neutraliseRow** (formula injection); phone numbers are masked unless the
 * principal may see full numbers (seesFullNumbers), in every format.
 */
import { Inject, Injectable } from '@nestjs/common';
import { stringify } from 'csv-stringify';
import { DateTime } from 'luxon';
import { Readable } from 'node:stream';
import * as XLSX from 'xlsx';
import type { Repositories } from '../../activities/mongo/connection';
import { storedOutcome } from '../../activities/mongo/repositories';
import type { PageContact, TaskDoc } from '../../activities/mongo/schemas';
import type { DialogDoc } from '../../activities/mongo/dialog-repository';
import { neutraliseRow } from '../../src/list/cells';
import { attemptId } from '../../src/ids';
import { maskPhone, maskPhonesIn } from '../../src/phone';
import type { AttemptOutcome } from '../../workflows/definitions';
import { REPOSITORIES } from '../common/tokens';

export const CALL_COLUMNS = [
  '通话ID',
  '序号',
  '被叫号码',
  '用户名称',
  '第几次拨打',
  '通话结果',
  '结果代码',
  '结果说明',
  '挂断方向',
  '原因码',
  '开始时间',
  '接听时间',
  '结束时间',
  '振铃时长(秒)',
  '通话时长(秒)',
  '按键',
  '备注',
] as const;

export const DIALOG_COLUMNS = [
  '通话ID',
  '被叫号码',
  '轮次',
  '时间',
  '流程',
  '节点',
  '输入',
  '客户说',
  '客户按键',
  '分支类型',
  '分支',
  '知识库',
  '意图',
  '机器人说',
  '下一节点',
  '新增标签',
  '结束',
] as const;

const XLSX_MAX_ROWS = 1_048_575;

export interface CallExportRow {
  attemptId: string;
  contactIndex: number;
  phone: string;
  name?: string;
  attempt: number;
  outcome?: AttemptOutcome;
}

interface Transcript {
  call: CallExportRow;
  dialog: DialogDoc;
}

@Injectable()
export class AuditExportService {
  constructor(@Inject(REPOSITORIES) private readonly repos: Repositories) {}

  private async *contacts(task: TaskDoc): AsyncGenerator<PageContact> {
    for (let p = 0; p < task.pages; p++) {
      const doc = await this.repos.pages.get(task.tenantId, task._id, p);
      for (const c of doc?.contacts ?? []) if (c && c.i < task.totalContacts) yield c;
    }
  }

  /** Every attempt of the task, in list order then attempt order, with its stored outcome when final. */
  async *calls(task: TaskDoc, fullNumbers: boolean): AsyncGenerator<CallExportRow> {
    for await (const c of this.contacts(task)) {
      for (let n = 1; n <= (c.attempts ?? 0); n++) {
        const id = attemptId(task._id, c.i, n);
        const doc = await this.repos.calls.get(task.tenantId, id);
        if (!doc) continue;
        const outcome = storedOutcome(doc);
        yield {
          attemptId: id,
          contactIndex: c.i,
          phone: fullNumbers ? c.phone : maskPhone(c.phone),
          ...(c.name ? { name: c.name } : {}),
          attempt: n,
          ...(outcome
            ? { outcome: fullNumbers || !outcome.note ? outcome : { ...outcome, note: maskPhonesIn(outcome.note) } }
            : {}),
        };
      }
    }
  }

  private async *transcripts(task: TaskDoc, fullNumbers: boolean): AsyncGenerator<Transcript> {
    for await (const call of this.calls(task, fullNumbers)) {
      if (!call.outcome?.answeredAt) continue;
      const dialog = await this.repos.dialogs.get(task.tenantId, call.attemptId);
      if (dialog) yield { call, dialog: fullNumbers ? dialog : maskDialog(dialog) };
    }
  }

  private callRow(task: TaskDoc, c: CallExportRow): unknown[] {
    const o = c.outcome;
    const fmt = (iso?: string) =>
      iso ? DateTime.fromISO(iso).setZone(task.calendar.timezone).toFormat('yyyy-MM-dd HH:mm:ss') : '';
    return [
      c.attemptId,
      c.contactIndex + 1,
      c.phone,
      c.name ?? '',
      c.attempt,
      o?.label ?? '',
      o?.code ?? '',
      o?.detail ?? '',
      o?.hangupBy ?? '',
      o?.cause ?? '',
      fmt(o?.startedAt),
      fmt(o?.answeredAt),
      fmt(o?.endedAt),
      o?.ringSeconds ?? '',
      o?.talkSeconds ?? '',
      o?.dtmf.join('') ?? '',
      o?.note ?? '',
    ];
  }

  private dialogRows(task: TaskDoc, t: Transcript): unknown[][] {
    return t.dialog.turns.map((turn) => [
      t.call.attemptId,
      t.call.phone,
      turn.seq,
      DateTime.fromMillis(turn.atMs).setZone(task.calendar.timezone).toFormat('yyyy-MM-dd HH:mm:ss'),
      `${turn.node.scope}:${turn.node.flowId}`,
      turn.node.nodeId,
      turn.input,
      turn.calleeText ?? '',
      turn.calleeKey ?? '',
      turn.branchType ?? '',
      turn.branchId ?? '',
      turn.kbEntryId ?? '',
      turn.intentId ?? '',
      turn.robot.map((r) => r.text).join(' '),
      turn.next ? `${turn.next.flowId}/${turn.next.nodeId}` : '',
      turn.tagsAdded.join(','),
      turn.end ? `${turn.end.kind}:${turn.end.reason}${turn.end.skillGroupId ? `:${turn.end.skillGroupId}` : ''}` : '',
    ]);
  }

  callsCsv(task: TaskDoc, fullNumbers: boolean): Readable {
    return Readable.from(this.callCsvRows(task, fullNumbers)).pipe(stringify({ bom: true }));
  }

  private async *callCsvRows(task: TaskDoc, fullNumbers: boolean): AsyncGenerator<unknown[]> {
    yield [...CALL_COLUMNS];
    for await (const c of this.calls(task, fullNumbers)) yield neutraliseRow(this.callRow(task, c));
  }

  async callsXlsx(task: TaskDoc, fullNumbers: boolean): Promise<Buffer> {
    const rows: unknown[][] = [[...CALL_COLUMNS]];
    for await (const c of this.calls(task, fullNumbers)) {
      if (rows.length > XLSX_MAX_ROWS) break;
      rows.push(this.callRow(task, c));
    }
    return workbook('通话记录', rows);
  }

  async callsJson(task: TaskDoc, fullNumbers: boolean) {
    const items: CallExportRow[] = [];
    for await (const c of this.calls(task, fullNumbers)) items.push(c);
    return { taskId: task._id, items };
  }

  dialogsCsv(task: TaskDoc, fullNumbers: boolean): Readable {
    return Readable.from(this.dialogCsvRows(task, fullNumbers)).pipe(stringify({ bom: true }));
  }

  private async *dialogCsvRows(task: TaskDoc, fullNumbers: boolean): AsyncGenerator<unknown[]> {
    yield [...DIALOG_COLUMNS];
    for await (const t of this.transcripts(task, fullNumbers))
      for (const r of this.dialogRows(task, t)) yield neutraliseRow(r);
  }

  async dialogsXlsx(task: TaskDoc, fullNumbers: boolean): Promise<Buffer> {
    const rows: unknown[][] = [[...DIALOG_COLUMNS]];
    for await (const t of this.transcripts(task, fullNumbers)) {
      if (rows.length > XLSX_MAX_ROWS) break;
      rows.push(...this.dialogRows(task, t));
    }
    return workbook('对话记录', rows);
  }

  async dialogsJson(task: TaskDoc, fullNumbers: boolean) {
    const items: unknown[] = [];
    for await (const t of this.transcripts(task, fullNumbers))
      items.push({
        attemptId: t.call.attemptId,
        contactIndex: t.call.contactIndex,
        phone: t.call.phone,
        script: t.dialog.script,
        tags: t.dialog.tags,
        end: t.dialog.end,
        turns: t.dialog.turns.map(({ atMs, ...turn }) => ({ at: new Date(atMs).toISOString(), ...turn })),
      });
    return { taskId: task._id, items };
  }
}

/** A dialog with every phone number in the callee's words and the robot's prompts masked. */
function maskDialog(d: DialogDoc): DialogDoc {
  return {
    ...d,
    turns: d.turns.map((t) => ({
      ...t,
      ...(t.calleeText !== undefined ? { calleeText: maskPhonesIn(t.calleeText) } : {}),
      robot: t.robot.map((r) => ({ ...r, text: maskPhonesIn(r.text) })),
    })),
  };
}

function workbook(name: string, rows: unknown[][]): Buffer {
  const wb = XLSX.utils.book_new();
  const ws = XLSX.utils.aoa_to_sheet(rows.map(neutraliseRow));
  ws['!cols'] = (rows[0] ?? []).map(() => ({ wch: 18 }));
  XLSX.utils.book_append_sheet(wb, ws, name);
  return XLSX.write(wb, { type: 'buffer', bookType: 'xlsx', compression: true }) as Buffer;
}
