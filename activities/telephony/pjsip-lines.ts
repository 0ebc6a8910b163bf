/**
 * Lines in Asterisk: each line is a PJSIP endpoint and an aor, both named by the line id, pushed at run time through
 * ARI's dynamic configuration (`PUT /ari/asterisk/config/dynamic/res_pjsip/{endpoint|aor}/{id}`), with no restart.
 *
 * Asterisk config this module needs (templates in config/asterisk/): sorcery.conf mapping res_pjsip's `endpoint`
 * and `aor` to the `memory` wizard beside pjsip.conf (ARI answers 403 "Cannot create sorcery objects" otherwise), and
 * pjsip.conf's `transport-udp` and `from-carrier` context, which the endpoints reuse. The memory wizard forgets
 * everything when Asterisk restarts: {@link syncLinesToAsterisk} pushes the stored lines again (a media worker at
 * start-up, and after its ARI connection comes back).
 *
 * The aor holds the line's address as its one permanent contact, so `pjsip show aor <id>` shows where the line goes
 * and `PJSIP/<number>@<id>` would dial it; Waihu dials the explicit URI instead ({@link dialString}), so a call never
 * depends on the contact. A PUT on an existing aor ADDS a contact (contact is a list), so a changed address replaces
 * the aor (delete, then create).
 */
import type { Client } from 'ari-client';

/** The part of ari-client's Client this module uses (an ari-client `Client` is one; no websocket needed). */
export interface AsteriskConfigClient {
  asterisk: Pick<Client['asterisk'], 'getObject' | 'updateObject' | 'deleteObject'>;
}

/** What Asterisk needs of a line. */
export interface PjsipLine {
  _id: string;
  address: string;
}

const CONFIG_CLASS = 'res_pjsip';

/** The endpoint's settings: those of the `carrier` trunk in config/asterisk/pjsip.conf (see the reasons there). */
const ENDPOINT_FIELDS = (id: string) => [
  { attribute: 'transport', value: 'transport-udp' },
  { attribute: 'aors', value: id },
  { attribute: 'context', value: 'from-carrier' },
  // disallow before allow: on an update the codec list is rebuilt, not appended to.
  { attribute: 'disallow', value: 'all' },
  { attribute: 'allow', value: 'ulaw,alaw' },
  { attribute: 'direct_media', value: 'no' },
  { attribute: 'dtmf_mode', value: 'rfc4733' },
  { attribute: 'timers', value: 'no' },
  { attribute: 'send_connected_line', value: 'no' },
];

const contactOf = (line: PjsipLine) => `sip:${line.address}`;

/** PJSIP ids: what a line id may be (letters, digits, `-`, `_`), so it is safe in a dial string and a URL. */
export const PJSIP_ID = /^[A-Za-z0-9_-]{1,64}$/;

function checkId(id: string): void {
  if (!PJSIP_ID.test(id)) throw new Error(`"${id}" is not a PJSIP object id`);
}

/** ARI answers a missing object with 404 and a JSON message "Object with id '…' not found". */
function isNotFound(err: unknown): boolean {
  const e = err as { message?: string; statusCode?: number };
  return e?.statusCode === 404 || /not found/i.test(e?.message ?? '');
}

async function getObject(
  client: AsteriskConfigClient,
  objectType: 'endpoint' | 'aor',
  id: string,
): Promise<Map<string, string[]> | undefined> {
  try {
    const tuples = await client.asterisk.getObject({ configClass: CONFIG_CLASS, objectType, id });
    const out = new Map<string, string[]>();
    for (const t of tuples) out.set(t.attribute, [...(out.get(t.attribute) ?? []), t.value]);
    return out;
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}

async function deleteObject(client: AsteriskConfigClient, objectType: 'endpoint' | 'aor', id: string): Promise<void> {
  try {
    await client.asterisk.deleteObject({ configClass: CONFIG_CLASS, objectType, id });
  } catch (err) {
    if (!isNotFound(err)) throw err;
  }
}

/**
 * Create or update the line's aor and endpoint in Asterisk. Idempotent: an aor whose contact is already the line's
 * address is left alone; a different one is replaced. The aor goes first, so the endpoint never names a missing aor.
 */
export async function pushLine(client: AsteriskConfigClient, line: PjsipLine): Promise<void> {
  checkId(line._id);
  const aor = await getObject(client, 'aor', line._id);
  const contacts = (aor?.get('contact') ?? []).flatMap((c) => c.split(',')).filter(Boolean);
  if (!aor || contacts.length !== 1 || contacts[0] !== contactOf(line)) {
    if (aor) await deleteObject(client, 'aor', line._id);
    await client.asterisk.updateObject({
      configClass: CONFIG_CLASS,
      objectType: 'aor',
      id: line._id,
      fields: [
        { attribute: 'max_contacts', value: '0' },
        { attribute: 'contact', value: contactOf(line) },
      ],
    });
  }
  await client.asterisk.updateObject({
    configClass: CONFIG_CLASS,
    objectType: 'endpoint',
    id: line._id,
    fields: ENDPOINT_FIELDS(line._id),
  });
}

/** Remove the line's endpoint and aor from Asterisk; missing ones are fine. Calls in progress are not touched. */
export async function removeLine(client: AsteriskConfigClient, lineId: string): Promise<void> {
  checkId(lineId);
  await deleteObject(client, 'endpoint', lineId);
  await deleteObject(client, 'aor', lineId);
}

/**
 * Push every stored line to Asterisk (a media worker at start-up, and after an Asterisk restart: the memory wizard
 * lost them). Lines are pushed one by one; a line that fails is reported and the others are still pushed. Objects
 * of lines that are no longer stored are not removed (other deployments or tests may share the Asterisk; the API
 * removes a line's objects when it deletes the line).
 */
export async function syncLinesToAsterisk(
  client: AsteriskConfigClient,
  lines: readonly PjsipLine[],
): Promise<{ pushed: number; failed: { lineId: string; error: string }[] }> {
  const failed: { lineId: string; error: string }[] = [];
  let pushed = 0;
  for (const line of lines) {
    try {
      await pushLine(client, line);
      pushed++;
    } catch (err) {
      failed.push({ lineId: line._id, error: (err as Error).message });
    }
  }
  return { pushed, failed };
}

/**
 * The ARI originate `endpoint` for a call to `phone` (E.164) through the line's endpoint, sent to `host` (the line's
 * address, host:port): `PJSIP/<line id>/sip:<digits>@<host>`, the same form as the carrier trunk's calls.
 */
export function dialString(endpoint: string, phone: string, host: string): string {
  checkId(endpoint);
  return `PJSIP/${endpoint}/sip:${phone.replace(/^\+/, '')}@${host}`;
}
