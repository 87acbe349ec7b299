/**
 * A V8 CPU profile of this process over a bench phase (through `node:inspector`), and a summary of
 * where its own time went: by area (our packages' folders, each dependency, Node's internals,
 * garbage collection, idle) and by function. The `.cpuprofile` file opens in Chrome's DevTools.
 */
import { Session } from 'node:inspector/promises';

/** The subset of V8's `Profiler.Profile` the summary reads. */
interface Profile {
  readonly nodes: readonly {
    readonly id: number;
    readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number };
  }[];
  readonly samples?: readonly number[];
  readonly timeDeltas?: readonly number[];
}

/** Starts sampling this process (every `intervalUs`); the returned function stops and returns the profile. */
export async function startCpuProfile(intervalUs = 500): Promise<() => Promise<Profile>> {
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: intervalUs });
  await session.post('Profiler.start');
  return async () => {
    const { profile } = (await session.post('Profiler.stop')) as { profile: Profile };
    session.disconnect();
    return profile;
  };
}

/** Self time by area and by function, largest first, as printable lines. */
export function summariseCpuProfile(profile: Profile, top = 15): string[] {
  const frames = new Map(profile.nodes.map((node) => [node.id, node.callFrame]));
  const byArea = new Map<string, number>();
  const byFunction = new Map<string, number>();
  const samples = profile.samples ?? [];
  const deltas = profile.timeDeltas ?? [];
  let total = 0;
  for (let i = 0; i < samples.length; i++) {
    const frame = frames.get(samples[i] ?? -1);
    // Each delta is the time before its sample: it is charged to that sample's frame.
    const ms = (deltas[i] ?? 0) / 1000;
    if (frame === undefined) continue;
    total += ms;
    const area = areaOf(frame.url, frame.functionName);
    byArea.set(area, (byArea.get(area) ?? 0) + ms);
    const name = `${frame.functionName || '(anonymous)'} ${shortUrl(frame.url)}:${frame.lineNumber + 1}`;
    byFunction.set(name, (byFunction.get(name) ?? 0) + ms);
  }
  const list = (map: Map<string, number>) =>
    [...map]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([name, ms]) => `${name} ${ms.toFixed(0)} ms (${((ms / total) * 100).toFixed(1)} %)`);
  return [
    `CPU profile of this process over ${(total / 1000).toFixed(1)} s: by area ${list(byArea).join('; ')}`,
    `by function (self time): ${list(byFunction).join('; ')}`,
  ];
}

function areaOf(url: string, functionName: string): string {
  if (url === '') return functionName.startsWith('(') ? functionName : '(native)';
  const dependency = /node_modules\/(?:\.pnpm\/[^/]+\/node_modules\/)?((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (dependency?.[1] !== undefined) return dependency[1];
  if (url.startsWith('node:')) return url.split('/')[0] ?? url;
  const ours = /packages\/([^/]+)\/(?:src|bench)\/([^/]+)/.exec(url);
  if (ours !== null) return `${ours[1]}/${ours[2]}`;
  return shortUrl(url);
}

function shortUrl(url: string): string {
  const parts = url.split('/');
  return parts.slice(-2).join('/');
}
