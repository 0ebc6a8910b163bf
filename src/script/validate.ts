/**
 * Script validation on save (保存草稿) and on submission (提交审核), seed-spec §1.3–1.12 and §9. Every problem is
 * reported, each naming where it is (`path`, and `flowId` / `nodeId` / `intentId` / `kbEntryId` when it belongs to
 * one) and which `field`.
 *
 * Three kinds of rule:
 * - `structure` — limits, types, references, regexes, variable names: always refused, a draft included;
 * - `completeness` — what makes a flow 未完成 (no entry, a node without utterances or branches, a lit branch without
 *   an edge, an unreachable node): a draft may be unfinished, submission is refused;
 * - `content` — the review standards of §9 (forbidden topics, links, variable-only utterances, industry rules): a
 *   warning on save so the author sees it early, refused on submission.
 * Soft limits (an utterance over 150 characters, C3; an example over 30) are warnings at both stages.
 *
 * Node only (RE2, through ./regex).
 */
import { placeholdersIn } from './graph';
import {
  EXAMPLE_UTTERANCE_WARN,
  EXAMPLES_PER_ITEM_MAX,
  FLOW_NAME_MAX,
  INTENT_BRANCH_TYPES,
  INTENT_NAME_MAX,
  JUMP_NODE_UTTERANCES_MAX,
  KB_ANSWERS_MAX,
  KB_ENTRY_NAME_MAX,
  KB_FLOW_NAME_MAX,
  KEYWORDS_PER_ITEM_MAX,
  MAIN_JUMP_ACTION_TYPES,
  NODE_NAME_MAX,
  NORMAL_NODE_UTTERANCES_MAX,
  NORMAL_NODE_UTTERANCES_MIN,
  POST_ANSWER_ACTION_TYPES,
  RESERVED_VARIABLE_NAMES,
  SCRIPT_NAME_MAX,
  SCRIPT_REMARKS_MAX,
  STEP_MODULE_STEPS_MAX,
  TAG_MAX,
  TAGS_PER_NODE_MAX,
  UTTERANCE_MAX,
  UTTERANCE_WARN,
  VARIABLE_NAME_MAX,
  VARIABLE_NAME_PATTERN,
  VARIABLE_VALUE_MAX,
  BranchType,
  type FlowGraph,
  type ModuleAction,
  type PostAnswerAction,
  type SceneClass,
  type Script,
  type Utterance,
} from './model';
import { checkKeywordPattern } from './regex';

export type ProblemRule = 'structure' | 'completeness' | 'content';

export interface ScriptProblem {
  /** Where the object with the problem sits in the script, e.g. `flows[0].nodes[2]`; `''` for the script itself. */
  path: string;
  /** The field of that object, e.g. `utterances[1].text`, `branches[0]`, `keywords[3]`. */
  field: string;
  reason: string;
  rule: ProblemRule;
  flowId?: string;
  nodeId?: string;
  intentId?: string;
  kbEntryId?: string;
  value?: string;
}

export interface FlowStatus {
  scope: 'main' | 'kb';
  flowId: string;
  /** false = 未完成. */
  complete: boolean;
}

export interface ValidationReport {
  /** No blocking problem at this stage. */
  ok: boolean;
  /** Blocking at this stage. */
  problems: ScriptProblem[];
  warnings: ScriptProblem[];
  flows: FlowStatus[];
}

/**
 * The review word lists (DECISION N4: a data-driven rule set). `topics` apply to every scene; `marketingOnly`
 * (the industry entries of the §9 list and the ban on invitations to register) only to marketing scenes.
 */
export interface ContentRules {
  topics: string[];
  marketingOnly: string[];
  /** Industries whose outbound calls may only be voice verification codes (§9). */
  verificationCodeOnlyIndustries: string[];
  /** Scenes refused at qualification (§4). */
  bannedScenes: string[];
}

/** §9's forbidden list, split per DECISION N4 (the last five groups are the industry entries). */
export const DEFAULT_CONTENT_RULES: ContentRules = Object.freeze({
  // prettier-ignore
  topics: [
    '色情', '赌博', '毒品', '党政', '维权', '众筹', '慈善募捐', '宗教', '迷信', '股票', '移民', '面试招聘', '博彩',
    '贷款', '催款', '信用卡提额', '投资理财', '中奖', '抽奖', '一元夺宝', '一元秒杀', 'A货', '整形', '烟酒', '交友',
    '暴力', '恐吓', '皮草', '返利', '代开发票', '代理注册', '代办证件', '加群', '加QQ', '加微信', '贩卖个人信息',
    '运营商策反', '流量营销', '互联网金融',
  ],
  // prettier-ignore
  marketingOnly: [
    '保险', '房地产', '教育', '培训', '游戏', '美容', '医疗', '会所', '酒吧', '足浴', '助考', '商标注册', '装修',
    '建材', '家私', '会展', '车展', '房展', '邀请注册', '注册会员', '成为会员',
  ],
  verificationCodeOnlyIndustries: ['金融', '地产', '房地产', '留学', '招聘'],
  bannedScenes: ['贷款营销', '游戏营销'],
});

export interface ValidateOptions {
  stage: 'save' | 'submit';
  rules?: ContentRules;
  /**
   * Refuse phone numbers in robot utterances. Off by default: §9 forbids links (in variable values) and
   * contact-harvesting (加QQ或者加微信), not a phone number — a service hotline is normal in a notification.
   */
  refusePhoneNumbers?: boolean;
}

/** http(s) URLs, www. hosts and bare domains under common TLDs. */
export const LINK_PATTERN =
  /(?:https?:\/\/|www\.)\S+|\b[a-z0-9-]+(?:\.[a-z0-9-]+)*\.(?:com|cn|net|org|io|cc|top|xyz|info|vip|me|co|link|site|shop)\b/i;
/** Chinese mobile, landline and 400/800 numbers. */
export const PHONE_PATTERN = /(?<!\d)(?:1[3-9]\d{9}|0\d{2,3}-?\d{7,8}|[48]00-?\d{3}-?\d{4})(?!\d)/;
/** Greetings that do not count as the 文字说明 a variable needs around it (§9: "你好: ${content}" is refused). */
const GREETINGS = /你好|您好|喂|亲|hi|hello/giu;

const len = (s: string): number => Array.from(s).length;

/** Validate a whole script; see the header for what blocks at which stage. */
export function validateScript(script: Script, options: ValidateOptions): ValidationReport {
  const rules = options.rules ?? DEFAULT_CONTENT_RULES;
  const sceneClass: SceneClass = script.sceneClass ?? 'marketing';
  const all: ScriptProblem[] = [];
  const soft: ScriptProblem[] = [];
  const add = (p: ScriptProblem): void => void all.push(p);

  // --- The script itself (§1.2) ---
  requiredText(add, '', 'name', script.name, SCRIPT_NAME_MAX);
  requiredText(add, '', 'industry', script.industry, 50);
  requiredText(add, '', 'scene', script.scene, 50);
  if (script.remarks !== undefined && len(script.remarks) > SCRIPT_REMARKS_MAX) {
    add({ path: '', field: 'remarks', rule: 'structure', reason: `at most ${SCRIPT_REMARKS_MAX} characters` });
  }
  if (script.flows.length === 0) {
    add({ path: '', field: 'flows', rule: 'completeness', reason: 'a script needs at least one main flow' });
  }
  for (const [kind, items] of [
    ['flows', script.flows],
    ['kbFlows', script.kbFlows],
    ['intents', script.intents],
    ['kbEntries', script.kbEntries],
  ] as const) {
    duplicateIds(add, '', kind, items);
  }
  const mainFlowIds = new Set(script.flows.map((f) => f.id));
  const kbFlowIds = new Set(script.kbFlows.map((f) => f.id));
  const intentIds = new Set(script.intents.map((i) => i.id));

  // --- Text checks shared by every robot utterance ---
  const checkUtterance = (path: string, field: string, u: Utterance, ids: Ids): void => {
    const at = { path, ...ids };
    if (!u.id) add({ ...at, field: `${field}.id`, rule: 'structure', reason: 'an utterance needs an id' });
    if (u.text.trim() === '') {
      add({ ...at, field: `${field}.text`, rule: 'completeness', reason: 'an utterance must not be empty' });
      return;
    }
    const n = len(u.text);
    if (n > UTTERANCE_MAX) {
      add({ ...at, field: `${field}.text`, rule: 'structure', reason: `at most ${UTTERANCE_MAX} characters (${n})` });
    } else if (n > UTTERANCE_WARN) {
      soft.push({
        ...at,
        field: `${field}.text`,
        rule: 'structure',
        reason: `longer than ${UTTERANCE_WARN} characters (${n}); keep prompts short`,
      });
    }
    const unclosed = u.text.replace(/\$\{[^}]*\}/g, '');
    if (unclosed.includes('${')) {
      add({ ...at, field: `${field}.text`, rule: 'structure', reason: 'a ${ placeholder is not closed with }' });
    }
    for (const name of placeholdersIn(u.text)) {
      const why = variableNameProblem(name);
      if (why) add({ ...at, field: `${field}.text`, rule: 'structure', value: name, reason: why });
    }
    if (placeholdersIn(u.text).length > 0) {
      const rest = u.text
        .replace(/\$\{[^}]*\}/g, '')
        .replace(GREETINGS, '')
        .replace(/[\s\p{P}\p{S}]/gu, '');
      if (len(rest) < 2) {
        add({
          ...at,
          field: `${field}.text`,
          rule: 'content',
          reason: 'an utterance may not be only variables: describe them in words (变量前后需加文字说明, §9)',
        });
      }
    }
    const lower = u.text.toLowerCase();
    const words = sceneClass === 'marketing' ? [...rules.topics, ...rules.marketingOnly] : rules.topics;
    for (const word of words) {
      if (lower.includes(word.toLowerCase())) {
        add({ ...at, field: `${field}.text`, rule: 'content', value: word, reason: `forbidden content: ${word} (§9)` });
      }
    }
    if (LINK_PATTERN.test(u.text)) {
      add({ ...at, field: `${field}.text`, rule: 'content', reason: 'links are not allowed (§9)' });
    }
    if (options.refusePhoneNumbers && PHONE_PATTERN.test(u.text)) {
      add({ ...at, field: `${field}.text`, rule: 'content', reason: 'phone numbers are not allowed in this script' });
    }
  };

  // --- Industry and scene rules (§9, §4; N4) ---
  if (sceneClass === 'marketing') {
    for (const industry of rules.verificationCodeOnlyIndustries) {
      if (script.industry.includes(industry)) {
        add({
          path: '',
          field: 'industry',
          rule: 'content',
          value: script.industry,
          reason: `${industry}: only voice verification codes may be called in this industry (§9)`,
        });
      }
    }
  }
  for (const scene of rules.bannedScenes) {
    if (script.scene.includes(scene)) {
      add({ path: '', field: 'scene', rule: 'content', value: script.scene, reason: `scene refused: ${scene} (§4)` });
    }
  }

  // --- Flows (main and KB) ---
  const flows: FlowStatus[] = [];
  const checkFlow = (flow: FlowGraph, scope: 'main' | 'kb', path: string): void => {
    const before = all.filter((p) => p.rule !== 'content').length;
    const flowId = flow.id;
    const nameMax = scope === 'main' ? FLOW_NAME_MAX : KB_FLOW_NAME_MAX;
    requiredText(add, path, 'name', flow.name, nameMax, { flowId });
    duplicateIds(add, path, 'nodes', flow.nodes, { flowId });
    const nodeIndex = new Map(flow.nodes.map((n) => [n.id, n]));
    if (!flow.entryNodeId || !nodeIndex.has(flow.entryNodeId)) {
      add({
        path,
        flowId,
        field: 'entryNodeId',
        rule: 'completeness',
        value: flow.entryNodeId,
        reason: flow.entryNodeId ? `the entry points at a missing node ${flow.entryNodeId}` : 'the flow has no entry',
      });
    }

    flow.nodes.forEach((node, ni) => {
      const np = `${path}.nodes[${ni}]`;
      const ids = { flowId, nodeId: node.id };
      requiredText(add, np, 'name', node.name, NODE_NAME_MAX, ids);
      checkTags(add, np, node.tags, ids);
      const max = node.kind === 'normal' ? NORMAL_NODE_UTTERANCES_MAX : JUMP_NODE_UTTERANCES_MAX;
      if (node.kind === 'normal' && node.utterances.length < NORMAL_NODE_UTTERANCES_MIN) {
        add({
          path: np,
          ...ids,
          field: 'utterances',
          rule: 'completeness',
          reason: 'a normal node needs an utterance',
        });
      }
      if (node.utterances.length > max) {
        add({ path: np, ...ids, field: 'utterances', rule: 'structure', reason: `at most ${max} utterances` });
      }
      node.utterances.forEach((u, ui) => checkUtterance(np, `utterances[${ui}]`, u, ids));

      if (node.kind === 'jump') {
        const allowed = scope === 'main' ? MAIN_JUMP_ACTION_TYPES : POST_ANSWER_ACTION_TYPES;
        checkAction(add, np, 'action', node.action, allowed, mainFlowIds, kbFlowIds, ids);
        return;
      }

      if (node.branches.length === 0) {
        add({ path: np, ...ids, field: 'branches', rule: 'completeness', reason: 'light at least one reply branch' });
      }
      duplicateIds(add, np, 'branches', node.branches, ids);
      const hasAny = node.branches.some((b) => b.type === 'ANY');
      const seen = new Set<string>();
      node.branches.forEach((b, bi) => {
        const field = `branches[${bi}]`;
        if (!Object.values(BranchType).includes(b.type)) {
          add({ path: np, ...ids, field: `${field}.type`, rule: 'structure', value: b.type, reason: 'unknown type' });
          return;
        }
        if (hasAny && b.type !== 'ANY') {
          add({
            path: np,
            ...ids,
            field: `${field}.type`,
            rule: 'structure',
            value: b.type,
            reason: '任何回复 is exclusive of the other six branch types',
          });
        }
        if (b.type !== 'CUSTOM') {
          if (seen.has(b.type)) {
            add({ path: np, ...ids, field: `${field}.type`, rule: 'structure', value: b.type, reason: 'lit twice' });
          }
          seen.add(b.type);
        }
        if (b.name.trim() === '' || len(b.name) > NODE_NAME_MAX) {
          add({
            path: np,
            ...ids,
            field: `${field}.name`,
            rule: 'structure',
            reason: `a branch name is 1–${NODE_NAME_MAX} characters`,
          });
        }
        if (INTENT_BRANCH_TYPES.includes(b.type) && b.intentIds.length === 0) {
          add({
            path: np,
            ...ids,
            field: `${field}.intentIds`,
            rule: 'completeness',
            reason: 'choose at least one intent',
          });
        }
        b.intentIds.forEach((intentId, ii) => {
          if (!intentIds.has(intentId)) {
            add({
              path: np,
              ...ids,
              field: `${field}.intentIds[${ii}]`,
              rule: 'structure',
              value: intentId,
              reason: 'no such intent in the intent library',
            });
          }
        });
        const edges = flow.edges.filter((e) => e.fromNodeId === node.id && e.branchId === b.id);
        if (edges.length === 0) {
          add({
            path: np,
            ...ids,
            field: field,
            rule: 'completeness',
            value: b.name,
            reason: 'the lit branch is not connected to a node',
          });
        } else if (edges.length > 1) {
          add({ path: np, ...ids, field, rule: 'structure', reason: 'a branch has exactly one edge' });
        }
      });
    });

    flow.edges.forEach((e, ei) => {
      const ep = `${path}.edges[${ei}]`;
      const from = nodeIndex.get(e.fromNodeId);
      const ids = { flowId, nodeId: e.fromNodeId };
      if (!from) {
        add({ path: ep, ...ids, field: 'fromNodeId', rule: 'structure', value: e.fromNodeId, reason: 'no such node' });
      } else if (from.kind !== 'normal' || !from.branches.some((b) => b.id === e.branchId)) {
        add({
          path: ep,
          ...ids,
          field: 'branchId',
          rule: 'structure',
          value: e.branchId,
          reason: 'the edge starts at no lit branch of its node',
        });
      }
      if (!nodeIndex.has(e.toNodeId)) {
        add({
          path: ep,
          ...ids,
          field: 'toNodeId',
          rule: 'structure',
          value: e.toNodeId,
          reason: 'the edge leads to a node that is not in this flow',
        });
      }
    });

    // Reachability from the entry along the edges.
    if (flow.entryNodeId && nodeIndex.has(flow.entryNodeId)) {
      const reached = new Set<string>([flow.entryNodeId]);
      const queue = [flow.entryNodeId];
      while (queue.length > 0) {
        const id = queue.shift()!;
        for (const e of flow.edges) {
          if (e.fromNodeId === id && nodeIndex.has(e.toNodeId) && !reached.has(e.toNodeId)) {
            reached.add(e.toNodeId);
            queue.push(e.toNodeId);
          }
        }
      }
      flow.nodes.forEach((node, ni) => {
        if (!reached.has(node.id)) {
          add({
            path: `${path}.nodes[${ni}]`,
            flowId,
            nodeId: node.id,
            field: 'id',
            rule: 'completeness',
            reason: 'the node cannot be reached from the flow entry',
          });
        }
      });
    }
    const complete = all.filter((p) => p.rule !== 'content').length === before;
    flows.push({ scope, flowId, complete });
  };
  script.flows.forEach((f, i) => checkFlow(f, 'main', `flows[${i}]`));
  script.kbFlows.forEach((f, i) => {
    checkFlow(f, 'kb', `kbFlows[${i}]`);
    if (!script.kbEntries.some((e) => e.answer.mode === 'flow' && e.answer.kbFlowId === f.id)) {
      soft.push({
        path: `kbFlows[${i}]`,
        flowId: f.id,
        field: 'id',
        rule: 'completeness',
        reason: 'no KB entry answers with this KB flow',
      });
    }
  });

  // --- Intents (§1.5) ---
  script.intents.forEach((intent, i) => {
    const path = `intents[${i}]`;
    const ids = { intentId: intent.id };
    requiredText(add, path, 'name', intent.name, INTENT_NAME_MAX, ids);
    checkPhrases(add, soft, path, intent, ids);
  });

  // --- Knowledge base (§1.8) ---
  script.kbEntries.forEach((entry, i) => {
    const path = `kbEntries[${i}]`;
    const ids = { kbEntryId: entry.id };
    requiredText(add, path, 'name', entry.name, KB_ENTRY_NAME_MAX, ids);
    if (entry.type !== 'business' && entry.type !== 'general') {
      add({ path, ...ids, field: 'type', rule: 'structure', value: String(entry.type), reason: 'business or general' });
    }
    checkPhrases(add, soft, path, entry, ids);
    checkTags(add, path, entry.tags ?? [], ids);
    const answer = entry.answer;
    if (answer.mode === 'flow') {
      if (!kbFlowIds.has(answer.kbFlowId)) {
        add({
          path,
          ...ids,
          field: 'answer.kbFlowId',
          rule: 'structure',
          value: answer.kbFlowId,
          reason: 'no such KB flow',
        });
      }
      return;
    }
    if (answer.mode !== 'single') {
      add({ path, ...ids, field: 'answer.mode', rule: 'structure', reason: 'single or flow' });
      return;
    }
    if (answer.utterances.length === 0) {
      add({ path, ...ids, field: 'answer.utterances', rule: 'completeness', reason: 'an answer needs an utterance' });
    }
    if (answer.utterances.length > KB_ANSWERS_MAX) {
      add({ path, ...ids, field: 'answer.utterances', rule: 'structure', reason: `at most ${KB_ANSWERS_MAX} answers` });
    }
    answer.utterances.forEach((u, ui) => checkUtterance(path, `answer.utterances[${ui}]`, u, ids));
    checkAction(add, path, 'answer.action', answer.action, POST_ANSWER_ACTION_TYPES, mainFlowIds, kbFlowIds, ids);
  });

  // --- Global configuration (§1.10) ---
  const g = script.globalConfig;
  const gp = 'globalConfig';
  positiveInt(add, gp, 'listenTimeoutSeconds', g.listenTimeoutSeconds, 60);
  for (const key of ['noReply', 'unrecognized'] as const) {
    const m = g[key];
    if (m.enabled && m.steps.length === 0) {
      add({ path: gp, field: `${key}.steps`, rule: 'structure', reason: 'an enabled module needs a step' });
    }
    if (m.steps.length > STEP_MODULE_STEPS_MAX) {
      add({ path: gp, field: `${key}.steps`, rule: 'structure', reason: `at most ${STEP_MODULE_STEPS_MAX} steps` });
    }
    m.steps.forEach((step, si) => {
      checkUtterance(gp, `${key}.steps[${si}].utterance`, step.utterance, {});
      checkModuleAction(add, gp, `${key}.steps[${si}].action`, step.action);
    });
  }
  for (const key of ['cumulativeNoReply', 'repeatedQuestion', 'tooManyQuestions', 'cumulativeUnrecognized'] as const) {
    const m = g[key];
    positiveInt(add, gp, `${key}.threshold`, m.threshold, 1000);
    if (m.utterance) checkUtterance(gp, `${key}.utterance`, m.utterance, {});
    checkModuleAction(add, gp, `${key}.action`, m.action);
  }
  positiveInt(add, gp, 'repeat.threshold', g.repeat.threshold, 1000);
  for (const key of ['repeat', 'interrupt'] as const) {
    const m = g[key];
    if (m.utterance) checkUtterance(gp, `${key}.utterance`, m.utterance, {});
    if (m.enabled && m.intentIds.length === 0) {
      add({ path: gp, field: `${key}.intentIds`, rule: 'structure', reason: 'an enabled module needs an intent' });
    }
    m.intentIds.forEach((id, ii) => {
      if (!intentIds.has(id)) {
        add({ path: gp, field: `${key}.intentIds[${ii}]`, rule: 'structure', value: id, reason: 'no such intent' });
      }
    });
  }
  positiveInt(add, gp, 'maxDuration.seconds', g.maxDuration.seconds, 24 * 3600);
  if (g.maxDuration.utterance) checkUtterance(gp, 'maxDuration.utterance', g.maxDuration.utterance, {});

  const blocking = (p: ScriptProblem): boolean => options.stage === 'submit' || p.rule === 'structure';
  const problems = all.filter(blocking);
  const warnings = [...all.filter((p) => !blocking(p)), ...soft];
  return { ok: problems.length === 0, problems, warnings, flows };
}

type Ids = Pick<ScriptProblem, 'flowId' | 'nodeId' | 'intentId' | 'kbEntryId'>;
type Add = (p: ScriptProblem) => void;

/** Why a variable name is refused (DECISION C4 and §9's reserved names), or undefined. */
export function variableNameProblem(name: string): string | undefined {
  if (!VARIABLE_NAME_PATTERN.test(name)) {
    return `variable names are letters, digits and _, starting with an English letter: \${${name}}`;
  }
  if (name.length > VARIABLE_NAME_MAX) return `a variable name is at most ${VARIABLE_NAME_MAX} characters`;
  if (RESERVED_VARIABLE_NAMES.includes(name.toLowerCase())) {
    return `${name} is a reserved name (§9: not email, mobile, id, nick, site); describe the attribute instead`;
  }
  return undefined;
}

/** Every variable the script's utterances use, for checking a call list's columns against it. */
export function variablesUsed(script: Script): string[] {
  const texts: string[] = [];
  for (const flow of [...script.flows, ...script.kbFlows]) {
    for (const node of flow.nodes) texts.push(...node.utterances.map((u) => u.text));
  }
  for (const e of script.kbEntries)
    if (e.answer.mode === 'single') texts.push(...e.answer.utterances.map((u) => u.text));
  return [...new Set(texts.flatMap(placeholdersIn))];
}

/**
 * A contact's variable values (§9, §11 #24): fewer than 150 characters and no links. `field` is the variable name,
 * so the list import can name the row and the column.
 */
export function validateVariableValues(
  values: Record<string, string>,
): { field: string; value: string; reason: string }[] {
  const out: { field: string; value: string; reason: string }[] = [];
  for (const [name, value] of Object.entries(values)) {
    const bad = variableNameProblem(name);
    if (bad) out.push({ field: name, value, reason: bad });
    if (len(value) > VARIABLE_VALUE_MAX) {
      out.push({ field: name, value, reason: `a variable value is fewer than ${VARIABLE_VALUE_MAX + 1} characters` });
    }
    if (LINK_PATTERN.test(value))
      out.push({ field: name, value, reason: 'links are not allowed in variable values (§9)' });
  }
  return out;
}

function requiredText(add: Add, path: string, field: string, value: string, max: number, ids: Ids = {}): void {
  if (typeof value !== 'string' || value.trim() === '') {
    add({ path, ...ids, field, rule: 'structure', reason: 'required' });
  } else if (len(value) > max) {
    add({ path, ...ids, field, rule: 'structure', value, reason: `at most ${max} characters` });
  }
}

function duplicateIds(add: Add, path: string, field: string, items: readonly { id: string }[], ids: Ids = {}): void {
  const seen = new Set<string>();
  items.forEach((item, i) => {
    if (!item.id) add({ path, ...ids, field: `${field}[${i}].id`, rule: 'structure', reason: 'an id is required' });
    else if (seen.has(item.id)) {
      add({ path, ...ids, field: `${field}[${i}].id`, rule: 'structure', value: item.id, reason: 'duplicate id' });
    }
    seen.add(item.id);
  });
}

function checkTags(add: Add, path: string, tags: string[], ids: Ids): void {
  if (tags.length > TAGS_PER_NODE_MAX) {
    add({ path, ...ids, field: 'tags', rule: 'structure', reason: `at most ${TAGS_PER_NODE_MAX} tags` });
  }
  tags.forEach((t, i) => {
    if (t.trim() === '' || len(t) > TAG_MAX) {
      add({
        path,
        ...ids,
        field: `tags[${i}]`,
        rule: 'structure',
        value: t,
        reason: `a tag is 1–${TAG_MAX} characters`,
      });
    }
  });
}

function checkPhrases(
  add: Add,
  soft: ScriptProblem[],
  path: string,
  item: { keywords: string[]; examples: string[]; dtmfKeys?: string[] },
  ids: Ids,
): void {
  if (item.keywords.length > KEYWORDS_PER_ITEM_MAX) {
    add({ path, ...ids, field: 'keywords', rule: 'structure', reason: `at most ${KEYWORDS_PER_ITEM_MAX} keywords` });
  }
  item.keywords.forEach((pattern, i) => {
    const check = checkKeywordPattern(pattern);
    if (!check.ok)
      add({ path, ...ids, field: `keywords[${i}]`, rule: 'structure', value: pattern, reason: check.reason });
  });
  if (item.examples.length > EXAMPLES_PER_ITEM_MAX) {
    add({ path, ...ids, field: 'examples', rule: 'structure', reason: `at most ${EXAMPLES_PER_ITEM_MAX} examples` });
  }
  item.examples.forEach((ex, i) => {
    if (len(ex) > EXAMPLE_UTTERANCE_WARN) {
      soft.push({
        path,
        ...ids,
        field: `examples[${i}]`,
        rule: 'structure',
        value: ex,
        reason: `examples are best kept to ${EXAMPLE_UTTERANCE_WARN} characters`,
      });
    }
  });
  (item.dtmfKeys ?? []).forEach((k, i) => {
    if (!/^[0-9*#]$/.test(k)) {
      add({ path, ...ids, field: `dtmfKeys[${i}]`, rule: 'structure', value: k, reason: 'a key is one of 0-9 * #' });
    }
  });
  if (item.keywords.length === 0 && item.examples.length === 0 && (item.dtmfKeys ?? []).length === 0) {
    soft.push({
      path,
      ...ids,
      field: 'keywords',
      rule: 'completeness',
      reason: 'no keyword, example or key: never matched',
    });
  }
}

function checkAction(
  add: Add,
  path: string,
  field: string,
  action: PostAnswerAction,
  allowed: readonly string[],
  mainFlowIds: Set<string>,
  kbFlowIds: Set<string>,
  ids: Ids,
): void {
  if (!allowed.includes(action.type)) {
    add({
      path,
      ...ids,
      field: `${field}.type`,
      rule: 'structure',
      value: action.type,
      reason: `not an action here; allowed: ${allowed.join(', ')}`,
    });
    return;
  }
  if (action.type === 'transfer' && !action.skillGroupId) {
    add({ path, ...ids, field: `${field}.skillGroupId`, rule: 'structure', reason: 'choose a skill group' });
  }
  if (action.type === 'jumpToFlow' && !mainFlowIds.has(action.flowId)) {
    add({
      path,
      ...ids,
      field: `${field}.flowId`,
      rule: 'structure',
      value: action.flowId,
      reason: kbFlowIds.has(action.flowId)
        ? 'KB flows do not chain: a jump goes to a main flow'
        : 'the jump leads to a missing main flow',
    });
  }
}

function checkModuleAction(add: Add, path: string, field: string, action: ModuleAction): void {
  if (!['wait', 'hangup', 'transfer'].includes(action.type)) {
    add({ path, field: `${field}.type`, rule: 'structure', reason: 'wait, hangup or transfer' });
  } else if (action.type === 'transfer' && !action.skillGroupId) {
    add({ path, field: `${field}.skillGroupId`, rule: 'structure', reason: 'choose a skill group' });
  }
}

function positiveInt(add: Add, path: string, field: string, value: number, max: number): void {
  if (!Number.isInteger(value) || value < 1 || value > max) {
    add({ path, field, rule: 'structure', value: String(value), reason: `a whole number from 1 to ${max}` });
  }
}
