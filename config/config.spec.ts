import { ConfigError, loadConfig } from './config';

describe('loadConfig', () => {
  it('has working embedded defaults', () => {
    const c = loadConfig({});
    expect(c.ari.url).toBe('http://127.0.0.1:8088');
    expect(c.mongodbUri).toBe('mongodb://127.0.0.1:27017/waihu');
    expect(c.tenantDefaults.blockedHours).toEqual([
      { start: '12:00', end: '14:00' },
      { start: '21:00', end: '09:00' },
    ]);
    expect(Object.isFrozen(c.ari)).toBe(true);
  });

  it('names every bad variable in one line', () => {
    let err: unknown;
    try {
      loadConfig({ ARI_URL: 'not a url', API_PORT: '99999', SIP_ROUTES: '+86=nowhere' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    const msg = (err as Error).message;
    expect(msg).not.toContain('\n');
    expect(msg).toMatch(/ARI_URL: must be an http\(s\) URL/);
    expect(msg).toMatch(/API_PORT/);
    expect(msg).toMatch(/SIP_ROUTES/);
  });

  it('parses API keys and never echoes a key in errors', () => {
    expect(loadConfig({ API_KEYS: 'aaaaaaaaaaaaaaaa:t1:manager|auditor' }).api.keys).toEqual([
      { key: 'aaaaaaaaaaaaaaaa', tenantId: 't1', roles: ['manager', 'auditor'] },
    ]);
    expect(() => loadConfig({ API_KEYS: 'short-secret:t1:root' })).toThrow(/API_KEYS/);
    expect(() => loadConfig({ API_KEYS: 'short-secret:t1:root' })).not.toThrow(/short-secret/);
  });
});
