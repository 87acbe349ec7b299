import { expect, it } from 'vitest';
import { createSessionFinder } from '../src/accounts/session-finder.ts';
import { createSession, SESSION_ABSOLUTE_MS, SESSION_IDLE_MS } from '../src/accounts/sessions.ts';
import { countStatements } from './support/count-statements.ts';
import { insertUser } from './support/ledger-fixtures.ts';
import { describeEachDatabase } from './support/test-databases.ts';

const MINUTE = 60_000;

describeEachDatabase('finding sessions', ({ db }) => {
  it('lookups made at once share statements; each gets its own user, and none for a dead token', async () => {
    const now = new Date();
    const users = [await insertUser(db()), await insertUser(db(), { role: 'admin' }), await insertUser(db())];
    const tokens = await Promise.all(users.map((userId) => createSession(db(), { userId, now })));
    const expiredUser = await insertUser(db());
    const expired = await createSession(db(), {
      userId: expiredUser,
      now: new Date(now.getTime() - SESSION_IDLE_MS),
    });
    const { db: counted, count: statements } = countStatements(db());
    const findSession = createSessionFinder(counted);

    const found = await Promise.all(
      [...tokens, 'not-a-token', expired, ...tokens].map((token) => findSession({ token, now })),
    );
    // The first two went at once (two statements in flight at most); the others came meanwhile.
    expect(statements()).toBeLessThanOrEqual(3);
    const expected = [
      { userId: users[0], role: 'user' },
      { userId: users[1], role: 'admin' },
      { userId: users[2], role: 'user' },
    ];
    expect(found).toEqual([...expected, undefined, undefined, ...expected]);
  });

  it('slides the idle expiry of a session used after five minutes, never past its absolute lifetime', async () => {
    const signedIn = new Date('2030-01-15T12:00:00.000Z');
    const userId = await insertUser(db());
    const token = await createSession(db(), { userId, now: signedIn });
    const findSession = createSessionFinder(db());
    const expiryOf = async () =>
      (
        await db()
          .selectFrom('sessions')
          .select('expires_at')
          .where('user_id', '=', userId)
          .executeTakeFirstOrThrow()
      ).expires_at;

    // Used again within five minutes: no write.
    expect(await findSession({ token, now: new Date(signedIn.getTime() + 4 * MINUTE) })).toEqual({
      userId,
      role: 'user',
    });
    expect((await expiryOf()).getTime()).toBe(signedIn.getTime() + SESSION_IDLE_MS);

    // Used every six days: each use slides the expiry seven days on, until the 30-day lifetime stops it.
    const day = 24 * 3600_000;
    for (const days of [6, 12, 18]) {
      const at = new Date(signedIn.getTime() + days * day);
      expect(await findSession({ token, now: at })).toEqual({ userId, role: 'user' });
      expect((await expiryOf()).getTime()).toBe(at.getTime() + SESSION_IDLE_MS);
    }
    expect(await findSession({ token, now: new Date(signedIn.getTime() + 24 * day) })).toEqual({
      userId,
      role: 'user',
    });
    expect((await expiryOf()).getTime()).toBe(signedIn.getTime() + SESSION_ABSOLUTE_MS);
    expect(
      await findSession({ token, now: new Date(signedIn.getTime() + SESSION_ABSOLUTE_MS) }),
    ).toBeUndefined();
  });
});
