/**
 * Pure look-ups over a script shared by the validator, the matcher and the dialog engine: find flows and nodes,
 * follow edges, read and fill `${variable}` placeholders, classify a DTMF key. No regular expressions built from user
 * input live here (those need RE2, which cannot load in the workflow sandbox).
 */
import {
  type BranchType,
  type FlowGraph,
  type MatchResult,
  type NodeRef,
  type NormalNode,
  type Script,
  type ScriptNode,
} from './model';

/** The flow a ref points into, or undefined. */
export function findFlow(script: Script, scope: NodeRef['scope'], flowId: string): FlowGraph | undefined {
  return (scope === 'main' ? script.flows : script.kbFlows).find((f) => f.id === flowId);
}

export function findNode(script: Script, ref: NodeRef): ScriptNode | undefined {
  return findFlow(script, ref.scope, ref.flowId)?.nodes.find((n) => n.id === ref.nodeId);
}

/** The entry of a flow, or undefined while it has none (未完成). */
export function entryRef(script: Script, scope: NodeRef['scope'], flowId: string): NodeRef | undefined {
  const flow = findFlow(script, scope, flowId);
  if (!flow?.entryNodeId || !flow.nodes.some((n) => n.id === flow.entryNodeId)) return undefined;
  return { scope, flowId, nodeId: flow.entryNodeId };
}

/** The node a lit branch leads to, or undefined if the branch has no edge (validation refuses that on submit). */
export function followBranch(script: Script, from: NodeRef, branchId: string): NodeRef | undefined {
  const flow = findFlow(script, from.scope, from.flowId);
  const edge = flow?.edges.find((e) => e.fromNodeId === from.nodeId && e.branchId === branchId);
  if (!edge || !flow?.nodes.some((n) => n.id === edge.toNodeId)) return undefined;
  return { scope: from.scope, flowId: from.flowId, nodeId: edge.toNodeId };
}

/** The node's lit branch of a type (for the six types that occur at most once). */
export function branchOfType(node: NormalNode, type: BranchType) {
  return node.branches.find((b) => b.type === type);
}

export const refKey = (ref: NodeRef): string => `${ref.scope}:${ref.flowId}/${ref.nodeId}`;

export const sameRef = (a: NodeRef | null | undefined, b: NodeRef | null | undefined): boolean =>
  !!a && !!b && a.scope === b.scope && a.flowId === b.flowId && a.nodeId === b.nodeId;

/**
 * `${name}` placeholders. The name part is captured loosely (anything but `}`) so the validator can report a bad
 * name instead of silently not seeing it.
 */
const PLACEHOLDER = /\$\{([^}]*)\}/g;

/** The variable names used in a text, in order of appearance, with repeats. */
export function placeholdersIn(text: string): string[] {
  return [...text.matchAll(PLACEHOLDER)].map((m) => m[1] ?? '');
}

/** Fill placeholders from the contact's row; a missing variable becomes empty and is reported. */
export function fillVariables(
  text: string,
  variables: Readonly<Record<string, string>>,
): { text: string; missing: string[] } {
  const missing: string[] = [];
  const filled = text.replace(PLACEHOLDER, (_whole, name: string) => {
    const value = Object.prototype.hasOwnProperty.call(variables, name) ? variables[name] : undefined;
    if (value === undefined) {
      missing.push(name);
      return '';
    }
    return value;
  });
  return { text: filled, missing };
}

/**
 * Classify a DTMF key at a node, in the order of the seed's matching rule (§1.8): the node's intent branches, then
 * the KB (single-answer entries only inside a KB flow — KB flows do not chain), then the global repeat and interrupt
 * intents, and finally 任何回复 — a key is a reply. Keys are exact, so there is no score below 1.
 */
export function matchDtmf(script: Script, at: NodeRef, digit: string): MatchResult {
  const node = findNode(script, at);
  const intents = new Map(script.intents.map((i) => [i.id, i]));
  if (node?.kind === 'normal') {
    const any = branchOfType(node, 'ANY');
    if (any) return { kind: 'branch', branchId: any.id, branchType: 'ANY', score: 1, via: 'dtmf' };
    for (const b of node.branches) {
      const intentId = b.intentIds.find((id) => intents.get(id)?.dtmfKeys?.includes(digit));
      if (intentId) return { kind: 'branch', branchId: b.id, branchType: b.type, intentId, score: 1, via: 'dtmf' };
    }
  }
  const entry = script.kbEntries.find(
    (e) => e.dtmfKeys?.includes(digit) && !(at.scope === 'kb' && e.answer.mode === 'flow'),
  );
  if (entry) return { kind: 'kb', kbEntryId: entry.id, score: 1, via: 'dtmf' };
  const { repeat, interrupt } = script.globalConfig;
  for (const [module, cfg] of [
    ['repeat', repeat],
    ['interrupt', interrupt],
  ] as const) {
    if (!cfg.enabled) continue;
    const intentId = cfg.intentIds.find((id) => intents.get(id)?.dtmfKeys?.includes(digit));
    if (intentId) return { kind: 'global', module, intentId, score: 1, via: 'dtmf' };
  }
  return { kind: 'none', score: 0 };
}
