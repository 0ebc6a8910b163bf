/**
 * The call timeline on real recorded histories (test/fixtures/histories/audit-*.json, recorded by
 * test/e2e/audit.e2e-spec.ts from a real campaign: a window-delayed contact that waited for its seat while the task
 * was paused, was busy, was redialled after the retry interval, answered and was transferred by the robot).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { decodeHistory } from './history';
import { campaignGrants, campaignPauses, contactStory, crossCheck } from './timeline';

const DIR = join(__dirname, '..', '..', 'test', 'fixtures', 'histories');
const load = (f: string) => readFileSync(join(DIR, f), 'utf8');
const contact = load('audit-contact-0.json');
const campaign = load('audit-campaign.json');

describe(contactStory.name, () => {
  const story = contactStory(contact, campaignPauses([campaign]));

  it('tells every step in order: due, window wait, paused seat wait, busy, redial wait, answer, dialog, transfer', () => {
    const steps = story.entries.filter((e) => e.kind !== 'status' && e.kind !== 'turn').map((e) => e.kind);
    expect(steps).toEqual([
      'due',
      'wait',
      'seat',
      'dial',
      'ringing',
      'hangup',
      'result',
      'recorded',
      'wait',
      'seat',
      'dial',
      'ringing',
      'answered',
      'transfer',
      'hangup',
      'result',
      'recorded',
      'finished',
    ]);
    const times = story.entries.map((e) => Date.parse(e.at));
    expect([...times].sort((a, b) => a - b)).toEqual(times);
  });

  it('gives each wait its reason and duration, and notes the pause during the first seat wait', () => {
    const waits = story.entries.filter((e) => e.kind === 'wait');
    expect(waits.map((w) => w.reason)).toEqual(['closed: outside working windows', 'redial interval']);
    expect(waits[1]!.seconds).toBeCloseTo(60, 0);
    for (const w of waits) expect(Date.parse(w.until!) - Date.parse(w.at)).toBeCloseTo(w.seconds! * 1000, -2);
    const seats = story.entries.filter((e) => e.kind === 'seat');
    expect(seats[0]!.paused).toHaveLength(1);
    expect(seats[0]!.reason).toBe('no free seat; task paused');
    expect(seats[1]!.paused).toBeUndefined();
    // The grant in the contact's history is the one the campaign sent.
    const grants = campaignGrants([campaign], 'task/' + story.taskId + '/contact/0');
    expect(grants).toHaveLength(2);
    expect(Date.parse(seats[0]!.until!)).toBeGreaterThanOrEqual(grants[0]!);
  });

  it('lists the attempts with their results and the answered call’s dialog turns', () => {
    expect(story.attempts.map((a) => [a.attempt, a.outcome?.code])).toEqual([
      [1, 'BUSY'],
      [2, 'SUCCESS'],
    ]);
    const second = story.attempts[1]!;
    expect(second.dialogEnd).toMatchObject({ kind: 'transfer', skillGroupId: expect.any(String) });
    const turns = story.entries.filter((e) => e.kind === 'turn').map((e) => e.turn!);
    expect(turns.map((t) => t.seq)).toEqual(second.turns.map((t) => t.seq));
    const keyed = turns.filter((t) => t.key !== undefined && !t.bargeInIgnored);
    expect(keyed.map((t) => [t.key, t.node.nodeId, t.branchId ?? t.kbEntryId])).toEqual([
      ['1', 'greet', 'yes'],
      ['9', 'rate', 'demo.kb.logistics'],
      ['1', 'k.ask', 'yes'],
    ]);
    expect(turns[0]!.robot[0]!.text).toContain('张三');
    // The turns the history carries in the endCall input are the whole dialog: same as collected turn by turn.
    const endCall = decodeHistory(contact).find((e) => e.kind === 'activityScheduled' && e.activity === 'endCall');
    const recorded = (endCall as { input: { turns: { seq: number }[] }[] }).input[0]!.turns;
    expect(recorded.map((t) => t.seq)).toEqual(second.turns.map((t) => t.seq));
  });

  it('reads an older history (before the wait-reasons patch) without reasons', () => {
    const old = contactStory(load('walking-skeleton-contact-1.json'));
    expect(old.attempts.map((a) => a.outcome?.code)).toEqual(['BUSY']);
    expect(old.entries.map((e) => e.kind).filter((k) => k !== 'status')).toEqual([
      'due',
      'seat',
      'dial',
      'ringing',
      'hangup',
      'result',
      'recorded',
      'finished',
    ]);
  });
});

describe(crossCheck.name, () => {
  const story = contactStory(contact);
  const second = story.attempts[1]!;
  const o = second.outcome!;
  const dialog = { turns: second.turns, tags: second.tags, end: second.dialogEnd! };

  it('passes when the records agree with the history', () => {
    const checks = crossCheck(second, o, dialog);
    expect(checks).toHaveLength(3);
    expect(checks.every((c) => c.ok)).toBe(true);
  });

  it('names the difference when they do not', () => {
    const changed = crossCheck(
      second,
      { ...o, code: 'BUSY' },
      { ...dialog, turns: dialog.turns.map((t, i) => (i === 2 ? { ...t, branchId: 'other' } : t)) },
    );
    expect(changed.filter((c) => !c.ok).map((c) => c.detail)).toEqual([
      'result SUCCESS ≠ BUSY',
      expect.stringContaining('first difference at turn 3'),
    ]);
  });
});
