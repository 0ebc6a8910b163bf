import { checkTransition, effectiveSettings, isFrozen, DEFAULT_TENANT_SETTINGS } from './agent-states';

describe('checkTransition', () => {
  const base = { frozen: false, skillGroups: 1 };

  it('follows the state table', () => {
    expect(checkTransition({ ...base, from: 'NOT_STARTED', to: 'ONLINE' })).toBeNull();
    expect(checkTransition({ ...base, from: 'ONLINE', to: 'AFTER_CALL_WORK' })).toBeNull();
    expect(checkTransition({ ...base, from: 'AFTER_CALL_WORK', to: 'ONLINE' })).toBeNull();
    expect(checkTransition({ ...base, from: 'SHORT_BREAK', to: 'AFTER_CALL_WORK' })?.code).toBe('badTransition');
    expect(checkTransition({ ...base, from: 'SIGNED_OUT', to: 'SHORT_BREAK' })?.code).toBe('badTransition');
    expect(checkTransition({ ...base, from: 'ONLINE', to: 'NOT_STARTED' })?.code).toBe('badTransition');
  });

  it('keeps frozen agents and agents without a skill group offline, and reasons on breaks only', () => {
    expect(checkTransition({ ...base, frozen: true, from: 'SIGNED_OUT', to: 'ONLINE' })?.code).toBe('frozen');
    expect(checkTransition({ ...base, skillGroups: 0, from: 'NOT_STARTED', to: 'ONLINE' })?.code).toBe('noSkillGroup');
    expect(checkTransition({ ...base, skillGroups: 0, from: 'NOT_STARTED', to: 'SHORT_BREAK' })).toBeNull();
    expect(checkTransition({ ...base, from: 'ONLINE', to: 'SHORT_BREAK', reason: 'meal' })).toBeNull();
    expect(checkTransition({ ...base, from: 'ONLINE', to: 'SHORT_BREAK', reason: 'nap' })?.code).toBe('badReason');
    expect(checkTransition({ ...base, from: 'NOT_STARTED', to: 'ONLINE', reason: 'meal' })?.code).toBe('badReason');
  });
});

describe('isFrozen', () => {
  const now = new Date('2030-01-01T00:00:00Z');
  it('holds a permanent freeze, and a temporary one until its end', () => {
    expect(isFrozen(null, now)).toBe(false);
    expect(isFrozen({ reason: 'x', at: now }, now)).toBe(true);
    expect(isFrozen({ reason: 'x', at: now, until: new Date('2030-01-01T00:00:01Z') }, now)).toBe(true);
    expect(isFrozen({ reason: 'x', at: now, until: now }, now)).toBe(false);
  });
});

describe('effectiveSettings', () => {
  const own = { autoAnswer: { enabled: false, seconds: 5 } };
  it('uses the agent’s own parts only while the tenant allows them; off is null', () => {
    expect(effectiveSettings(DEFAULT_TENANT_SETTINGS, own)).toEqual({
      autoAnswerSeconds: 1,
      afterCallWorkSeconds: 30,
      source: 'tenant',
    });
    expect(effectiveSettings({ ...DEFAULT_TENANT_SETTINGS, allowAgentOverride: true }, own)).toEqual({
      autoAnswerSeconds: null,
      afterCallWorkSeconds: 30,
      source: 'agent',
    });
    expect(effectiveSettings({ ...DEFAULT_TENANT_SETTINGS, allowAgentOverride: true }, null).source).toBe('tenant');
  });
});
