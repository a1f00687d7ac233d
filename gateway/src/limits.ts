/**
 * Bounds on an operation's shape, as GraphQL validation rules: depth, aliases and directive
 * applications (the token bound is the parser's `maxTokens`, see `maskError`). Each refusal is
 * a GraphQL error with its own code. Fragments count where they are spread; introspection
 * fields (`__schema`, `__type`) do not count toward depth, so that GraphiQL can load the schema
 * when introspection is on.
 */
import {
  type ASTVisitor,
  type DocumentNode,
  type FragmentDefinitionNode,
  GraphQLError,
  Kind,
  type SelectionSetNode,
  type ValidationContext,
  type ValidationRule,
} from 'graphql';
import type { OperationLimits } from './config.ts';
import { GATEWAY_ERROR_CODES } from './errors.ts';

/** What an operation amounts to, fragments expanded. */
export interface OperationShape {
  depth: number;
  aliases: number;
  directives: number;
}

/**
 * Measures one selection set: deepest field nesting, aliases and directives, fragments
 * counted at each spread. A spread already being expanded (a cycle, refused by the standard
 * rules anyway) counts nothing more; counting stops early past `stopAt` so that a hostile
 * document cannot make this expensive.
 */
export const measureSelections = (
  selectionSet: SelectionSetNode,
  fragments: ReadonlyMap<string, FragmentDefinitionNode>,
  stopAt: number,
): OperationShape => {
  const shape: OperationShape = { depth: 0, aliases: 0, directives: 0 };
  const expanding = new Set<string>();
  const visit = (set: SelectionSetNode, depth: number): void => {
    for (const selection of set.selections) {
      if (shape.aliases > stopAt || shape.directives > stopAt) return;
      shape.directives += selection.directives?.length ?? 0;
      switch (selection.kind) {
        case Kind.FIELD: {
          if (selection.alias) shape.aliases += 1;
          if (selection.name.value.startsWith('__')) break;
          shape.depth = Math.max(shape.depth, depth + 1);
          if (selection.selectionSet && depth + 1 <= stopAt) visit(selection.selectionSet, depth + 1);
          break;
        }
        case Kind.INLINE_FRAGMENT:
          visit(selection.selectionSet, depth);
          break;
        case Kind.FRAGMENT_SPREAD: {
          const name = selection.name.value;
          const fragment = fragments.get(name);
          if (!fragment || expanding.has(name)) break;
          expanding.add(name);
          shape.directives += fragment.directives?.length ?? 0;
          visit(fragment.selectionSet, depth);
          expanding.delete(name);
          break;
        }
        default:
          selection satisfies never;
      }
    }
  };
  visit(selectionSet, 0);
  return shape;
};

const refusal = (code: string, message: string) => new GraphQLError(message, { extensions: { code } });

/** A validation rule refusing operations beyond `limits` (one error per broken bound). */
export const operationLimitsRule =
  (limits: OperationLimits): ValidationRule =>
  (context: ValidationContext): ASTVisitor => ({
    Document(document: DocumentNode) {
      const fragments = new Map<string, FragmentDefinitionNode>();
      for (const definition of document.definitions) {
        if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition);
      }
      const stopAt = Math.max(limits.maxDepth, limits.maxAliases, limits.maxDirectives) + 1;
      for (const definition of document.definitions) {
        if (definition.kind !== Kind.OPERATION_DEFINITION) continue;
        const shape = measureSelections(definition.selectionSet, fragments, stopAt);
        shape.directives += definition.directives?.length ?? 0;
        const name = definition.name ? `operation ${definition.name.value}` : 'the operation';
        if (shape.depth > limits.maxDepth) {
          context.reportError(
            refusal(
              GATEWAY_ERROR_CODES.queryTooDeep,
              `${name} nests selections more than ${limits.maxDepth} levels deep (limit ${limits.maxDepth})`,
            ),
          );
        }
        if (shape.aliases > limits.maxAliases) {
          context.reportError(
            refusal(
              GATEWAY_ERROR_CODES.tooManyAliases,
              `${name} uses more than ${limits.maxAliases} aliases (limit ${limits.maxAliases})`,
            ),
          );
        }
        if (shape.directives > limits.maxDirectives) {
          context.reportError(
            refusal(
              GATEWAY_ERROR_CODES.tooManyDirectives,
              `${name} applies more than ${limits.maxDirectives} directives (limit ${limits.maxDirectives})`,
            ),
          );
        }
      }
      return false;
    },
  });

/** A validation rule refusing `__schema` and `__type` (INTROSPECTION=false); `__typename` stays allowed. */
export const noIntrospectionRule: ValidationRule = (context) => ({
  Field(node) {
    if (node.name.value === '__schema' || node.name.value === '__type') {
      context.reportError(
        new GraphQLError(`introspection is disabled on this gateway (${node.name.value})`, {
          nodes: [node],
          extensions: { code: GATEWAY_ERROR_CODES.introspectionDisabled },
        }),
      );
    }
  },
});
