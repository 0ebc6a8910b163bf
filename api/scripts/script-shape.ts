/**
 * The JSON shape of a script's content (src/script/model.ts) as a zod schema: it checks that a request body IS a
 * script — the right objects, arrays, strings and discriminants, no unknown keys — before src/script/validate.ts
 * judges it (limits, references, regexes, variables, content), which names the node and the field of each problem.
 * Limits here are only generous size caps against abuse; the seed's limits are validate.ts's business.
 *
 * The same schema is the OpenAPI description of the `script` property ({@link SCRIPT_CONTENT_JSON_SCHEMA}).
 */
import { z } from 'zod/v4';
import type { FieldProblem } from '../../src/errors';
import { BranchType, type Script } from '../../src/script/model';

const id = z.string().min(1).max(100);
const name = z.string().max(200);
const text = z.string().max(5000);
const strings = (max: number) => z.array(z.string().max(1000)).max(max);

const utterance = z.strictObject({ id, text });
const branch = z.strictObject({
  id,
  type: z.enum(Object.values(BranchType) as [BranchType, ...BranchType[]]),
  name,
  intentIds: strings(100),
});
const edge = z.strictObject({ fromNodeId: z.string(), branchId: z.string(), toNodeId: z.string() });

const postAnswerAction = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('wait') }),
  z.strictObject({ type: z.literal('transfer'), skillGroupId: z.string().max(100) }),
  z.strictObject({ type: z.literal('hangup') }),
  z.strictObject({ type: z.literal('returnToNode') }),
  z.strictObject({ type: z.literal('returnToFlowEntry') }),
  z.strictObject({ type: z.literal('jumpToFlow'), flowId: z.string().max(100) }),
]);

const normalNode = z.strictObject({
  kind: z.literal('normal'),
  id,
  name,
  tags: strings(100),
  utterances: z.array(utterance).max(20),
  allowInterrupt: z.boolean(),
  branches: z.array(branch).max(50),
});
const jumpNode = z.strictObject({
  kind: z.literal('jump'),
  id,
  name,
  tags: strings(100),
  utterances: z.array(utterance).max(20),
  action: postAnswerAction,
});
const flow = z.strictObject({
  id,
  name,
  entryNodeId: z.string().optional(),
  nodes: z.array(z.discriminatedUnion('kind', [normalNode, jumpNode])).max(300),
  edges: z.array(edge).max(2000),
});

const intent = z.strictObject({
  id,
  name,
  keywords: strings(500),
  examples: strings(2000),
  dtmfKeys: strings(12).optional(),
  preset: z.boolean().optional(),
});

const kbEntry = z.strictObject({
  id,
  name,
  type: z.enum(['business', 'general']),
  keywords: strings(500),
  examples: strings(2000),
  dtmfKeys: strings(12).optional(),
  answer: z.discriminatedUnion('mode', [
    z.strictObject({
      mode: z.literal('single'),
      utterances: z.array(utterance).max(20),
      action: postAnswerAction,
      allowInterrupt: z.boolean().optional(),
    }),
    z.strictObject({ mode: z.literal('flow'), kbFlowId: z.string().max(100) }),
  ]),
  tags: strings(100).optional(),
  preset: z.boolean().optional(),
});

const moduleAction = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('wait') }),
  z.strictObject({ type: z.literal('hangup') }),
  z.strictObject({ type: z.literal('transfer'), skillGroupId: z.string().max(100) }),
]);
const stepModule = z.strictObject({
  enabled: z.boolean(),
  steps: z.array(z.strictObject({ utterance, action: moduleAction })).max(10),
});
const counterModule = z.strictObject({
  enabled: z.boolean(),
  threshold: z.number(),
  utterance: utterance.optional(),
  action: moduleAction,
});

const globalConfig = z.strictObject({
  listenTimeoutSeconds: z.number(),
  noReply: stepModule,
  unrecognized: stepModule,
  repeat: z.strictObject({
    enabled: z.boolean(),
    threshold: z.number(),
    intentIds: strings(50),
    utterance: utterance.optional(),
  }),
  interrupt: z.strictObject({ enabled: z.boolean(), intentIds: strings(50), utterance: utterance.optional() }),
  cumulativeNoReply: counterModule,
  repeatedQuestion: counterModule,
  tooManyQuestions: counterModule,
  cumulativeUnrecognized: counterModule,
  maxDuration: z.strictObject({ enabled: z.boolean(), seconds: z.number(), utterance: utterance.optional() }),
});

/** The editable content of a script: everything but its id and basic information (those are the head's). */
export const scriptContentSchema = z.strictObject({
  flows: z.array(flow).max(50),
  intents: z.array(intent).max(500),
  kbEntries: z.array(kbEntry).max(500),
  kbFlows: z.array(flow).max(50),
  globalConfig,
});

export type ScriptContent = Pick<Script, 'flows' | 'intents' | 'kbEntries' | 'kbFlows' | 'globalConfig'>;

/** `a.b[2].c` from a zod path. */
function dotted(prefix: string, path: readonly PropertyKey[]): string {
  let out = prefix;
  for (const p of path) out += typeof p === 'number' ? `[${p}]` : out ? `.${String(p)}` : String(p);
  return out;
}

/** Parse a request's script content, or the problems naming each bad field (`script.flows[0].nodes[1].kind`). */
export function parseScriptContent(
  value: unknown,
  prefix = 'script',
): { ok: true; content: ScriptContent } | { ok: false; problems: FieldProblem[] } {
  const r = scriptContentSchema.safeParse(value);
  if (r.success) return { ok: true, content: r.data };
  return {
    ok: false,
    problems: r.error.issues.slice(0, 50).map((i) => ({
      field: i.code === 'unrecognized_keys' ? dotted(prefix, [...i.path, i.keys[0] ?? '']) : dotted(prefix, i.path),
      reason: i.code === 'unrecognized_keys' ? `unknown field(s): ${i.keys.join(', ')}` : i.message,
    })),
  };
}

/** OpenAPI 3.0 cannot say `const`: each becomes a one-value enum; the draft-07 `$schema` marker goes. */
function toOpenApi(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(toOpenApi);
  if (!node || typeof node !== 'object') return node;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(node as Record<string, unknown>)) {
    if (k === '$schema') continue;
    if (k === 'const') out.enum = [v];
    else out[k] = toOpenApi(v);
  }
  return out;
}

/** The script content's JSON schema, for Swagger. */
export const SCRIPT_CONTENT_JSON_SCHEMA = toOpenApi(
  z.toJSONSchema(scriptContentSchema, { target: 'draft-7', unrepresentable: 'any' }),
) as Record<string, unknown>;
