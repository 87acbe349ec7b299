import {
  createProviderRegistry,
  defineProvider,
  localProviders,
  type ProviderRegistry,
  type VideoProvider,
} from '@vidgenie/nodes';
import { z } from 'zod';
import type { TestUser } from './test-app.ts';

/** The id of the video provider a test steers with a {@link VideoControl}. */
export const CONTROLLED_VIDEO = 'controlled-video';

/** How the controlled video provider behaves on its next calls. */
export interface VideoControl {
  /** `render`: the local Ken Burns renderer; `fail`: throws; `hold`: waits for {@link release} (or the run's cancel). */
  mode: 'render' | 'fail' | 'hold';
  /** Calls waiting in `hold`. */
  readonly held: number;
  /** Lets every held call render. */
  release(): void;
}

/** The local providers plus `controlled-video`, steered by the returned control. */
export function controlledProviders(): { providers: ProviderRegistry; control: VideoControl } {
  const local = localProviders().find((p): p is VideoProvider => p.kind === 'video');
  if (local === undefined) throw new Error('no local video provider');
  let waiters: (() => void)[] = [];
  const control: VideoControl = {
    mode: 'render',
    get held() {
      return waiters.length;
    },
    release() {
      const released = waiters;
      waiters = [];
      for (const resolve of released) resolve();
    },
  };
  const provider = defineProvider({
    id: CONTROLLED_VIDEO,
    displayName: 'Controlled video',
    kind: 'video',
    local: true,
    config: z.object({}),
    capabilities: local.capabilities,
    price: (request) => local.price(request),
    generate: async (request, ctx) => {
      if (control.mode === 'fail') throw new Error('the controlled video provider failed on purpose');
      if (control.mode === 'hold') {
        await new Promise<void>((resolve, reject) => {
          waiters.push(resolve);
          ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason), { once: true });
        });
      }
      return local.generate(request, { ...ctx, config: {} });
    },
  });
  return { providers: createProviderRegistry([...localProviders(), provider]), control };
}

/** A run as the status route reports it. */
export interface RunStatusBody {
  status: string;
  nodes: { nodeId: string; status: string; output: unknown }[];
}

/** The status route's answer for a run. */
export async function runStatus(user: TestUser, runId: string): Promise<RunStatusBody> {
  const response = await user.request('GET', `/api/workflow/status/${runId}`);
  if (response.status !== 200) throw new Error(`status of ${runId}: ${response.status}`);
  return (await response.json()) as RunStatusBody;
}

/** Polls until `done` holds for the run (or until it times out). */
export async function waitForRun(
  user: TestUser,
  runId: string,
  done: (run: RunStatusBody) => boolean,
  timeoutMs = 90_000,
): Promise<RunStatusBody> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const run = await runStatus(user, runId);
    if (done(run)) return run;
    if (Date.now() > deadline) throw new Error(`run ${runId} still ${run.status}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Whether a run has ended. */
export const hasEnded = (run: RunStatusBody): boolean => !['queued', 'running'].includes(run.status);

/** Polls until a condition holds. */
export async function waitUntil<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  timeoutMs = 30_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
