/**
 * The tenant's settings: read (the tenant's values over the configuration's defaults) and change them, with every
 * problem named by its field. Lowering the AI-seat pool below the seats the tenant's running and paused tasks hold
 * is refused, naming those tasks; the check and the write run under the tenant's lock, which seat reservations
 * (CampaignService) take too.
 */
import { Inject, Injectable } from '@nestjs/common';
import { DateTime } from 'luxon';
import type { Logger } from '../../activities/logger';
import type { Repositories } from '../../activities/mongo/connection';
import type { TenantSettings, TenantSettingsPatch } from '../../activities/mongo/tenant-settings';
import { isValidZone, openSegments } from '../../src/calendar';
import { DomainError, ValidationFailed, type FieldProblem } from '../../src/errors';
import { LOGGER, REPOSITORIES } from '../common/tokens';
import { MAX_HOLIDAYS, type UpdateTenantSettingsDto } from './tenant-settings.dto';

const DATE = /^\d{4}-\d{2}-\d{2}$/;

/** Why `date` is not a yyyy-MM-dd calendar date (in `year`, when given), or undefined. */
function dateProblem(date: string, year?: number): string | undefined {
  if (!DATE.test(date) || !DateTime.fromISO(date).isValid) return 'not a yyyy-MM-dd date';
  if (year !== undefined && Number(date.slice(0, 4)) !== year) return `not in ${year}`;
  return undefined;
}

@Injectable()
export class TenantSettingsService {
  constructor(
    @Inject(REPOSITORIES) private readonly repos: Repositories,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  async get(tenantId: string): Promise<TenantSettings> {
    return this.repos.tenantSettings.get(tenantId, { fresh: true });
  }

  async update(tenantId: string, dto: UpdateTenantSettingsDto): Promise<TenantSettings> {
    const problems: FieldProblem[] = [];
    if (dto.blockedHours) {
      dto.blockedHours.forEach((b, i) => {
        if (b.start === b.end)
          problems.push({ field: `blockedHours.${i}`, value: `${b.start}-${b.end}`, reason: 'blocks nothing' });
      });
      const wholeDay = { windows: [{ start: '00:00', end: '23:59' }], blocked: dto.blockedHours };
      if (!problems.length && !openSegments(wholeDay).length)
        problems.push({ field: 'blockedHours', reason: 'blocks the whole day: no call could ever start' });
    }
    dto.holidays?.forEach((d, i) => {
      const reason = dateProblem(d);
      if (reason) problems.push({ field: `holidays.${i}`, value: d, reason });
    });
    if (typeof dto.timezone === 'string' && !isValidZone(dto.timezone))
      problems.push({ field: 'timezone', value: dto.timezone, reason: 'not an IANA time zone' });
    const cap = dto.frequencyCap;
    if (cap && cap.perWeek > 0 && cap.perDay > cap.perWeek)
      problems.push({
        field: 'frequencyCap.perDay',
        value: String(cap.perDay),
        reason: `exceeds frequencyCap.perWeek (${cap.perWeek})`,
      });
    if (problems.length) throw new ValidationFailed('the tenant settings are invalid', problems);

    const patch: TenantSettingsPatch = {
      ...(dto.blockedHours !== undefined
        ? { blockedHours: dto.blockedHours && dto.blockedHours.map((b) => ({ start: b.start, end: b.end })) }
        : {}),
      ...(dto.holidays !== undefined ? { holidays: dto.holidays && [...new Set(dto.holidays)].sort() } : {}),
      ...(dto.aiSeats !== undefined ? { aiSeats: dto.aiSeats } : {}),
      ...(dto.frequencyCap !== undefined
        ? { frequencyCap: dto.frequencyCap && { perDay: dto.frequencyCap.perDay, perWeek: dto.frequencyCap.perWeek } }
        : {}),
      ...(dto.timezone !== undefined ? { timezone: dto.timezone } : {}),
    };
    const settings = await this.repos.tenantSettings.update(tenantId, patch, (next, current) =>
      next.aiSeats < current.aiSeats ? this.checkPool(tenantId, next.aiSeats) : undefined,
    );
    this.logger.info({ tenantId, fields: Object.keys(patch) }, 'tenant settings changed');
    return settings;
  }

  /** PUT /tenant/holidays/{year}: the year's dates replace that year's; the other years stay. */
  async replaceYear(tenantId: string, year: number, dates: string[]): Promise<TenantSettings> {
    const problems: FieldProblem[] = [];
    if (!Number.isInteger(year) || year < 1970 || year > 2200)
      problems.push({ field: 'year', value: String(year), reason: 'must be a year from 1970 to 2200' });
    else
      dates.forEach((d, i) => {
        const reason = dateProblem(d, year);
        if (reason) problems.push({ field: `dates.${i}`, value: d, reason });
      });
    if (problems.length) throw new ValidationFailed('the holidays are invalid', problems);
    const settings = await this.repos.tenantSettings.update(tenantId, (current) => {
      const holidays = [...new Set([...current.holidays.filter((d) => !d.startsWith(`${year}-`)), ...dates])].sort();
      if (holidays.length > MAX_HOLIDAYS)
        throw new ValidationFailed(`the tenant would have ${holidays.length} holidays; at most ${MAX_HOLIDAYS}`, [
          {
            field: 'dates',
            value: String(dates.length),
            reason: `the tenant may have at most ${MAX_HOLIDAYS} holidays`,
          },
        ]);
      return { holidays };
    });
    this.logger.info({ tenantId, year, dates: dates.length }, 'tenant holidays replaced');
    return settings;
  }

  /** Refuse a pool smaller than the seats the tenant's tasks hold, naming the tasks and what each holds. */
  private async checkPool(tenantId: string, pool: number): Promise<void> {
    const held = await this.repos.tenantSettings.heldSeats(tenantId);
    const total = Object.values(held).reduce((a, b) => a + b, 0);
    if (total <= pool) return;
    const holders = await Promise.all(
      Object.entries(held).map(async ([taskId, seats]) => {
        const task = await this.repos.tasks.get(tenantId, taskId);
        return `${taskId}${task ? ` (${task.name}, ${task.status})` : ''} holds ${seats}`;
      }),
    );
    throw new DomainError(`the tenant's tasks hold ${total} AI seats, more than ${pool}`, 409, [
      {
        field: 'aiSeats',
        value: String(pool),
        reason: `below the ${total} AI seat(s) held by running or paused tasks: ${holders.join('; ')}; lower their seats or end them first`,
      },
    ]);
  }
}
