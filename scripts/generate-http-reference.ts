/**
 * Generates `docs/reference/http-api.md` from the OpenAPI document the server serves at
 * `/api/openapi.json`, so the HTTP reference cannot drift from the routes.
 *
 * The document is built without a network (`openapi-document.ts`, shared with
 * `generate-api-types.ts`): it creates the server's services on a temporary PGlite directory (no
 * worker, no background jobs), asks the app for `/api/openapi.json` with `app.request()`, and
 * deletes the directory. It then renders, per tag
 * and route: the method and path, summary, who may call it, parameters, request body fields (name,
 * type, required, description, from the JSON schema), responses with their status codes, then
 * every named schema and the table of error codes (`API_ERROR_STATUS` and the TSDoc of each code).
 * The output goes through Biome's formatter, so `biome check` accepts it as generated. It is
 * deterministic: the same code always gives the same bytes.
 *
 * Usage (from the repository root):
 *
 * - `npx tsx scripts/generate-http-reference.ts`: writes the file;
 * - `npx tsx scripts/generate-http-reference.ts --check`: exits 1 if the committed file differs
 *   from what the code would generate (for CI).
 *
 * Workspace packages are loaded from their TypeScript sources (the `@vidgenie/source` export
 * condition), so no build is needed: without that condition the script runs itself again with it.
 */
import { readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import {
  formatWithBiome,
  type JsonSchema,
  loadServerFacts,
  type MediaType,
  type OpenApiDocument,
  type Operation,
  root,
  runWithSourceCondition,
  type ServerFacts,
  writeOrCheck,
} from './openapi-document.ts';

const outFile = join(root, 'docs', 'reference', 'http-api.md');
const errorCodesSource = join(root, 'packages', 'server', 'src', 'errors', 'api-error-code.ts');

const METHODS = ['get', 'post', 'put', 'patch', 'delete'] as const;

/** The TSDoc comment of each key of `API_ERROR_STATUS`, read from its source file. */
function errorCodeDescriptions(): Map<string, string> {
  const text = readFileSync(errorCodesSource, 'utf8');
  const start = text.indexOf('export const API_ERROR_STATUS');
  const end = text.indexOf('} as const', start);
  const body = text.slice(start, end);
  const found = new Map<string, string>();
  for (const match of body.matchAll(/\/\*\*([\s\S]*?)\*\/\s*([A-Z_]+):/g)) {
    const comment = (match[1] ?? '')
      .split('\n')
      .map((line) => line.replace(/^\s*\*\s?/, '').trim())
      .filter((line) => line !== '')
      .join(' ');
    found.set(match[2] ?? '', comment);
  }
  return found;
}

// --- Rendering ------------------------------------------------------------------------------------

/** Escapes text for a Markdown table cell. */
function cell(text: string): string {
  return text.replaceAll('\n', ' ').replaceAll('|', '\\|').trim();
}

function refName(ref: string): string {
  return ref.slice(ref.lastIndexOf('/') + 1);
}

/** A GitHub-style heading anchor for a schema name. */
function schemaAnchor(name: string): string {
  return `schema-${name.toLowerCase()}`;
}

function schemaLink(name: string): string {
  return `[${name}](#${schemaAnchor(name)})`;
}

/** A short type expression for a schema: `string`, `integer \| null`, `"a" \| "b"`, `Content[]`... */
function typeOf(schema: JsonSchema | undefined): string {
  if (schema === undefined) return 'any';
  if (schema.$ref !== undefined) return schemaLink(refName(schema.$ref));
  if (schema.const !== undefined) return `\`${JSON.stringify(schema.const)}\``;
  const variants = schema.anyOf ?? schema.oneOf;
  if (variants !== undefined) return variants.map(typeOf).join(' | ');
  if (schema.allOf !== undefined) return schema.allOf.map(typeOf).join(' & ');
  const types = schema.type === undefined ? [] : Array.isArray(schema.type) ? schema.type : [schema.type];
  if (schema.enum !== undefined) {
    const values = schema.enum.map((value) => `\`${JSON.stringify(value)}\``);
    return types.includes('null') && !schema.enum.includes(null)
      ? [...values, 'null'].join(' | ')
      : values.join(' | ');
  }
  if (types.length === 0) return 'any';
  return types
    .map((type) => {
      if (type === 'array') return `${wrap(typeOf(schema.items))}[]`;
      if (type === 'string' && schema.format !== undefined) return `string (${schema.format})`;
      if (type === 'object' && schema.properties === undefined && schema.additionalProperties !== undefined) {
        return 'object (map)';
      }
      return type;
    })
    .join(' | ');
}

function wrap(type: string): string {
  return type.includes(' | ') ? `(${type})` : type;
}

/** The schema's constraints and default, in words. */
function constraints(schema: JsonSchema): string {
  const parts: string[] = [];
  const range = (min: number | undefined, max: number | undefined, unit: string) => {
    if (min !== undefined && max !== undefined) parts.push(`${min} to ${max}${unit}`);
    else if (min !== undefined) parts.push(`at least ${min}${unit}`);
    else if (max !== undefined) parts.push(`at most ${max}${unit}`);
  };
  range(schema.minLength, schema.maxLength, ' characters');
  range(schema.minimum, schema.maximum, '');
  range(schema.minItems, schema.maxItems, ' items');
  if (schema.pattern !== undefined) parts.push(`pattern \`${schema.pattern}\``);
  if (schema.default !== undefined) parts.push(`default \`${JSON.stringify(schema.default)}\``);
  return parts.join('; ');
}

function describe(schema: JsonSchema): string {
  const limits = constraints(schema);
  const text = schema.description ?? '';
  if (limits === '') return text;
  return text === '' ? `(${limits})` : `${text} (${limits})`;
}

interface FieldRow {
  readonly name: string;
  readonly type: string;
  readonly required: boolean;
  readonly description: string;
}

/**
 * The fields of an object schema, nested objects flattened with dots (`cost.reserved`) and arrays
 * of inline objects with `[]` (`issues[].path`). Named schemas (`$ref`) are linked, not expanded.
 */
function fieldRows(schema: JsonSchema, prefix = '', depth = 0): FieldRow[] {
  const rows: FieldRow[] = [];
  const required = new Set(schema.required ?? []);
  for (const [name, property] of Object.entries(schema.properties ?? {})) {
    const path = `${prefix}${name}`;
    rows.push({
      name: path,
      type: typeOf(property),
      required: required.has(name),
      description: describe(property),
    });
    if (depth >= 3) continue;
    if (property.properties !== undefined && Object.keys(property.properties).length > 0) {
      rows.push(...fieldRows(property, `${path}.`, depth + 1));
    }
    const items = property.items;
    if (items?.properties !== undefined && Object.keys(items.properties).length > 0) {
      rows.push(...fieldRows(items, `${path}[].`, depth + 1));
    }
  }
  return rows;
}

function fieldTable(rows: readonly FieldRow[]): string[] {
  return [
    '| field | type | required | description |',
    '| --- | --- | --- | --- |',
    ...rows.map(
      (row) =>
        `| \`${cell(row.name)}\` | ${cell(row.type)} | ${row.required ? 'yes' : 'no'} | ${cell(row.description)} |`,
    ),
  ];
}

/** Resolves a `$ref` to a component schema (one level), for tables of fields. */
function resolve(document: OpenApiDocument, schema: JsonSchema): { name?: string; schema: JsonSchema } {
  if (schema.$ref === undefined) return { schema };
  const name = refName(schema.$ref);
  const target = document.components?.schemas?.[name];
  if (target === undefined) throw new Error(`Unknown schema ${schema.$ref}`);
  return { name, schema: target };
}

/** Who may call an operation, from the server's public route list and the route's declared answers. */
function authOf(facts: ServerFacts, method: string, path: string, operation: Operation): string {
  const key = `${method.toUpperCase()} ${path}`;
  const needsCaller = operation.responses?.['401'] !== undefined;
  if (facts.publicRoutes.has(key) || (!path.startsWith('/api/') && !needsCaller)) return 'none (public)';
  if (!path.startsWith('/api/')) return 'its own check (see the summary); outside the API middleware';
  if (path.startsWith('/api/admin/')) return 'an admin: session cookie or `Authorization: Bearer vgt_…`';
  return 'a signed-in user: session cookie or `Authorization: Bearer vgt_…`';
}

function bodySummary(content: Readonly<Record<string, MediaType>> | undefined): string {
  if (content === undefined) return '(none)';
  return Object.entries(content)
    .map(([type, media]) => `\`${type}\`${media.schema === undefined ? '' : `: ${typeOf(media.schema)}`}`)
    .join(', ');
}

function operationAnchor(method: string, path: string): string {
  return `${method}-${path}`
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '');
}

/** Renders the whole reference page (before formatting). */
function renderReference(facts: ServerFacts, errorDescriptions: ReadonlyMap<string, string>): string {
  const { document } = facts;
  const operations: { tag: string; method: string; path: string; operation: Operation }[] = [];
  for (const [path, methods] of Object.entries(document.paths)) {
    for (const method of METHODS) {
      const operation = methods[method];
      if (operation !== undefined)
        operations.push({ tag: operation.tags?.[0] ?? 'other', method, path, operation });
    }
  }
  const tags: string[] = [];
  for (const { tag } of operations) if (!tags.includes(tag)) tags.push(tag);

  const out: string[] = [
    '# HTTP API reference',
    '',
    '<!-- Generated by scripts/generate-http-reference.ts from the OpenAPI document: do not edit. -->',
    '',
    `${document.info.title} ${document.info.version} (OpenAPI ${document.openapi}). A running server serves`,
    'the same document at `GET /api/openapi.json`; this page is generated from it by',
    '`npx tsx scripts/generate-http-reference.ts` (CI runs it with `--check`). The guide to the server is',
    '[server.md](../server.md); the security model is [security.md](../security.md).',
    '',
    document.info.description ?? '',
    '',
    '- **Authentication.** Browsers use the session cookie set by sign-up and sign-in (`HttpOnly`,',
    '  `SameSite=Lax`; `Secure` and `__Host-` prefixed over HTTPS); scripts send a personal API token,',
    '  `Authorization: Bearer vgt_…` (create one with `POST /api/user/tokens`). Every `/api` route needs',
    '  one of them except those marked public.',
    '- **Writes from a browser** must carry the server\u2019s `Origin`; a cross-site cookie-authenticated write',
    '  is `403 CSRF_REJECTED`. Bearer requests are not subject to this check.',
    '- **Errors** share one shape, `{ "error": { "code", "message", "details" } }`; the codes are listed',
    '  in [Error codes](#error-codes).',
    '- Also served, outside the document: `GET /api/health` (public, `{ "status": "ok" }`) and',
    '  `GET /api/openapi.json` (public, this document).',
    '',
    '## Routes',
    '',
  ];
  for (const tag of tags) {
    out.push(`- **${tag}**`);
    for (const { method, path, operation } of operations.filter((o) => o.tag === tag)) {
      out.push(
        `  - [\`${method.toUpperCase()} ${path}\`](#${operationAnchor(method, path)}): ${operation.summary ?? ''}`,
      );
    }
  }
  out.push('');

  for (const tag of tags) {
    out.push(`## ${tag.charAt(0).toUpperCase()}${tag.slice(1)}`, '');
    for (const { method, path, operation } of operations.filter((o) => o.tag === tag)) {
      out.push(`<a id="${operationAnchor(method, path)}"></a>`, '');
      out.push(`### \`${method.toUpperCase()} ${path}\``, '');
      if (operation.summary !== undefined) out.push(`${operation.summary}.`, '');
      if (operation.description !== undefined) out.push(operation.description, '');
      out.push(`**Auth:** ${authOf(facts, method, path, operation)}.`, '');

      const parameters = operation.parameters ?? [];
      if (parameters.length > 0) {
        out.push('**Parameters**', '');
        out.push('| name | in | type | required | description |', '| --- | --- | --- | --- | --- |');
        for (const parameter of parameters) {
          const description = describe({
            ...parameter.schema,
            description: parameter.description ?? parameter.schema?.description ?? '',
          });
          out.push(
            `| \`${cell(parameter.name)}\` | ${parameter.in} | ${cell(typeOf(parameter.schema))} | ${parameter.required === true ? 'yes' : 'no'} | ${cell(description)} |`,
          );
        }
        out.push('');
      }

      const body = operation.requestBody;
      if (body !== undefined) {
        for (const [type, media] of Object.entries(body.content ?? {})) {
          if (media.schema === undefined) continue;
          const { name, schema } = resolve(document, media.schema);
          out.push(
            `**Request body** (\`${type}\`${body.required === true ? ', required' : ''}${name === undefined ? '' : `, ${schemaLink(name)}`})`,
            '',
          );
          const rows = fieldRows(schema);
          if (rows.length > 0) out.push(...fieldTable(rows), '');
          else if (schema.description !== undefined) out.push(schema.description, '');
        }
      }

      out.push('**Responses**', '', '| status | description | body |', '| --- | --- | --- |');
      for (const [status, response] of Object.entries(operation.responses ?? {})) {
        out.push(
          `| ${status} | ${cell(response.description ?? '')} | ${cell(bodySummary(response.content))} |`,
        );
      }
      out.push('');
    }
  }

  out.push('## Schemas', '', 'The named request and response bodies the routes above refer to.', '');
  const schemas = document.components?.schemas ?? {};
  for (const name of Object.keys(schemas)) {
    const schema = schemas[name];
    if (schema === undefined) continue;
    out.push(`<a id="${schemaAnchor(name)}"></a>`, '', `### ${name}`, '');
    if (schema.description !== undefined) out.push(schema.description, '');
    const rows = fieldRows(schema);
    if (rows.length > 0) out.push(...fieldTable(rows), '');
    else out.push(`Type: ${typeOf(schema)}.`, '');
  }

  out.push(
    '## Error codes',
    '',
    'Every error answer has the body `{ "error": { "code": "…", "message": "…", "details": { … } } }`. The',
    'message is for people; program against the code. These are all the codes, from `API_ERROR_STATUS` in',
    '`packages/server/src/errors/api-error-code.ts`.',
    '',
    '| code | status | meaning |',
    '| --- | --- | --- |',
  );
  for (const [code, status] of Object.entries(facts.errorStatus)) {
    const description = errorDescriptions.get(code);
    if (description === undefined)
      throw new Error(`API error code ${code} has no TSDoc in ${errorCodesSource}`);
    out.push(`| \`${code}\` | ${status} | ${cell(description)} |`);
  }
  out.push('');
  return `${out
    .join('\n')
    .replace(/\n{3,}/g, '\n\n')
    .trimEnd()}\n`;
}

async function main(): Promise<number> {
  const check = process.argv.includes('--check');
  const facts = await loadServerFacts();
  const text = formatWithBiome(renderReference(facts, errorCodeDescriptions()), outFile);
  const result = await writeOrCheck(outFile, text, check, 'npx tsx scripts/generate-http-reference.ts');
  if (check || result !== 0) return result;
  const routes = Object.values(facts.document.paths).reduce(
    (n, methods) => n + Object.keys(methods).length,
    0,
  );
  console.log(`Wrote ${relative(root, outFile)}: ${routes} operations.`);
  return 0;
}

await runWithSourceCondition(import.meta.url, main);
