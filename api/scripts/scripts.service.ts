/**
 * Scripts (话术): create, edit the draft, validate, submit for review, approve or reject, versions.
 *
 * Review states (seed-spec §1.12): draft → submitted → approved | rejected (with a reason). Only a draft is edited in
 * place; editing when the latest version is submitted, approved or rejected makes a new draft (the next number),
 * edited from the latest version, so every submitted, approved or rejected version stays as it was reviewed and a
 * task that pinned an approved version keeps it. At most one draft exists at a time.
 *
 * Validation (src/script/validate.ts): on save, structure problems refuse the write (422, each naming the node and
 * the field) and the rest come back as warnings; on submission everything blocks — an unfinished flow (a dangling
 * branch, an unreachable node), forbidden content — and so does an unvoiced required utterance (./dubbing-rules.ts).
 *
 * Every write to a script (its head and its versions) is queued per script with withDocLock.
 */
import { Inject, Injectable } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import type { Repositories } from '../../activities/mongo/connection';
import { withDocLock } from '../../activities/mongo/doc-lock';
import type {
  ScriptHeadDoc,
  ScriptRepository,
  ScriptVersionDoc,
  ScriptVersionSummary,
} from '../../activities/mongo/script-repository';
import { scriptVersionId } from '../../activities/mongo/script-repository';
import { DomainError, NotFound, ValidationFailed, type FieldProblem } from '../../src/errors';
import { newScriptDefaults, type Script } from '../../src/script/model';
import { validateScript, type ScriptProblem, type ValidationReport } from '../../src/script/validate';
import { REPOSITORIES } from '../common/tokens';
import {
  duplicateUtteranceIds,
  reconcileDubbing,
  sceneClassOf,
  unvoicedProblems,
  utteranceSites,
} from './dubbing-rules';
import { parseScriptContent, scriptContentSchema, type ScriptContent } from './script-shape';
import type { CreateScriptDto, ScriptListQueryDto, UpdateScriptDraftDto } from './script.dto';

/** A problem as the API reports it: the body field (`script.flows[0].nodes[1].branches[0]`) plus the ids. */
export type ScriptFieldProblem = FieldProblem & Omit<ScriptProblem, 'path' | 'field' | 'value' | 'reason'>;

const HEAD_FIELDS = new Set(['name', 'industry', 'scene', 'remarks']);

export function toFieldProblem(p: ScriptProblem): ScriptFieldProblem {
  const where = p.path ? `${p.path}.${p.field}` : p.field;
  const out: ScriptFieldProblem = {
    field: p.path === '' && HEAD_FIELDS.has(p.field) ? p.field : `script.${where}`,
    reason: p.reason,
    rule: p.rule,
  };
  if (p.value !== undefined) out.value = p.value;
  for (const k of ['flowId', 'nodeId', 'intentId', 'kbEntryId'] as const) if (p[k] !== undefined) out[k] = p[k];
  return out;
}

export type ScriptView = Omit<ScriptHeadDoc, '_id' | 'tenantId'> & { id: string };
export type VersionView = Omit<ScriptVersionDoc, '_id' | 'tenantId'>;

export const headView = ({ _id, tenantId: _t, ...rest }: ScriptHeadDoc): ScriptView => ({ id: _id, ...rest });
export const versionView = ({ _id, tenantId: _t, ...rest }: ScriptVersionDoc): VersionView => rest;
const summaryView = ({ _id, tenantId: _t, ...rest }: ScriptVersionSummary) => rest;

/** The content part of a stored script. */
const contentOf = (s: Script): ScriptContent => ({
  flows: s.flows,
  intents: s.intents,
  kbEntries: s.kbEntries,
  kbFlows: s.kbFlows,
  globalConfig: s.globalConfig,
});

@Injectable()
export class ScriptsService {
  private readonly repo: ScriptRepository;

  constructor(@Inject(REPOSITORIES) repos: Repositories) {
    this.repo = repos.scripts;
  }

  /** CreateScript: version 1, a draft. */
  async create(tenantId: string, dto: CreateScriptDto): Promise<ScriptView & { current: VersionView }> {
    const defaults = { ...newScriptDefaults(), flows: [] };
    let content: ScriptContent = defaults;
    if (dto.script) {
      const parsed = scriptContentSchema.partial().safeParse(dto.script);
      // The partial schema only decides which parts are present; the full parse names the problems.
      const given = parsed.success ? (parsed.data as Partial<ScriptContent>) : undefined;
      const full = parseScriptContent({ ...defaults, ...(given ?? dto.script) });
      if (!full.ok) throw new ValidationFailed('the script is not a script', full.problems);
      content = full.content;
    }
    const scriptId = randomBytes(8).toString('hex');
    const sceneClass = sceneClassOf(dto.industry, dto.scene);
    const script: Script = {
      id: scriptId,
      name: dto.name,
      industry: dto.industry,
      scene: dto.scene,
      sceneClass,
      ...(dto.remarks !== undefined ? { remarks: dto.remarks } : {}),
      ...content,
    };
    const report = this.checkForSave(script);
    const now = new Date();
    const version: Omit<ScriptVersionDoc, 'createdAt' | 'updatedAt'> = {
      _id: scriptVersionId(scriptId, 1),
      tenantId,
      scriptId,
      version: 1,
      status: 'draft',
      script,
      dubbing: reconcileDubbing(utteranceSites(script), {}, now),
      report,
    };
    // The version first: the head is the commit point, a version without a head is unreachable.
    await this.repo.putVersion(version);
    await this.repo.insertHead({
      _id: scriptId,
      tenantId,
      name: script.name,
      industry: script.industry,
      scene: script.scene,
      sceneClass,
      ...(script.remarks !== undefined ? { remarks: script.remarks } : {}),
      draftVersion: 1,
      latestVersion: 1,
      latestStatus: 'draft',
    });
    return this.detail(tenantId, scriptId);
  }

  async head(tenantId: string, scriptId: string): Promise<ScriptHeadDoc> {
    const head = await this.repo.getHead(tenantId, scriptId);
    if (!head) throw new NotFound(`script ${scriptId}`);
    return head;
  }

  async version(tenantId: string, scriptId: string, version: number): Promise<ScriptVersionDoc> {
    const doc = await this.repo.getVersion(tenantId, scriptId, version);
    if (!doc) throw new NotFound(`version ${version} of script ${scriptId}`);
    return doc;
  }

  /** The draft if there is one, else the latest version. */
  async current(tenantId: string, scriptId: string): Promise<{ head: ScriptHeadDoc; doc: ScriptVersionDoc }> {
    const head = await this.head(tenantId, scriptId);
    return { head, doc: await this.version(tenantId, scriptId, head.draftVersion ?? head.latestVersion) };
  }

  async detail(tenantId: string, scriptId: string): Promise<ScriptView & { current: VersionView }> {
    const { head, doc } = await this.current(tenantId, scriptId);
    return { ...headView(head), current: versionView(doc) };
  }

  async list(tenantId: string, q: ScriptListQueryDto) {
    const page = q.page ?? 1;
    const pageSize = q.pageSize ?? 20;
    const filter = {
      ...(q.industry ? { industry: q.industry } : {}),
      ...(q.scene ? { scene: q.scene } : {}),
      ...(q.name ? { name: q.name } : {}),
    };
    const { total, items } = await this.repo.listHeads(tenantId, filter, page, pageSize);
    return { total, page, pageSize, items: items.map(headView) };
  }

  async versions(tenantId: string, scriptId: string) {
    await this.head(tenantId, scriptId);
    return (await this.repo.listVersions(tenantId, scriptId)).map(summaryView);
  }

  /** UpdateScriptDraft: change the draft, or make a new draft when the latest version is not one. */
  async updateDraft(
    tenantId: string,
    scriptId: string,
    dto: UpdateScriptDraftDto,
  ): Promise<ScriptView & { current: VersionView }> {
    let content: ScriptContent | undefined;
    if (dto.script) {
      const parsed = parseScriptContent(dto.script);
      if (!parsed.ok) throw new ValidationFailed('the script is not a script', parsed.problems);
      content = parsed.content;
    }
    await withDocLock(`scripts/${scriptId}`, async () => {
      await this.writeDraft(tenantId, scriptId, (base) => {
        const industry = dto.industry ?? base.industry;
        const scene = dto.scene ?? base.scene;
        const remarks = dto.remarks ?? base.remarks;
        return {
          id: scriptId,
          name: dto.name ?? base.name,
          industry,
          scene,
          sceneClass: sceneClassOf(industry, scene),
          ...(remarks !== undefined ? { remarks } : {}),
          ...(content ?? contentOf(base)),
        };
      });
    });
    return this.detail(tenantId, scriptId);
  }

  /**
   * The draft to change, made if needed: the draft itself, or a new version edited from the latest one. Callers
   * hold the script's doc lock. `edit` returns the new script; the dubbing of unchanged texts carries over.
   */
  async writeDraft(
    tenantId: string,
    scriptId: string,
    edit: (base: Script, doc: ScriptVersionDoc) => Script,
    editDubbing?: (dubbing: ScriptVersionDoc['dubbing'], script: Script) => ScriptVersionDoc['dubbing'],
  ): Promise<ScriptVersionDoc> {
    const { head, doc: base } = await this.current(tenantId, scriptId);
    const script = edit(base.script, base);
    const report = this.checkForSave(script);
    const now = new Date();
    let dubbing = reconcileDubbing(utteranceSites(script), base.dubbing, now);
    if (editDubbing) dubbing = editDubbing(dubbing, script);
    const isDraft = head.draftVersion !== undefined && base.status === 'draft';
    const version = isDraft ? base.version : head.latestVersion + 1;
    const doc: ScriptVersionDoc = {
      _id: scriptVersionId(scriptId, version),
      tenantId,
      scriptId,
      version,
      status: 'draft',
      ...(isDraft ? (base.basedOn !== undefined ? { basedOn: base.basedOn } : {}) : { basedOn: base.version }),
      script,
      dubbing,
      report,
      createdAt: isDraft ? base.createdAt : now,
      updatedAt: now,
    };
    await this.repo.putVersion(doc);
    await this.repo.updateHead(tenantId, scriptId, {
      name: script.name,
      industry: script.industry,
      scene: script.scene,
      sceneClass: script.sceneClass ?? 'marketing',
      ...(script.remarks !== undefined ? { remarks: script.remarks } : {}),
      draftVersion: version,
      latestVersion: Math.max(version, head.latestVersion),
      latestStatus: 'draft',
    });
    return doc;
  }

  /**
   * ValidateScript: the report of src/script/validate.ts for unsaved content or the current draft (else the latest
   * version); at the submit stage the unvoiced utterances are problems too.
   */
  async validate(
    tenantId: string,
    scriptId: string,
    stage: 'save' | 'submit',
    body?: Record<string, unknown>,
  ): Promise<ValidationReport> {
    const { doc } = await this.current(tenantId, scriptId);
    let script = doc.script;
    if (body) {
      const parsed = parseScriptContent(body);
      if (!parsed.ok) throw new ValidationFailed('the script is not a script', parsed.problems);
      script = { ...doc.script, ...parsed.content };
    }
    return this.report(
      script,
      stage,
      body ? reconcileDubbing(utteranceSites(script), doc.dubbing, new Date()) : doc.dubbing,
    );
  }

  private report(script: Script, stage: 'save' | 'submit', dubbing: ScriptVersionDoc['dubbing']): ValidationReport {
    const r = validateScript(script, { stage });
    const sites = utteranceSites(script);
    const extra = duplicateUtteranceIds(sites);
    if (stage === 'submit') extra.push(...unvoicedProblems(sites, dubbing, new Date()));
    const problems = [...r.problems, ...extra];
    return { ...r, ok: problems.length === 0, problems };
  }

  /** Refuse a save with structure problems; otherwise the report (its warnings are stored with the version). */
  private checkForSave(script: Script): ValidationReport {
    const report = this.report(script, 'save', {});
    if (!report.ok) {
      throw new ValidationFailed(
        `the script cannot be saved: ${report.problems.length} problem(s)`,
        report.problems.map(toFieldProblem),
      );
    }
    return report;
  }

  /** SubmitScript: the draft goes to review if nothing blocks it, dubbing included. */
  async submit(tenantId: string, scriptId: string): Promise<VersionView> {
    return withDocLock(`scripts/${scriptId}`, async () => {
      const head = await this.head(tenantId, scriptId);
      if (head.draftVersion === undefined) {
        throw new DomainError('there is no draft to submit', 409, [
          { field: 'status', value: head.latestStatus, reason: 'only a draft can be submitted; edit the script first' },
        ]);
      }
      const doc = await this.version(tenantId, scriptId, head.draftVersion);
      const report = this.report(doc.script, 'submit', doc.dubbing);
      if (!report.ok) {
        throw new ValidationFailed(
          `the script cannot be submitted: ${report.problems.length} problem(s)`,
          report.problems.map(toFieldProblem),
        );
      }
      const submittedAt = new Date();
      if (
        !(await this.repo.setStatus(tenantId, scriptId, doc.version, 'draft', { status: 'submitted', submittedAt }))
      ) {
        throw new DomainError('the draft changed while it was submitted', 409);
      }
      await this.repo.updateHead(
        tenantId,
        scriptId,
        doc.version === head.latestVersion ? { latestStatus: 'submitted' } : {},
        ['draftVersion'],
      );
      return versionView({ ...doc, status: 'submitted', submittedAt });
    });
  }

  /** ApproveScript / RejectScript: only a submitted version is reviewed. */
  async review(
    tenantId: string,
    scriptId: string,
    version: number,
    decision: { approve: true } | { approve: false; reason: string },
  ): Promise<VersionView> {
    return withDocLock(`scripts/${scriptId}`, async () => {
      const head = await this.head(tenantId, scriptId);
      const doc = await this.version(tenantId, scriptId, version);
      if (doc.status !== 'submitted') {
        throw new DomainError(`version ${version} is ${doc.status}, not submitted`, 409, [
          { field: 'status', value: doc.status, reason: 'only a submitted version can be approved or rejected' },
        ]);
      }
      const reviewedAt = new Date();
      const set = decision.approve
        ? { status: 'approved' as const, reviewedAt }
        : { status: 'rejected' as const, rejectReason: decision.reason, reviewedAt };
      if (!(await this.repo.setStatus(tenantId, scriptId, version, 'submitted', set))) {
        throw new DomainError(`version ${version} was reviewed concurrently`, 409);
      }
      await this.repo.updateHead(tenantId, scriptId, {
        ...(version === head.latestVersion ? { latestStatus: set.status } : {}),
        ...(decision.approve ? { latestApproved: Math.max(version, head.latestApproved ?? 0) } : {}),
      });
      return versionView({ ...doc, ...set });
    });
  }
}
