/**
 * Types that read one operation of the generated OpenAPI `paths` (`openapi-types.ts`): its success
 * body, request body, query and path parameters. The typed client ({@link request} in
 * `api-client.ts`) and the named shapes in `api-types.ts` are built on them.
 */
import type { paths } from './openapi-types.ts';

/** An HTTP method the app calls, as the OpenAPI document spells it. */
export type ApiMethod = 'get' | 'post' | 'put' | 'delete';

/** The paths of the document that answer `method`. */
export type PathWith<M extends ApiMethod> = {
  [P in keyof paths]: paths[P][M] extends undefined ? never : P;
}[keyof paths];

/** The operation `method path` of the document. */
export type OperationOf<P extends PathWith<M>, M extends ApiMethod> = NonNullable<paths[P][M]>;

type JsonOf<R> = R extends { readonly content: { readonly 'application/json': infer B } } ? B : undefined;

/**
 * The JSON body of the success answer of `method path` (its 200, 201 or 202), or `undefined` when
 * it answers 204 No Content.
 */
export type ResponseOf<P extends PathWith<M>, M extends ApiMethod> = OperationOf<
  P,
  M
>['responses'] extends infer R
  ? R extends { readonly 200: infer S }
    ? JsonOf<S>
    : R extends { readonly 201: infer S }
      ? JsonOf<S>
      : R extends { readonly 202: infer S }
        ? JsonOf<S>
        : undefined
  : never;

/** The JSON request body of `method path`, or `never` when it takes none. */
export type RequestBodyOf<P extends PathWith<M>, M extends ApiMethod> =
  OperationOf<P, M> extends { readonly requestBody?: infer B } ? Exclude<JsonOf<B>, undefined> : never;

/** The query parameters of `method path`, or `never` when it takes none. */
export type QueryOf<P extends PathWith<M>, M extends ApiMethod> = NonNullable<
  OperationOf<P, M>['parameters']['query']
>;

/** The path parameters of `method path` (`{ runId: string }`), or `never` when it has none. */
export type PathParamsOf<P extends PathWith<M>, M extends ApiMethod> = NonNullable<
  OperationOf<P, M>['parameters']['path']
>;
