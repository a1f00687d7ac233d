/**
 * What other workspaces may reuse from the scripts: dev token creation (the gateway's tests),
 * service discovery and the infrastructure set-up (tests and tools).
 */

export { bringInfrastructureUp, infrastructureStatus } from './infrastructure-setup.ts';
export { type Supervisor, type SupervisorOptions, startSupervisor } from './supervisor.ts';
export {
  createDevToken,
  DEV_JWT_AUDIENCE,
  DEV_JWT_ISSUER,
  DEV_JWT_SECRET,
  DevTokenError,
  type DevTokenOptions,
  devJwtSecret,
  ROLES,
  type Role,
} from './tokens.ts';
export {
  discoverServices,
  repositoryRoot,
  type ServiceDeclaration,
  ServiceDeclarationError,
} from './workspaces.ts';
