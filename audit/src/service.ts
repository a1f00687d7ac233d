/**
 * Starts the audit subgraph from a configuration: the trail fed by the bus (every event, every
 * mutation the gateway saw), and the auditTrail / auditIntegrity / eraseCustomer subgraph.
 * `main.ts` calls it; tests call it with port 0.
 */
import { readFileSync } from 'node:fs';
import { type RunningSubgraph, runSubgraph } from '@magasin/subgraph-kit';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { type AuditConfig, SERVICE } from './config.ts';
import { resolvers } from './graphql/resolvers.ts';
import { reactions } from './reactions.ts';
import { type AuditPrisma, auditDatabase } from './records/database.ts';

/** The subgraph's SDL. */
export const typeDefs = readFileSync(new URL('./graphql/schema.graphql', import.meta.url), 'utf8');

/** Starts the service; see the module comment. */
export const runAudit = (options: {
  config: AuditConfig;
  logger: Logger;
  registry: Registry;
  /** Default true: SIGINT/SIGTERM stop the service and exit. */
  handleSignals?: boolean;
}): Promise<RunningSubgraph<AuditPrisma>> => {
  const personalData = { erasureSecret: options.config.AUDIT_ERASURE_SECRET };
  const trail = reactions(personalData);
  return runSubgraph({
    name: SERVICE,
    ...options,
    projection: auditDatabase,
    typeDefs,
    resolvers: (deps) => resolvers(deps, personalData),
    consume: () => trail.consume,
    inbox: trail.inbox,
  });
};
