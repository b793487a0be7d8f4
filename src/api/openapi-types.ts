/** The shape of an OpenAPI 3.1 document, as much of it as src/api/openapi.ts uses. */

/** A JSON Schema (2020-12, as OpenAPI 3.1 uses it), loosely typed: the test validates it with Ajv. */
export type JsonSchema = { readonly [keyword: string]: unknown };

interface MediaType {
  readonly schema: JsonSchema;
}

export interface Response {
  readonly description: string;
  readonly headers?: Readonly<Record<string, { readonly description: string; readonly schema: JsonSchema }>>;
  readonly content?: Readonly<Record<string, MediaType>>;
}

interface Operation {
  readonly operationId: string;
  readonly summary: string;
  readonly description?: string;
  readonly tags: readonly string[];
  readonly parameters?: ReadonlyArray<{ readonly $ref: string }>;
  readonly requestBody?: { readonly required: boolean; readonly content: Readonly<Record<string, MediaType>> };
  /** Status code → response, or a `$ref` to one of `components.responses`. */
  readonly responses: Readonly<Record<string, Response | { readonly $ref: string }>>;
}

export type HttpMethod = "get" | "post" | "put" | "patch" | "delete";

export interface OpenApiDocument {
  readonly openapi: "3.1.0";
  readonly info: { readonly title: string; readonly version: string; readonly description: string; readonly license: { readonly name: string; readonly identifier: string } };
  readonly tags: ReadonlyArray<{ readonly name: string; readonly description: string }>;
  readonly paths: Readonly<Record<string, Partial<Record<HttpMethod, Operation>>>>;
  readonly components: {
    readonly schemas: Readonly<Record<string, JsonSchema>>;
    readonly parameters: Readonly<Record<string, unknown>>;
    readonly responses: Readonly<Record<string, Response>>;
  };
}
