// @ts-check
/**
 * A TypeDoc plugin: names each entry point's module after the import it documents
 * (`packages/engine/src/testing/index.ts` is `@vidgenie/engine/testing`) instead of its folder
 * (`engine/src/testing`), which is what TypeDoc derives from the paths.
 */
import { Converter } from 'typedoc';

/**
 * @param {string} name The name TypeDoc gave the module, e.g. `engine/src/testing`.
 * @returns {string} The package import, e.g. `@vidgenie/engine/testing`.
 */
export function importName(name) {
  const match = /^(\w+)\/src(\/\w+)?$/.exec(name);
  return match === null ? name : `@vidgenie/${match[1]}${match[2] ?? ''}`;
}

/** @param {import('typedoc').Application} app */
export function load(app) {
  app.converter.on(Converter.EVENT_RESOLVE_BEGIN, (context) => {
    for (const module of context.project.children ?? []) module.name = importName(module.name);
  });
}
