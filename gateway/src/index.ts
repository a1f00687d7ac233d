/**
 * @magasin/gateway: the federated GraphQL gateway (`startGateway`), its configuration, the
 * composition of the supergraph (`runCompose`, what `npm run compose` runs) and the codes of
 * its refusals.
 */
export { AuthenticationError, type Caller, createTokenVerifier, type TokenVerifier } from './auth.ts';
export {
  composeSupergraph,
  findSubgraphs,
  runCompose,
  SUBGRAPH_SCHEMA_FILE,
  SUPERGRAPH_FILE,
  type SubgraphSource,
} from './compose.ts';
export { type GatewayConfig, loadGatewayConfig, type OperationLimits, subgraphUrl } from './config.ts';
export { GATEWAY_ERROR_CODES, type GatewayErrorCode } from './errors.ts';
export { type GatewayOptions, type RunningGateway, startGateway } from './server.ts';
export { WS_CLOSE_CODES } from './subscriptions/websocket.ts';
export { buildFederatedSchema, type FederatedSchema, loadFederatedSchema } from './supergraph.ts';
