/**
 * Search attributes: they let the Temporal Web UI (and auditors' queries) list a tenant's tasks, a task's contact
 * workflows, and filter them by status, e.g. `WaihuTask = "…" AND WaihuStatus = "BUSY"`.
 *
 * They must be registered on the server (scripts/temporal.sh does it for the dev server; docker-compose runs
 * `temporal operator search-attribute create` once). A task started with `searchAttributes: false` sets none, for
 * servers that have not registered them.
 */
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

export const WAIHU_TENANT = defineSearchAttributeKey('WaihuTenant', SearchAttributeType.KEYWORD);
export const WAIHU_TASK = defineSearchAttributeKey('WaihuTask', SearchAttributeType.KEYWORD);
/** Campaign: its task status. Contact: WAITING, DIALLING, or its latest result code / skip reason. */
export const WAIHU_STATUS = defineSearchAttributeKey('WaihuStatus', SearchAttributeType.KEYWORD);

/** Names and types, for registering them on a server. */
export const SEARCH_ATTRIBUTES = [WAIHU_TENANT, WAIHU_TASK, WAIHU_STATUS].map((k) => ({ name: k.name, type: k.type }));
