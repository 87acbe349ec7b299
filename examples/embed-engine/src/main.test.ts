import * as engineFromPackage from '@vidgenie/engine';
import { describe, expect, it } from 'vitest';
import * as engineFromSource from '../../../packages/engine/src/index.ts';
import { type DemoSummary, main } from './main.ts';

describe('the embedding demo', () => {
  // One run of the whole program, shared by the assertions below.
  const lines: string[] = [];
  const summary: Promise<DemoSummary> = main({ log: (line) => lines.push(line) });

  it('resolves @vidgenie/engine to its TypeScript sources under Vitest', () => {
    // Same module instance as the source entry point, so not `dist/`.
    expect(engineFromPackage.createEngine).toBe(engineFromSource.createEngine);
  });

  it('reports every validation issue of the broken graph and estimates the good one', async () => {
    const s = await summary;
    expect(s.invalidIssueCodes).toEqual([
      'INVALID_CONFIG',
      'UNKNOWN_NODE_TYPE',
      'UNKNOWN_PORT',
      'REQUIRED_INPUT_MISSING',
    ]);
    expect(s.estimate).toBe(5);
  });

  it('completes the first run and charges its estimate', async () => {
    const { first } = await summary;
    expect(first).toMatchObject({ status: 'completed', captured: 5, firstSeq: 1 });
    expect([...first.nodesStarted].sort()).toEqual(['card', 'subtitle', 'title']);
    expect(lines.join('\n')).toContain('EMBEDDING VIDGENIE!');
  });

  it('resumes the crashed run without running completed nodes again', async () => {
    const { crash, resumed } = await summary;
    expect([...crash.completedBeforeCrash].sort()).toEqual(['subtitle', 'title']);
    expect(resumed.status).toBe('completed');
    // Only the node that was in flight ran again, and only once.
    expect(resumed.nodesStarted).toEqual(['card']);
    // Event numbering continues where the host's stored events stopped.
    expect(resumed.firstSeq).toBe(crash.lastSeq + 1);
    expect(resumed.captured).toBe(5);
  });

  it('re-attaches the resumed node to its render job instead of submitting another', async () => {
    const s = await summary;
    expect(s.farmSubmissions).toBe(2);
  });

  it('fences off the frozen process when it wakes up', async () => {
    const { zombie } = await summary;
    expect(zombie).toEqual({ status: 'failed', errorCode: 'STALE_FENCE' });
  });

  it('refuses a run the account cannot afford before any node runs', async () => {
    const { refused } = await summary;
    expect(refused).toMatchObject({ status: 'failed', errorCode: 'INSUFFICIENT_CREDITS', captured: 0 });
    expect(refused.nodesStarted).toEqual([]);
  });

  it('keeps the ledger consistent: each node charged once, no open holds', async () => {
    const { ledger, first, resumed, estimate } = await summary;
    const keys = Object.keys(ledger.captureRequests).sort();
    expect(keys).toEqual(
      ['demo-run-1', 'demo-run-2'].flatMap((run) => ['card', 'subtitle', 'title'].map((n) => `${run}:${n}`)),
    );
    for (const count of Object.values(ledger.captureRequests)) expect(count).toBe(1);
    expect(ledger.held).toBe(0);
    expect(ledger.available).toBe(ledger.balance);
    expect(ledger.balance).toBe(ledger.startingBalance - first.captured - resumed.captured);
    expect(ledger.balance).toBe(ledger.startingBalance - 2 * estimate);
  });
});
