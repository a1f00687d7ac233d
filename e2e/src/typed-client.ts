/**
 * The typed Node client of the gateway: the operations of schema/operations, passed as the
 * TypedDocumentNode `npm run codegen` generates (`@magasin/events/operations`), so that the
 * compiler checks the variables given and the data read. Built on {@link gatewayClient}.
 *
 * ```ts
 * const alice = await typedGatewayClient(stack.gatewayUrl, { sub: 'alice', roles: ['customer'] });
 * const { placeOrder } = await alice.request(PlaceOrderDocument, { input });
 * ```
 */
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { type DocumentNode, print } from 'graphql';
import { type Answer, type GatewayClient, gatewayClient } from './client.ts';

/** The variables argument: optional when the operation has no required variable. */
export type VariablesArgument<V> = Record<string, never> extends V ? [variables?: V] : [variables: V];

/** A GraphQL answer with errors: what the gateway said, with the first error's code. */
export class GatewayOperationError extends Error {
  /** `extensions.code` of the first error (FORBIDDEN, NOT_FOUND, ...), or undefined. */
  readonly code: string | undefined;
  constructor(
    readonly operation: string,
    readonly errors: NonNullable<Answer['errors']>,
  ) {
    super(`${operation}: ${errors.map((error) => error.message).join('; ')}`);
    this.name = 'GatewayOperationError';
    const code = errors[0]?.extensions?.code;
    this.code = typeof code === 'string' ? code : undefined;
  }
}

/** A gateway client acting for one dev user, typed by the generated operations. */
export interface TypedGatewayClient {
  /** The untyped client underneath (its token, raw queries). */
  readonly untyped: GatewayClient;
  /** Runs a query or mutation; its data, or a GatewayOperationError when the answer has errors. */
  request<R, V>(document: TypedDocumentNode<R, V>, ...variables: VariablesArgument<V>): Promise<R>;
  /**
   * The data of every payload of a subscription until it completes; rejects with a
   * GatewayOperationError on an answer with errors, or when `timeoutMs` (default 30 s) passes.
   */
  subscribe<R, V>(
    document: TypedDocumentNode<R, V>,
    variables: V,
    options?: { timeoutMs?: number; onNext?: (data: R) => void },
  ): Promise<R[]>;
  close(): Promise<void>;
}

const texts = new WeakMap<DocumentNode, { text: string; name: string }>();

/** The text of `document` (printed once) and its operation's name. */
const operationOf = (document: DocumentNode): { text: string; name: string } => {
  let known = texts.get(document);
  if (!known) {
    const operation = document.definitions.find((definition) => definition.kind === 'OperationDefinition');
    known = { text: print(document), name: operation?.name?.value ?? 'anonymous operation' };
    texts.set(document, known);
  }
  return known;
};

const dataOf = <R>(name: string, answer: Answer<R>): R => {
  if (answer.errors?.length) throw new GatewayOperationError(name, answer.errors);
  if (answer.data == null) throw new GatewayOperationError(name, [{ message: 'the answer has no data' }]);
  return answer.data;
};

/** A typed client of `gatewayUrl` (`.../graphql`) for `sub` with `roles` (anonymous when `user` is undefined). */
export const typedGatewayClient = async (
  gatewayUrl: string,
  user?: { sub: string; roles: string[] },
): Promise<TypedGatewayClient> => {
  const untyped = await gatewayClient(gatewayUrl, user);
  return {
    untyped,
    request: async <R, V>(document: TypedDocumentNode<R, V>, ...[variables]: VariablesArgument<V>) => {
      const { text, name } = operationOf(document);
      return dataOf(name, await untyped.query<R>(text, (variables ?? {}) as Record<string, unknown>));
    },
    subscribe: async <R, V>(
      document: TypedDocumentNode<R, V>,
      variables: V,
      options: { timeoutMs?: number; onNext?: (data: R) => void } = {},
    ) => {
      const { text, name } = operationOf(document);
      const answers = await untyped.subscribe<R>(text, variables as Record<string, unknown>, {
        ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
        onNext: (answer) => {
          if (!answer.errors?.length && answer.data) options.onNext?.(answer.data);
        },
      });
      return answers.map((answer) => dataOf(name, answer));
    },
    close: () => untyped.close(),
  };
};
