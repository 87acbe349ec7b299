import { atom } from 'jotai';
import type { ProviderKeys } from '../api/api-types.ts';
import { graphAtom } from '../atoms/graph.ts';
import { providerKeysAtom } from '../atoms/keys.ts';
import type { WorkflowGraphInput } from './graph-types.ts';
import type { LocalIssue } from './validate-graph.ts';

/** Checks a graph for the providers of the loaded keys (`null`: not loaded yet). */
type Validate = (graph: WorkflowGraphInput, keys: ProviderKeys | null) => readonly LocalIssue[];

/**
 * zod (under the engine's validation) compiles parsers with `new Function` unless `jitless` is
 * set, and probes for it when its first object schema is made: under the app's CSP (no
 * 'unsafe-eval') that probe logs a violation. zod reads its global config from
 * `globalThis.__zod_globalConfig` (what `z.config` writes), so it is set before zod loads.
 */
const zodConfig = globalThis as { __zod_globalConfig?: { jitless?: boolean } };
zodConfig.__zod_globalConfig ??= {};
zodConfig.__zod_globalConfig.jitless = true;

/**
 * The engine's validation (the engine, zod and the nodes' schemas: some 48 kB gzipped) is loaded
 * apart from the first page, from the moment the app starts. Should the chunk fail to load, the
 * canvas shows no local issues and the server's validation (400 with node ids) takes over.
 */
const loading: Promise<Validate> = Promise.all([
  import('./validate-with-engine.ts'),
  import('./validation-registry.ts'),
]).then(
  ([{ validateWithEngine }, { validationRegistryFor }]): Validate =>
    (graph, keys) =>
      validateWithEngine(graph, validationRegistryFor(keys)),
  (): Validate => () => [],
);

/** The engine-backed validator once loaded, `null` before. */
let loaded: Validate | null = null;

/** Resolves once the engine's validation is loaded (or failed to load): tests await it. */
export const graphValidationLoaded: Promise<void> = loading.then((validate) => {
  loaded = validate;
});

/**
 * Bumped when the validation has loaded, so stores that read it before recompute. Always, even if
 * it is loaded by the time this mounts: a value read during the first render (before the mount)
 * may date from before the load, and nothing else would make it read `loaded` again.
 */
const loadedVersionAtom = atom(0);
loadedVersionAtom.onMount = (set) => {
  void graphValidationLoaded.then(() => set((version) => version + 1));
};

const validatorAtom = atom((get) => {
  get(loadedVersionAtom);
  return loaded;
});

/**
 * Whether the engine's validation is loaded: until then {@link graphIssuesAtom} is empty, so
 * nothing that needs a valid graph (the estimate) should be sent yet.
 */
export const graphValidationReadyAtom = atom((get) => get(validatorAtom) !== null);

/**
 * The graph's problems found in the browser by the engine's own `validateGraph` (recomputed on
 * every edit), each on its node; provider ids are checked once the provider keys are loaded.
 * Empty until the validation is loaded (see {@link graphValidationReadyAtom}).
 */
export const graphIssuesAtom = atom((get): readonly LocalIssue[] => {
  const validate = get(validatorAtom);
  return validate === null ? [] : validate(get(graphAtom), get(providerKeysAtom));
});
