/**
 * Checks shared by CreateAgent, UpdateAgent and the batch import: login names, phone addresses and skill-group
 * references, each answering with the reason a problem names (the caller picks the field: a DTO path or a column).
 */
import type { SkillGroupDoc } from '../../activities/mongo/agent-repository';
import { normalisePhone } from '../../src/phone';

const EMAIL = /^[^\s@]{1,64}@[^\s@]+\.[^\s@.]{2,}$/;
const DEFAULT_SIP_PORT = 5060;

export type Checked<T> = { ok: true; value: T } | { ok: false; reason: string };

/** 登录名 is "phone or email" (seed §5.4): an e-mail address (lower case) or a phone number (E.164). */
export function normaliseLoginName(raw: string): Checked<string> {
  const s = raw.trim();
  if (s.includes('@'))
    return EMAIL.test(s) ? { ok: true, value: s.toLowerCase() } : { ok: false, reason: 'not an e-mail address' };
  const p = normalisePhone(s);
  return p.ok
    ? { ok: true, value: p.e164 }
    : { ok: false, reason: `must be an e-mail address or a phone number (${p.reason})` };
}

/** host[:port] → host:port (default 5060). The DTO's pattern has checked the shape. */
export function normalisePhoneAddress(raw: string): Checked<string> {
  const [host, port] = raw.trim().split(':');
  const p = port === undefined ? DEFAULT_SIP_PORT : Number(port);
  if (!host || !Number.isInteger(p) || p < 1 || p > 65535) return { ok: false, reason: 'port must be 1–65535' };
  return { ok: true, value: `${host.toLowerCase()}:${p}` };
}

/** Resolve skill groups given by id or by name (an import names them); unknown ones are listed. */
export function resolveSkillGroups(
  refs: string[],
  groups: readonly SkillGroupDoc[],
): { ids: string[]; unknown: string[] } {
  const byId = new Map(groups.map((g) => [g._id, g]));
  const byName = new Map(groups.map((g) => [g.name, g]));
  const ids: string[] = [];
  const unknown: string[] = [];
  for (const ref of refs) {
    const g = byId.get(ref) ?? byName.get(ref);
    if (!g) unknown.push(ref);
    else if (!ids.includes(g._id)) ids.push(g._id);
  }
  return { ids, unknown };
}
