import { CREDIT_PRICES, shortVideoTemplate } from '@vidgenie/nodes';
import { expect, it } from 'vitest';
import { createTestApp } from './support/test-app.ts';
import { describeEachDatabase } from './support/test-databases.ts';

describeEachDatabase('workflow runs after a restart', ({ database }) => {
  it('a run accepted by a server that stopped is resumed by the next one and charged once', async () => {
    const first = await createTestApp(database());
    const user = await first.signUp();
    // The first server stops taking runs: the next run is accepted (hold placed, row queued) but not started.
    await first.services.runs.close();
    const accepted = await user.request('POST', '/api/workflow/execute', {
      graph: shortVideoTemplate({ prompt: 'a kite over the dunes', durationSeconds: 8 }),
    });
    expect(accepted.status).toBe(202);
    const { runId } = (await accepted.json()) as { runId: string };
    const price = CREDIT_PRICES.enhance + CREDIT_PRICES.image.medium + CREDIT_PRICES.video[8];
    expect((await first.services.ledger.balance(user.id)).held).toBe(price);

    const second = await createTestApp(database());
    try {
      expect(await second.services.runs.resumeUnfinished()).toBeGreaterThanOrEqual(1);
      const deadline = Date.now() + 60_000;
      let status = 'queued';
      while (['queued', 'running'].includes(status) && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 50));
        const row = await second.services.db
          .selectFrom('runs')
          .select('status')
          .where('id', '=', runId)
          .executeTakeFirstOrThrow();
        status = row.status;
      }
      expect(status).toBe('completed');
      const balance = await second.services.ledger.balance(user.id);
      expect(balance).toMatchObject({ balance: 100 - price, held: 0 });
      const events = await second.services.db
        .selectFrom('run_events')
        .select(['seq', 'type'])
        .where('run_id', '=', runId)
        .orderBy('seq')
        .execute();
      expect(events.map((event) => event.seq)).toEqual(events.map((_, i) => i + 1));
      expect(events.at(-1)?.type).toBe('run.completed');
    } finally {
      await second.services.close();
    }
  });
});
