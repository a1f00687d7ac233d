/** @magasin/e2e: the whole stack for end-to-end tests and benchmarks, and a client of its gateway. */

export { type GatewayClient, gatewayClient, untilStoreKnowsProduct } from './client.ts';
export { type Stack, startStack } from './stack.ts';
export {
  GatewayOperationError,
  type TypedGatewayClient,
  typedGatewayClient,
  type VariablesArgument,
} from './typed-client.ts';
