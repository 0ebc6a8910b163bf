/**
 * docker-compose.yml cannot run here (no Docker engine), so its consistency with the code is checked instead.
 * Real: the compose file, the Dockerfiles, config/asterisk/ and loadConfig(). Nothing runs a container.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { loadConfig } from '../../config/config';
import { SEARCH_ATTRIBUTES } from '../../workflows/search-attributes';

const ROOT = join(__dirname, '..', '..');

interface Service {
  image?: string;
  build?: string | { context: string; dockerfile?: string };
  environment?: Record<string, string | number>;
  depends_on?: string[] | Record<string, unknown>;
  volumes?: string[];
  command?: string[];
}

const compose = parse(readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8'), { merge: true }) as {
  services: Record<string, Service>;
  volumes: Record<string, unknown>;
};

/** Resolve ${VAR}, ${VAR:-default} and ${VAR:?message} as compose would, with `vars` as the shell environment. */
function interpolate(value: string | number, vars: Record<string, string>): string {
  return String(value).replace(
    /\$\{([A-Z0-9_]+)(?::([-?])([^}]*))?\}/g,
    (_, name: string, op?: string, arg?: string) => {
      const v = vars[name];
      if (v !== undefined && v !== '') return v;
      if (op === '-') return arg ?? '';
      throw new Error(`${name} is required: ${arg}`);
    },
  );
}

const shell = { WAIHU_API_KEYS: 'compose-admin-key-123456:acme:admin', ARI_PASSWORD: 'compose-secret' };
const env = (service: string) =>
  Object.fromEntries(
    Object.entries(compose.services[service]?.environment ?? {}).map(([k, v]) => [k, interpolate(v, shell)]),
  );

describe('docker-compose.yml', () => {
  it('uses images or Dockerfiles that exist, and only declared services and volumes', () => {
    for (const [name, s] of Object.entries(compose.services)) {
      expect({ name, source: Boolean(s.image ?? s.build) }).toEqual({ name, source: true });
      if (s.build) {
        const b = typeof s.build === 'string' ? { context: s.build } : s.build;
        expect(existsSync(join(ROOT, b.context, b.dockerfile ?? 'Dockerfile'))).toBe(true);
      }
      const deps = Array.isArray(s.depends_on) ? s.depends_on : Object.keys(s.depends_on ?? {});
      for (const d of deps) expect(Object.keys(compose.services)).toContain(d);
      for (const v of s.volumes ?? []) {
        const source = v.split(':')[0]!;
        if (!source.startsWith('.') && !source.startsWith('/')) expect(Object.keys(compose.volumes)).toContain(source);
      }
    }
  });

  it.each(['waihu-api', 'waihu-worker'])('gives %s a configuration loadConfig accepts', (service) => {
    const config = loadConfig(env(service));
    expect(config.ari.url).toBe('http://asterisk:8088');
    expect(config.temporal.address).toBe('temporal:7233');
    expect(config.mongodbUri).toBe('mongodb://mongodb:27017/waihu');
  });

  it('names only variables the configuration knows', () => {
    const source = readFileSync(join(ROOT, 'config', 'config.ts'), 'utf8');
    for (const service of ['waihu-api', 'waihu-worker']) {
      for (const key of Object.keys(env(service)))
        expect({ key, known: source.includes(`${key}:`) }).toEqual({ key, known: true });
    }
  });

  it('gives the API, the worker and Asterisk the same ARI credentials, and the worker the prompts volume Asterisk plays', () => {
    const asterisk = env('asterisk');
    for (const service of ['waihu-api', 'waihu-worker']) {
      expect(env(service).ARI_USERNAME).toBe(asterisk.ARI_USERNAME);
      expect(env(service).ARI_PASSWORD).toBe(asterisk.ARI_PASSWORD);
    }
    const soundsDir = env('waihu-worker').TTS_SOUNDS_DIR;
    const mounts = (s: string) => (compose.services[s]?.volumes ?? []).map((v) => v.split(':')[1]);
    expect(mounts('waihu-worker')).toContain(soundsDir);
    expect(mounts('asterisk')).toContain(soundsDir);
  });

  it('fills every variable the Asterisk templates use', () => {
    const entrypoint = readFileSync(join(ROOT, 'docker', 'asterisk', 'entrypoint.sh'), 'utf8');
    const substituted = /envsubst '([^']+)'/.exec(entrypoint)?.[1] ?? '';
    // The dialplan's own variables (extensions.conf), which Asterisk fills at call time: the same list
    // scripts/asterisk.sh leaves alone when it renders the templates for the embedded server.
    const script = readFileSync(join(ROOT, 'scripts', 'asterisk.sh'), 'utf8');
    const dialplanOwn = /extensions\\\.conf:.*\[\$\]\[\{\]\(([A-Z_|]+)\)/.exec(script)?.[1]?.split('|') ?? [];
    expect(dialplanOwn).toEqual(['WAIHU_ARI_APP', 'AMDSTATUS', 'AMDCAUSE']);
    const dir = join(ROOT, 'config', 'asterisk');
    for (const file of readdirSync(dir).filter((f) => f.endsWith('.conf'))) {
      for (const m of readFileSync(join(dir, file), 'utf8').matchAll(/\$\{([A-Z_]+)\}/g)) {
        if (file === 'extensions.conf' && dialplanOwn.includes(m[1]!)) continue;
        expect({ file, variable: m[1], filled: substituted.includes(`\${${m[1]}}`) }).toEqual({
          file,
          variable: m[1],
          filled: true,
        });
      }
    }
  });

  it('refuses to start without the secrets', () => {
    expect(() => interpolate(compose.services['waihu-api']!.environment!.API_KEYS!, {})).toThrow(/WAIHU_API_KEYS/);
  });

  it('registers the search attributes the workflows set, as the embedded server does', () => {
    const command = (compose.services['temporal-search-attributes']?.command ?? []).join(' ');
    const script = readFileSync(join(ROOT, 'scripts', 'temporal.sh'), 'utf8');
    for (const { name } of SEARCH_ATTRIBUTES) {
      expect(command).toContain(`--name ${name} --type Keyword`);
      expect(script).toContain(`--name ${name} --type Keyword`);
    }
  });
});
