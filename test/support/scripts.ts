/** Robot scripts through the API, as a campaign manager and a reviewing supervisor would make them. */
import type { INestApplication } from '@nestjs/common';
import request from 'supertest';
import type { Script } from '../../src/script/model';

/** A script as CreateScript takes it: basic information, and the content without what the API assigns. */
export function createScriptBody(script: Script): Record<string, unknown> {
  const { name, industry, scene, remarks, ...rest } = script;
  const content: Partial<typeof rest> = { ...rest };
  delete content.id;
  delete content.sceneClass;
  return { name, industry, scene, ...(remarks ? { remarks } : {}), script: content };
}

/** Create, dub (TTS), submit and approve a script; returns its id and the approved version. */
export async function approvedScript(
  app: INestApplication,
  keys: { manager: string; supervisor: string },
  script: Script,
): Promise<{ id: string; version: number }> {
  const http = () => request(app.getHttpServer());
  const as = (key: string) => ({ Authorization: `Bearer ${key}` });
  const created = await http().post('/scripts').set(as(keys.manager)).send(createScriptBody(script));
  if (created.status !== 201) throw new Error(`CreateScript: ${created.status} ${JSON.stringify(created.body)}`);
  const id = created.body.id as string;
  const dubbed = await http().post(`/scripts/${id}/dubbing/tts`).set(as(keys.manager)).send({});
  if (dubbed.status !== 200) throw new Error(`SynthesizeScriptDubbing: ${dubbed.status}`);
  const submitted = await http().post(`/scripts/${id}/submit`).set(as(keys.manager)).send({});
  if (submitted.status >= 300) throw new Error(`SubmitScript: ${submitted.status} ${JSON.stringify(submitted.body)}`);
  const version = (submitted.body.version ?? submitted.body.current?.version) as number;
  const approved = await http().post(`/scripts/${id}/versions/${version}/approve`).set(as(keys.supervisor)).send({});
  if (approved.status >= 300) throw new Error(`ApproveScript: ${approved.status} ${JSON.stringify(approved.body)}`);
  return { id, version };
}
