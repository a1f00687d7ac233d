/**
 * The schema a client of the gateway sees, derived from the composed supergraph: the
 * supergraph minus federation's machinery (`join__*` and `link__*` types, the `@join__*` and
 * `@link` directives) and anything marked `@inaccessible`. Client types are generated from it,
 * so they hold nothing a client cannot select.
 */
import { readFileSync } from 'node:fs';
import { type ASTNode, type DefinitionNode, type DirectiveNode, Kind, parse, print, visit } from 'graphql';

const FEDERATION_PREFIXES = ['join__', 'link__'];
const FEDERATION_DIRECTIVES = new Set(['link', 'inaccessible', 'tag']);

const isFederationName = (name: string): boolean =>
  FEDERATION_PREFIXES.some((prefix) => name.startsWith(prefix)) || FEDERATION_DIRECTIVES.has(name);

const inaccessible = (node: { directives?: readonly DirectiveNode[] }): boolean =>
  node.directives?.some((directive) => directive.name.value === 'inaccessible') ?? false;

const keptDefinition = (definition: DefinitionNode): boolean => {
  switch (definition.kind) {
    case Kind.DIRECTIVE_DEFINITION:
      return !isFederationName(definition.name.value);
    case Kind.SCALAR_TYPE_DEFINITION:
    case Kind.OBJECT_TYPE_DEFINITION:
    case Kind.INTERFACE_TYPE_DEFINITION:
    case Kind.UNION_TYPE_DEFINITION:
    case Kind.ENUM_TYPE_DEFINITION:
    case Kind.INPUT_OBJECT_TYPE_DEFINITION:
      return !isFederationName(definition.name.value) && !inaccessible(definition);
    default:
      return true;
  }
};

/** The client-facing SDL of a supergraph SDL. Throws the parser's error for invalid SDL. */
export const apiSchemaOf = (supergraphSdl: string): string => {
  const document = parse(supergraphSdl);
  const pruned = visit(
    { ...document, definitions: document.definitions.filter(keptDefinition) },
    {
      Directive: (node) => (isFederationName(node.name.value) ? null : undefined),
      FieldDefinition: (node) => (inaccessible(node) ? null : undefined),
      InputValueDefinition: (node) => (inaccessible(node) ? null : undefined),
      EnumValueDefinition: (node) => (inaccessible(node) ? null : undefined),
    },
  ) as ASTNode;
  return print(pruned);
};

/** {@link apiSchemaOf} of the supergraph file at `path`. */
export const readApiSchema = (path: string): string => apiSchemaOf(readFileSync(path, 'utf8'));
