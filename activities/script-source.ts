/**
 * The scripts the dial activity loads when a call with a robot dialog is placed: an approved version, read once per
 * process by its exact `_id` and kept (approved versions never change; editing makes a new draft version).
 */
import type { LoadedScript, ScriptSource } from './media-activities';
import { utteranceMedia, type ScriptRepository } from './mongo/script-repository';

/** Distinct versions kept in memory; a campaign uses one, a busy worker a handful. */
const CACHE_LIMIT = 64;

export function createScriptSource(repo: Pick<ScriptRepository, 'getVersion'>): ScriptSource {
  const cache = new Map<string, LoadedScript>();
  return {
    async load(tenantId, ref) {
      const key = `${tenantId}/${ref.scriptId}@${ref.version}`;
      const hit = cache.get(key);
      if (hit) return hit;
      const doc = await repo.getVersion(tenantId, ref.scriptId, ref.version);
      if (!doc || doc.status !== 'approved') return undefined;
      const loaded: LoadedScript = { script: doc.script, recordedMedia: (id) => utteranceMedia(doc, id) };
      if (cache.size >= CACHE_LIMIT) cache.delete(cache.keys().next().value as string);
      cache.set(key, loaded);
      return loaded;
    },
  };
}
