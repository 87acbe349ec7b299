import type { ProviderCallContext } from '../src/provider/provider-types.ts';

/** A provider call context for tests, recording progress. @internal */
export function provideTestContext(signal: AbortSignal = new AbortController().signal): ProviderCallContext<
  Record<string, never>
> & {
  readonly reports: number[];
} {
  const reports: number[] = [];
  return { config: {}, apiKey: undefined, signal, progress: (fraction) => reports.push(fraction), reports };
}
