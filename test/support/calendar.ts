/**
 * A time zone in which "now" is comfortably inside the default open hours (09:00–12:00 and 14:00–21:00 local
 * after the platform's blocked hours), so an end-to-end campaign can dial at once whatever time CI runs.
 */
import { DateTime } from 'luxon';

export function zoneWhereOpenNow(minutesLeft = 45): string {
  for (let offset = -12; offset <= 14; offset++) {
    // Etc/GMT zones have inverted signs: Etc/GMT-8 is UTC+8.
    const zone = offset === 0 ? 'Etc/UTC' : `Etc/GMT${offset > 0 ? '-' : '+'}${Math.abs(offset)}`;
    const local = DateTime.now().setZone(zone);
    const minute = local.hour * 60 + local.minute;
    const open = (
      [
        [9 * 60, 12 * 60],
        [14 * 60, 21 * 60],
      ] as const
    ).some(([s, e]) => minute >= s + 5 && minute <= e - minutesLeft);
    if (open) return zone;
  }
  throw new Error('no zone found with open hours now');
}
