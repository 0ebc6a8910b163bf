/**
 * Authentication and roles. Every route needs an API key (`Authorization: Bearer <key>` or `X-API-Key: <key>`)
 * unless marked @Public(); the key decides the tenant and the roles. `admin` implies every role.
 *
 * Route roles: managers create tasks and upload lists; supervisors start, pause and cancel; auditors read; an agent
 * (普通坐席, a key written `agent@<agentId>` in API_KEYS) reaches only the routes that name the `agent` role — the
 * agent's own view under `/agents/me` (api/agents/agent-view.controller.ts), and `PUT /agents/{id}/state` for its own
 * id only (`mayChangeStateOf`, api/agents/agents.service.ts) — and every such route acts on the
 * key's own agent ({@link ownAgentId}), never on an id taken from the request, so another agent's state, offers,
 * calls and dialogs are out of its reach (403 on the routes of other roles, 404 for another agent's call).
 */
import {
  createParamDecorator,
  ForbiddenException,
  Inject,
  Injectable,
  SetMetadata,
  UnauthorizedException,
  type CanActivate,
  type ExecutionContext,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { timingSafeEqual, createHash } from 'node:crypto';
import type { Request } from 'express';
import type { Config, Role } from '../../config/config';
import { CONFIG } from '../common/tokens';

export interface Principal {
  tenantId: string;
  roles: readonly Role[];
  /** The agent an agent-role key is bound to. */
  agentId?: string;
}

const ROLES_KEY = 'waihu:roles';
const PUBLIC_KEY = 'waihu:public';

/** Any of the listed roles may call the route. */
export const Roles = (...roles: Role[]) => SetMetadata(ROLES_KEY, roles);
/** No authentication: only for liveness and the API description. */
export const Public = () => SetMetadata(PUBLIC_KEY, true);

export const CurrentPrincipal = createParamDecorator((_: unknown, ctx: ExecutionContext): Principal => {
  const req = ctx.switchToHttp().getRequest<Request & { principal?: Principal }>();
  if (!req.principal) throw new UnauthorizedException('no principal');
  return req.principal;
});

const digest = (s: string) => createHash('sha256').update(s).digest();

@Injectable()
export class ApiKeyGuard implements CanActivate {
  private readonly keys: { digest: Buffer; principal: Principal }[];

  constructor(
    private readonly reflector: Reflector,
    @Inject(CONFIG) config: Config,
  ) {
    this.keys = config.api.keys.map((k) => ({
      digest: digest(k.key),
      principal: { tenantId: k.tenantId, roles: k.roles, ...(k.agentId ? { agentId: k.agentId } : {}) },
    }));
  }

  canActivate(ctx: ExecutionContext): boolean {
    const targets = [ctx.getHandler(), ctx.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(PUBLIC_KEY, targets)) return true;
    const req = ctx.switchToHttp().getRequest<Request & { principal?: Principal }>();
    const header = req.headers.authorization;
    const presented = header?.startsWith('Bearer ') ? header.slice(7) : req.headers['x-api-key'];
    if (typeof presented !== 'string' || !presented) throw new UnauthorizedException('an API key is required');
    const d = digest(presented);
    // Compare digests in constant time against every key, so timing reveals nothing about which key is close.
    let principal: Principal | undefined;
    for (const k of this.keys) if (timingSafeEqual(k.digest, d)) principal = k.principal;
    if (!principal) throw new UnauthorizedException('unknown API key');
    req.principal = principal;
    const required = this.reflector.getAllAndOverride<Role[]>(ROLES_KEY, targets);
    if (!required?.length) throw new ForbiddenException('route has no role policy');
    if (!principal.roles.includes('admin') && !required.some((r) => principal.roles.includes(r))) {
      throw new ForbiddenException(`requires one of the roles: ${required.join(', ')}`);
    }
    return true;
  }
}

/**
 * The agent the caller acts as: an agent-role key's own agent. Other keys (admin included) are bound to no agent and
 * get 403 on the `/agents/me` routes.
 */
export function ownAgentId(p: Principal): string {
  if (!p.agentId) throw new ForbiddenException('this API key is not bound to an agent (agent@<agentId>)');
  return p.agentId;
}

/** Full phone numbers only for roles that act on them; auditors see masked numbers. */
export function seesFullNumbers(p: Principal): boolean {
  return p.roles.some((r) => r === 'admin' || r === 'manager' || r === 'supervisor');
}
