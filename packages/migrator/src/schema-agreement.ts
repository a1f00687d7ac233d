import type pg from 'pg';

/**
 * What a generated Prisma 7 client knows about its models at run time. Every model is here
 * with its table (`dbName`) and, per field, its column (`dbName`) and Prisma type; list-ness,
 * optionality and `@db.*` native types are not, so they are read from the schema text the
 * client embeds (`_engineConfig.inlineSchema`) when it is there.
 */
interface RuntimeField {
  readonly name: string;
  readonly kind: string;
  readonly type: string;
  readonly dbName?: string | null;
}
interface RuntimeModel {
  readonly fields: readonly RuntimeField[];
  readonly dbName: string | null;
  readonly schema?: string | null;
}
interface ClientInternals {
  readonly _runtimeDataModel?: { readonly models: Readonly<Record<string, RuntimeModel>> };
  readonly _engineConfig?: { readonly inlineSchema?: string };
}

/** Ways a generated client and a database can disagree. */
export const SchemaProblemCode = {
  /** A model's table does not exist. */
  MissingTable: 'missing_table',
  /** A scalar field's column does not exist. */
  MissingColumn: 'missing_column',
  /** The column's type cannot hold the field (or the field is a list and the column is not). */
  IncompatibleType: 'incompatible_type',
  /** A required field on a nullable column, or an optional field on a NOT NULL column. */
  Nullability: 'nullability',
  /** A NOT NULL column without default that the model does not know: every create fails. */
  UnknownRequiredColumn: 'unknown_required_column',
} as const;

/** One of {@link SchemaProblemCode}. */
export type SchemaProblemCode = (typeof SchemaProblemCode)[keyof typeof SchemaProblemCode];

/** One disagreement between a model and its table. */
export interface SchemaProblem {
  readonly code: SchemaProblemCode;
  readonly model: string;
  /** The field concerned, when one is. */
  readonly field?: string;
  /** `schema.table`. */
  readonly table: string;
  /** The column concerned, when one is. */
  readonly column?: string;
  /** What disagrees, naming model, field, table and column. */
  readonly message: string;
}

/** What the schema text says about a field beyond the runtime data model. */
interface DeclaredField {
  readonly list: boolean;
  readonly optional: boolean;
  readonly nativeType: string | undefined;
}

interface DeclaredSchema {
  readonly fields: ReadonlyMap<string, DeclaredField>;
  /** Enum name -> database type name (`@@map`). */
  readonly enums: ReadonlyMap<string, string>;
}

/** Reads field modifiers, native types and enum names from a schema.prisma text. */
const parseSchema = (text: string): DeclaredSchema => {
  const fields = new Map<string, DeclaredField>();
  const enums = new Map<string, string>();
  let block: { kind: string; name: string } | undefined;
  for (const rawLine of text.split('\n')) {
    const line = rawLine.replace(/\/\/.*$/, '').trim();
    const opening = /^(model|enum|view)\s+(\w+)\s*\{$/.exec(line);
    if (opening) {
      block = { kind: opening[1] ?? '', name: opening[2] ?? '' };
      if (block.kind === 'enum') enums.set(block.name, block.name);
      continue;
    }
    if (line === '}') {
      block = undefined;
      continue;
    }
    if (!block) continue;
    if (block.kind === 'enum') {
      const mapped = /^@@map\(\s*"([^"]+)"\s*\)/.exec(line);
      if (mapped?.[1]) enums.set(block.name, mapped[1]);
      continue;
    }
    const field = /^(\w+)\s+(\w+)(\[\])?(\?)?(.*)$/.exec(line);
    if (!field) continue;
    fields.set(`${block.name}.${field[1]}`, {
      list: field[3] !== undefined,
      optional: field[4] !== undefined,
      nativeType: /@db\.(\w+)/.exec(field[5] ?? '')?.[1],
    });
  }
  return { fields, enums };
};

/** PostgreSQL type (pg_type.typname) Prisma creates for a field without `@db.*`. */
const DEFAULT_TYPE: Readonly<Record<string, string>> = {
  String: 'text',
  Int: 'int4',
  BigInt: 'int8',
  Float: 'float8',
  Decimal: 'numeric',
  Boolean: 'bool',
  DateTime: 'timestamp',
  Json: 'jsonb',
  Bytes: 'bytea',
};

/** PostgreSQL type for each `@db.*` native type. */
const NATIVE_TYPE: Readonly<Record<string, string>> = {
  Text: 'text',
  VarChar: 'varchar',
  Char: 'bpchar',
  Uuid: 'uuid',
  Xml: 'xml',
  Citext: 'citext',
  Inet: 'inet',
  Bit: 'bit',
  VarBit: 'varbit',
  Integer: 'int4',
  SmallInt: 'int2',
  Oid: 'oid',
  BigInt: 'int8',
  DoublePrecision: 'float8',
  Real: 'float4',
  Decimal: 'numeric',
  Money: 'money',
  Boolean: 'bool',
  Timestamp: 'timestamp',
  Timestamptz: 'timestamptz',
  Date: 'date',
  Time: 'time',
  Timetz: 'timetz',
  Json: 'json',
  JsonB: 'jsonb',
  ByteA: 'bytea',
};

/** Every PostgreSQL type a Prisma scalar type can map to, when the native type is unknown. */
const COMPATIBLE_TYPES: Readonly<Record<string, readonly string[]>> = {
  String: ['text', 'varchar', 'bpchar', 'uuid', 'xml', 'citext', 'inet', 'bit', 'varbit'],
  Int: ['int4', 'int2', 'oid'],
  BigInt: ['int8'],
  Float: ['float8', 'float4'],
  Decimal: ['numeric', 'money'],
  Boolean: ['bool'],
  DateTime: ['timestamp', 'timestamptz', 'date', 'time', 'timetz'],
  Json: ['jsonb', 'json'],
  Bytes: ['bytea'],
};

interface ColumnRow {
  schema_name: string;
  table_name: string;
  column_name: string;
  not_null: boolean;
  has_default: boolean;
  is_array: boolean;
  type_name: string;
  type_type: string;
  is_view: boolean;
}

/** Columns of every table, view and partitioned table in `schemas`, domains resolved to their base type. */
const COLUMNS = `
  SELECT n.nspname AS schema_name, c.relname AS table_name, a.attname AS column_name,
         a.attnotnull AS not_null,
         (a.atthasdef OR a.attidentity <> '' OR a.attgenerated <> '') AS has_default,
         (t.typcategory = 'A') AS is_array,
         bt.typname AS type_name, bt.typtype AS type_type, c.relkind IN ('v', 'm') AS is_view
    FROM pg_attribute a
    JOIN pg_class c ON c.oid = a.attrelid
    JOIN pg_namespace n ON n.oid = c.relnamespace
    JOIN pg_type t ON t.oid = a.atttypid
    JOIN pg_type et ON et.oid = CASE WHEN t.typcategory = 'A' THEN t.typelem ELSE t.oid END
    JOIN pg_type bt ON bt.oid = CASE WHEN et.typtype = 'd' THEN et.typbasetype ELSE et.oid END
   WHERE n.nspname = ANY($1) AND c.relkind IN ('r', 'p', 'v', 'm') AND a.attnum > 0 AND NOT a.attisdropped`;

/** Anything that runs a query: a pg Client, Pool or PoolClient. */
export type Queryable = Pick<pg.Pool, 'query'> | Pick<pg.ClientBase, 'query'>;

/**
 * Checks that the database `db` is connected to can serve the generated Prisma client
 * `client`: every model's table exists, every scalar and enum field's column exists with a
 * type that holds it, and (where the client embeds its schema text, as Prisma 7 clients do)
 * list-ness, optionality and `@db.*` native types match, and no NOT NULL column unknown to
 * the model lacks a default. Returns the problems found; an empty list means they agree.
 *
 * `client` is a PrismaClient from `prisma generate` (its `_runtimeDataModel` is read); fails
 * with a TypeError when it has none. Query errors from `db` are passed on.
 */
export const checkSchemaAgreement = async (client: object, db: Queryable): Promise<SchemaProblem[]> => {
  const internals = client as ClientInternals;
  const models = internals._runtimeDataModel?.models;
  if (!models) {
    throw new TypeError(
      'checkSchemaAgreement needs a PrismaClient from `prisma generate` (no _runtimeDataModel)',
    );
  }
  const inlineSchema = internals._engineConfig?.inlineSchema;
  const declared = inlineSchema ? parseSchema(inlineSchema) : undefined;

  const { rows: schemaRows } = await (db as Pick<pg.ClientBase, 'query'>).query<{ schema: string }>(
    'SELECT current_schema() AS schema',
  );
  const defaultSchema = schemaRows[0]?.schema ?? 'public';
  const schemaOf = (model: RuntimeModel) => model.schema ?? defaultSchema;
  const schemas = [...new Set(Object.values(models).map(schemaOf))];
  const { rows } = await (db as Pick<pg.ClientBase, 'query'>).query<ColumnRow>(COLUMNS, [schemas]);
  const tables = new Map<string, Map<string, ColumnRow>>();
  for (const row of rows) {
    const key = `${row.schema_name}.${row.table_name}`;
    const columns = tables.get(key) ?? new Map<string, ColumnRow>();
    columns.set(row.column_name, row);
    tables.set(key, columns);
  }

  const problems: SchemaProblem[] = [];
  for (const [model, definition] of Object.entries(models)) {
    const table = `${schemaOf(definition)}.${definition.dbName ?? model}`;
    const columns = tables.get(table);
    if (!columns) {
      problems.push({
        code: SchemaProblemCode.MissingTable,
        model,
        table,
        message: `model ${model}: table ${table} does not exist`,
      });
      continue;
    }
    const known = new Set<string>();
    for (const field of definition.fields) {
      if (field.kind !== 'scalar' && field.kind !== 'enum') continue;
      const column = field.dbName ?? field.name;
      known.add(column);
      const where = `${model}.${field.name} (column ${table}.${column})`;
      const row = columns.get(column);
      const base = { model, field: field.name, table, column };
      if (!row) {
        problems.push({
          ...base,
          code: SchemaProblemCode.MissingColumn,
          message: `${where}: column does not exist`,
        });
        continue;
      }
      const modifiers = declared?.fields.get(`${model}.${field.name}`);
      const typeProblem = incompatibility(field, row, modifiers, declared?.enums);
      if (typeProblem) {
        problems.push({
          ...base,
          code: SchemaProblemCode.IncompatibleType,
          message: `${where}: ${typeProblem}`,
        });
      }
      // Views report every column nullable: only tables say what may be NULL.
      if (modifiers && !modifiers.list && !row.is_view && modifiers.optional === row.not_null) {
        problems.push({
          ...base,
          code: SchemaProblemCode.Nullability,
          message: modifiers.optional
            ? `${where}: the field is optional but the column is NOT NULL`
            : `${where}: the field is required but the column allows NULL`,
        });
      }
    }
    for (const row of columns.values()) {
      if (known.has(row.column_name) || !row.not_null || row.has_default) continue;
      problems.push({
        code: SchemaProblemCode.UnknownRequiredColumn,
        model,
        table,
        column: row.column_name,
        message: `model ${model}: column ${table}.${row.column_name} is NOT NULL without default and no field maps to it, so creating a ${model} fails`,
      });
    }
  }
  return problems;
};

const incompatibility = (
  field: RuntimeField,
  row: ColumnRow,
  modifiers: DeclaredField | undefined,
  enums: ReadonlyMap<string, string> | undefined,
): string | undefined => {
  const actual = `${row.type_name}${row.is_array ? '[]' : ''}`;
  if (modifiers && modifiers.list !== row.is_array) {
    return `the field is ${modifiers.list ? '' : 'not '}a list but the column type is ${actual}`;
  }
  if (field.kind === 'enum') {
    const expected = enums?.get(field.type) ?? field.type;
    if (row.type_type !== 'e') return `enum ${field.type} but the column type is ${actual}, not an enum`;
    if (enums && row.type_name !== expected)
      return `enum ${field.type} expects type "${expected}", found ${actual}`;
    return undefined;
  }
  const exact = modifiers
    ? modifiers.nativeType
      ? NATIVE_TYPE[modifiers.nativeType]
      : DEFAULT_TYPE[field.type]
    : undefined;
  if (exact !== undefined) {
    return row.type_name === exact ? undefined : `${field.type} expects ${exact}, found ${actual}`;
  }
  const accepted = COMPATIBLE_TYPES[field.type];
  if (accepted === undefined) return undefined; // a type this check does not know: not judged
  return accepted.includes(row.type_name)
    ? undefined
    : `${field.type} cannot be stored in ${actual} (expected one of ${accepted.join(', ')})`;
};
