/** The agent API's controllers and providers, spread into AppModule (they use its CONFIG, LOGGER and REPOSITORIES). */
import type { Provider, Type } from '@nestjs/common';
import { createAgentDirectory } from '../../activities/agents/agent-directory';
import type { Repositories } from '../../activities/mongo/connection';
import { REPOSITORIES } from '../common/tokens';
import { AgentImportService } from './agent-import.service';
import {
  AgentSettingsController,
  AgentsController,
  DepartmentsController,
  SkillGroupsController,
} from './agents.controller';
import { AgentsService } from './agents.service';
import { AsteriskAgentsService } from './asterisk-agents.service';
import { SkillGroupsService } from './skill-groups.service';
import { AGENT_DIRECTORY } from './tokens';

export const AGENT_CONTROLLERS: Type[] = [
  SkillGroupsController,
  DepartmentsController,
  AgentsController,
  AgentSettingsController,
];

export const AGENT_PROVIDERS: Provider[] = [
  {
    provide: AGENT_DIRECTORY,
    useFactory: (repos: Repositories) => createAgentDirectory({ agents: repos.agents }),
    inject: [REPOSITORIES],
  },
  AsteriskAgentsService,
  SkillGroupsService,
  AgentsService,
  AgentImportService,
];
