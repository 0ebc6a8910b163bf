/**
 * Everything the list API hands out as a file: the import template, a rejected import's error report and the
 * export of a task's number details (申请导出号码详情). **Every cell goes through neutraliseCell** (formula injection);
 * phone numbers are masked for auditors exactly as in ListTaskDetail.
 */
import { Inject, Injectable } from '@nestjs/common';
import { stringify } from 'csv-stringify';
import { DateTime } from 'luxon';
import { Readable } from 'node:stream';
import * as XLSX from 'xlsx';
import type { Repositories } from '../../activities/mongo/connection';
import type { PageContact, TaskDoc } from '../../activities/mongo/schemas';
import { CALL_RESULT_LABELS, categoryOf } from '../../src/call-result';
import type { FieldProblem } from '../../src/errors';
import { neutraliseRow } from '../../src/list/cells';
import { TEMPLATE_COLUMNS } from '../../src/list/rules';
import { maskPhone } from '../../src/phone';
import { REPOSITORIES } from '../common/tokens';

/** Columns of the number-details export, in order. */
export const EXPORT_COLUMNS = [
  '序号',
  '被叫号码',
  '用户名称',
  '通话结果',
  '结果说明',
  '接听状态',
  '挂断方向',
  '开始时间',
  '接听时间',
  '结束时间',
  '振铃时长(秒)',
  '通话时长(秒)',
  '拨打次数',
  '重拨次数',
  '免打扰',
  '未拨打原因',
] as const;

/** Excel's last row, less the header. */
const XLSX_MAX_ROWS = 1_048_575;

function workbook(sheets: { name: string; rows: unknown[][]; widths?: number[] }[]): Buffer {
  const wb = XLSX.utils.book_new();
  for (const s of sheets) {
    const ws = XLSX.utils.aoa_to_sheet(s.rows.map(neutraliseRow));
    if (s.widths) ws['!cols'] = s.widths.map((wch) => ({ wch }));
    XLSX.utils.book_append_sheet(wb, ws, s.name);
  }
  return XLSX.write(wb, { type: 'buffer', bookType: 'xlsx', compression: true }) as Buffer;
}

@Injectable()
export class ListExportService {
  constructor(@Inject(REPOSITORIES) private readonly repos: Repositories) {}

  /** The import template: 用户号码, 用户名称, 时区 and one column per `${variable}` (of the script or prompt), plus notes. */
  template(vars: readonly string[]): Buffer {
    return workbook([
      { name: '外呼清单', rows: [[...TEMPLATE_COLUMNS, ...vars]], widths: [18, 14, 16, ...vars.map(() => 16)] },
      {
        name: '说明',
        rows: [
          ['列', '必填', '说明'],
          ['用户号码', '是', '手机号或固定电话; 可带 +86 或 0086; 其他国家用 E.164 (+国家码…)'],
          ['用户名称', '否', '不超过 50 个字符'],
          ['时区', '否', 'IANA 时区, 如 Asia/Shanghai; 留空则用任务的时区'],
          ...vars.map((v) => [v, '是', `话术变量 \${${v}} 的值: 少于 150 个字符, 不能包含链接`]),
        ],
        widths: [14, 6, 60],
      },
    ]);
  }

  /** A rejected import's problems as a workbook: 行, 列, 值, 原因. */
  errorsWorkbook(problems: FieldProblem[], total: number): Buffer {
    const rows: unknown[][] = [['行 (row)', '列 (column)', '值 (value)', '原因 (reason)']];
    for (const p of problems) rows.push([p.row ?? '', p.field, p.value ?? '', p.reason]);
    if (total > problems.length) rows.push(['', '', '', `… ${total - problems.length} more problem(s) not listed`]);
    return workbook([{ name: '错误报告', rows, widths: [10, 16, 30, 60] }]);
  }

  private row(task: TaskDoc, c: PageContact, fullNumbers: boolean): unknown[] {
    const fmt = (d?: Date) =>
      d
        ? DateTime.fromJSDate(new Date(d))
            .setZone(c.tz ?? task.calendar.timezone)
            .toFormat('yyyy-MM-dd HH:mm:ss')
        : '';
    const last = c.last;
    return [
      c.i + 1,
      fullNumbers ? c.phone : maskPhone(c.phone),
      c.name ?? '',
      last ? CALL_RESULT_LABELS[last.code] : '',
      last?.detail ?? '',
      categoryOf(last?.code),
      last?.hangupBy ?? '',
      fmt(last?.startedAt),
      fmt(last?.answeredAt),
      fmt(last?.endedAt),
      last?.ringSeconds ?? '',
      last?.talkSeconds ?? '',
      c.attempts ?? 0,
      Math.max(0, (c.attempts ?? 0) - 1),
      c.dnc ? '是' : '',
      c.skipped ?? '',
    ];
  }

  /**
   * The task's contacts with their latest results, page by page (each contact page and its result buckets: exact
   * `_id` reads, ~2,000 pages and 8,000 result buckets at a million contacts), never past the end of the list.
   */
  private async *contacts(task: TaskDoc): AsyncGenerator<PageContact> {
    for (let p = 0; p < task.pages; p++) {
      const doc = await this.repos.pages.get(task.tenantId, task._id, p);
      for (const c of doc?.contacts ?? []) if (c && c.i < task.totalContacts) yield c;
    }
  }

  /** Number details as a CSV stream (UTF-8 with BOM, so Excel reads the Chinese headers). */
  csv(task: TaskDoc, fullNumbers: boolean): Readable {
    return Readable.from(this.csvRecords(task, fullNumbers)).pipe(stringify({ bom: true }));
  }

  private async *csvRecords(task: TaskDoc, fullNumbers: boolean): AsyncGenerator<unknown[]> {
    yield [...EXPORT_COLUMNS];
    for await (const c of this.contacts(task)) yield neutraliseRow(this.row(task, c, fullNumbers));
  }

  /** Number details as a workbook (built in memory: for very long lists prefer CSV). */
  async xlsx(task: TaskDoc, fullNumbers: boolean): Promise<Buffer> {
    const rows: unknown[][] = [[...EXPORT_COLUMNS]];
    for await (const c of this.contacts(task)) {
      if (rows.length > XLSX_MAX_ROWS) break;
      rows.push(this.row(task, c, fullNumbers));
    }
    return workbook([{ name: '号码详情', rows, widths: EXPORT_COLUMNS.map(() => 16) }]);
  }
}
