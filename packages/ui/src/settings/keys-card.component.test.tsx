// @vitest-environment happy-dom
import { cleanup, fireEvent, screen, waitFor, within } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { KeyStatus, ProviderKey, ProviderKeySlot } from '../api/api-types.ts';
import { providerKeysAtom } from '../atoms/keys.ts';
import type { Language } from '../i18n/translate.ts';
import { renderWithProviders } from '../test-support/render-with-providers.tsx';
import { KeysCard } from './keys-card.tsx';

/** A request the card sent. */
interface SentRequest {
  readonly method: string;
  readonly path: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: unknown;
}

/** What `POST …/test` answers next (the server's three outcomes, each with a reason). */
interface TestOutcome {
  readonly status: KeyStatus;
  readonly reason: string | null;
}

/**
 * An in-test stand-in for the vault routes of `packages/server/src/vault/vault-routes.ts`, with the
 * same shapes: `GET /api/user/api-keys` → `{ keys, slots }`; `PUT /api/user/api-keys/{id}` with
 * `{ key }` → the masked entry (trimmed, last four only for keys of 12+ characters, `unchecked`),
 * 400 `VALIDATION_FAILED` for a bad key; `DELETE` → 204, or 404 `NOT_FOUND`; `POST …/test` → the
 * entry with its new status and reason. Keys are kept in full only to check what the card was sent.
 */
class FakeVault {
  readonly requests: SentRequest[] = [];
  readonly keys = new Map<string, ProviderKey>();
  nextTest: TestOutcome = { status: 'valid', reason: 'OpenAI accepted this key.' };
  listFailure: { status: number; code: string; message: string } | null = null;
  private held: Promise<void> | null = null;
  private releaseHeld: (() => void) | null = null;

  constructor(readonly slots: readonly ProviderKeySlot[]) {}

  /** Holds the next answers until `release()`, to see the card while it waits. */
  hold(): () => void {
    this.held = new Promise((resolve) => {
      this.releaseHeld = resolve;
    });
    return () => {
      this.releaseHeld?.();
      this.held = null;
    };
  }

  /** A saved key, as the server would list it. */
  seed(entry: Partial<ProviderKey> & { readonly providerId: string }): void {
    const slot = this.slotOf(entry.providerId);
    this.keys.set(entry.providerId, {
      label: slot?.label ?? entry.providerId,
      lastFour: 'x7Qa',
      status: 'unchecked',
      statusReason: null,
      checkedAt: null,
      updatedAt: '2026-11-20T09:00:00.000Z',
      providers: slot?.providers.map((provider) => provider.id) ?? [],
      ...entry,
    });
  }

  readonly fetch = async (input: RequestInfo | URL, init: RequestInit = {}): Promise<Response> => {
    const path = typeof input === 'string' ? input : input instanceof URL ? input.pathname : input.url;
    const method = (init.method ?? 'GET').toUpperCase();
    const headers = Object.fromEntries(new Headers(init.headers).entries());
    const body = typeof init.body === 'string' ? (JSON.parse(init.body) as unknown) : undefined;
    this.requests.push({ method, path, headers, body });
    if (this.held) await this.held;
    return this.answer(method, path, body);
  };

  private slotOf(providerId: string) {
    return this.slots.find((slot) => slot.providerId === providerId);
  }

  private answer(method: string, path: string, body: unknown): Response {
    if (method === 'GET' && path === '/api/user/api-keys') {
      if (this.listFailure) {
        const { status, ...error } = this.listFailure;
        return json(status, { error });
      }
      return json(200, { keys: [...this.keys.values()], slots: this.slots });
    }
    const match = /^\/api\/user\/api-keys\/([^/]+)(\/test)?$/.exec(path);
    const providerId = match?.[1] === undefined ? undefined : decodeURIComponent(match[1]);
    const slot = providerId === undefined ? undefined : this.slotOf(providerId);
    if (providerId === undefined || slot === undefined)
      return json(400, { error: { code: 'VALIDATION_FAILED', message: 'Unknown provider key name.' } });
    const saved = this.keys.get(providerId);
    const now = '2026-11-26T10:00:00.000Z';
    if (method === 'PUT' && match?.[2] === undefined) {
      const raw = typeof body === 'object' && body !== null ? Reflect.get(body, 'key') : undefined;
      const key = typeof raw === 'string' ? raw.trim() : '';
      const problem =
        key === ''
          ? `Enter your ${slot.label}.`
          : /\s/.test(key)
            ? `This ${slot.label} contains spaces or invisible characters: paste it again without them.`
            : undefined;
      if (problem !== undefined)
        return json(400, {
          error: {
            code: 'VALIDATION_FAILED',
            message: problem,
            details: { issues: [{ path: 'key', message: problem }] },
          },
        });
      const characters = [...key];
      const entry: ProviderKey = {
        providerId,
        label: slot.label,
        lastFour: characters.length < 12 ? '' : characters.slice(-4).join(''),
        status: 'unchecked',
        statusReason: null,
        checkedAt: null,
        updatedAt: now,
        providers: slot.providers.map((provider) => provider.id),
      };
      this.keys.set(providerId, entry);
      return json(200, entry);
    }
    if (saved === undefined)
      return json(404, {
        error: { code: 'NOT_FOUND', message: `No ${slot.label} is saved.`, details: { providerId } },
      });
    if (method === 'DELETE' && match?.[2] === undefined) {
      this.keys.delete(providerId);
      return new Response(null, { status: 204 });
    }
    if (method === 'POST' && match?.[2] === '/test') {
      const entry: ProviderKey = {
        ...saved,
        status: this.nextTest.status,
        statusReason: this.nextTest.reason,
        checkedAt: now,
      };
      this.keys.set(providerId, entry);
      return json(200, entry);
    }
    return json(404, { error: { code: 'NOT_FOUND', message: 'No such route.' } });
  }
}

const json = (status: number, body: unknown): Response =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });

const SLOTS: readonly ProviderKeySlot[] = [
  {
    providerId: 'openai',
    label: 'OpenAI key',
    providers: [
      { id: 'openai-text', displayName: 'OpenAI', kind: 'text' },
      { id: 'openai-image', displayName: 'OpenAI Images', kind: 'image' },
    ],
    testable: true,
  },
  {
    providerId: 'runway',
    label: 'Runway key',
    providers: [{ id: 'runway-video', displayName: 'Runway', kind: 'video' }],
    testable: false,
  },
];

const FULL_KEY = 'sk-proj-SECRET0123456789wxyz';

let vault: FakeVault;

beforeEach(() => {
  vault = new FakeVault(SLOTS);
  vi.stubGlobal('fetch', vault.fetch);
});

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

/** Renders the card and waits for the key list. */
async function renderCard(language: Language = 'en') {
  const rendered = renderWithProviders(<KeysCard />, { language });
  await screen.findAllByRole('button', { name: language === 'en' ? 'Save' : 'Enregistrer' });
  return rendered;
}

/** One provider's row of the card. */
const rowOf = (providerId: string): HTMLElement => {
  const row = document.querySelector<HTMLElement>(`.key-row[data-provider="${providerId}"]`);
  if (row === null) throw new Error(`No row for ${providerId}`);
  return row;
};

/** A row's key field, found by its label (the slot's label, e.g. "OpenAI key"). */
const inputOf = (providerId: string): HTMLInputElement => {
  const label = SLOTS.find((slot) => slot.providerId === providerId)?.label ?? providerId;
  return within(rowOf(providerId)).getByLabelText(new RegExp(`^${label}`)) as HTMLInputElement;
};
const buttonOf = (providerId: string, name: string | RegExp) =>
  within(rowOf(providerId)).getByRole('button', { name }) as HTMLButtonElement;

describe('KeysCard: the list', () => {
  it('loads the keys from the API and shows one labelled row per slot', async () => {
    renderWithProviders(<KeysCard />);
    expect(screen.getByText('Loading…')).toBeTruthy();
    expect(screen.getByRole('heading', { name: 'Your API keys' })).toBeTruthy();
    await screen.findByLabelText(/OpenAI key/);
    expect(screen.queryByText('Loading…')).toBeNull();
    expect(vault.requests).toEqual([
      expect.objectContaining({ method: 'GET', path: '/api/user/api-keys', body: undefined }),
    ]);
    const label = rowOf('openai').querySelector('label')?.textContent;
    expect(label).toBe('OpenAI key · OpenAI, OpenAI Images');
    expect(screen.getByLabelText(/Runway key/)).toBeTruthy();
    expect(inputOf('openai').placeholder).toBe('Paste your key');
  });

  it('shows a saved key by its last four characters and its status, never more', async () => {
    vault.seed({
      providerId: 'openai',
      lastFour: 'x7Qa',
      status: 'valid',
      statusReason: 'OpenAI accepted this key.',
    });
    await renderCard();
    expect(
      within(rowOf('openai')).getByText('Saved key ••••x7Qa · Valid: the provider accepted this key.'),
    ).toBeTruthy();
    expect(inputOf('openai').value).toBe('');
    expect(inputOf('openai').placeholder).toBe('Paste a new key to replace it');
    expect(rowOf('runway').querySelector('.key-row__saved')).toBeNull();
  });

  it('says why the keys could not be loaded', async () => {
    vault.listFailure = { status: 401, code: 'UNAUTHENTICATED', message: 'Log in to see your keys.' };
    renderWithProviders(<KeysCard />);
    expect((await screen.findByRole('alert')).textContent).toBe('Log in to see your keys.');
    expect(screen.queryByText('Loading…')).toBeNull();
  });

  it('says when the server cannot be reached', async () => {
    vi.stubGlobal('fetch', () => Promise.reject(new TypeError('Failed to fetch')));
    renderWithProviders(<KeysCard />);
    expect((await screen.findByRole('alert')).textContent).toBe(
      'The server could not be reached. Check your connection and try again.',
    );
  });
});

describe('KeysCard: masking', () => {
  it('masks the key by default and the eye button shows and hides it, with a label saying so', async () => {
    const { user } = await renderCard();
    const input = inputOf('openai');
    expect(input.type).toBe('password');
    expect(input.autocomplete).toBe('off');
    const show = buttonOf('openai', 'Show key');
    expect(show.getAttribute('aria-pressed')).toBe('false');
    await user.type(input, FULL_KEY);
    await user.click(show);
    expect(input.type).toBe('text');
    expect(input.value).toBe(FULL_KEY);
    const hide = buttonOf('openai', 'Hide key');
    expect(hide).toBe(show);
    expect(hide.getAttribute('aria-pressed')).toBe('true');
    await user.click(hide);
    expect(input.type).toBe('password');
    expect(buttonOf('openai', 'Show key').getAttribute('aria-pressed')).toBe('false');
    // Each row has its own toggle.
    expect(inputOf('runway').type).toBe('password');
  });

  it('labels the eye button in French too', async () => {
    const { user } = await renderCard('fr');
    await user.click(buttonOf('openai', 'Afficher la clé'));
    expect(buttonOf('openai', 'Masquer la clé')).toBeTruthy();
  });
});

describe('KeysCard: saving', () => {
  it('cannot save an empty key', async () => {
    const { user } = await renderCard();
    expect(buttonOf('openai', 'Save').disabled).toBe(true);
    await user.type(inputOf('openai'), '   ');
    expect(buttonOf('openai', 'Save').disabled).toBe(true);
    expect(buttonOf('openai', 'Test').disabled).toBe(true);
    expect(buttonOf('openai', 'Delete').disabled).toBe(true);
  });

  it('PUTs the key, then shows only its last four characters and clears the field', async () => {
    const { user, store } = await renderCard();
    await user.type(inputOf('openai'), FULL_KEY);
    const release = vault.hold();
    await user.click(buttonOf('openai', 'Save'));
    // While the server answers: "Saving…", and no second action.
    expect(buttonOf('openai', 'Saving…').disabled).toBe(true);
    expect(buttonOf('openai', 'Delete').disabled).toBe(true);
    release();
    expect((await within(rowOf('openai')).findByRole('status')).textContent).toBe('Saved (ending in wxyz).');

    const put = vault.requests.at(-1);
    expect(put).toEqual({
      method: 'PUT',
      path: '/api/user/api-keys/openai',
      headers: expect.objectContaining({ 'content-type': 'application/json', accept: 'application/json' }),
      body: { key: FULL_KEY },
    });
    expect(within(rowOf('openai')).getByText('Saved key ••••wxyz · Saved, not tested yet.')).toBeTruthy();
    expect(inputOf('openai').value).toBe('');
    expect(inputOf('openai').placeholder).toBe('Paste a new key to replace it');
    expect(buttonOf('openai', 'Save').disabled).toBe(true);
    expect(buttonOf('openai', 'Test').disabled).toBe(false);
    expect(buttonOf('openai', 'Delete').disabled).toBe(false);
    // The full key is nowhere on the page, nor in the app's state.
    expect(document.body.innerHTML).not.toContain(FULL_KEY);
    expect(document.body.innerHTML).not.toContain('SECRET');
    expect(JSON.stringify(store.get(providerKeysAtom))).not.toContain('SECRET');
  });

  it('does not leak the key even after it was shown in clear', async () => {
    const { user } = await renderCard();
    await user.click(buttonOf('openai', 'Show key'));
    await user.type(inputOf('openai'), FULL_KEY);
    await user.click(buttonOf('openai', 'Save'));
    await within(rowOf('openai')).findByText('Saved (ending in wxyz).');
    expect(inputOf('openai').value).toBe('');
    expect(document.body.innerHTML).not.toContain('SECRET');
  });

  it('replaces a saved key', async () => {
    vault.seed({ providerId: 'openai', lastFour: 'x7Qa', status: 'valid' });
    const { user } = await renderCard();
    await user.type(inputOf('openai'), 'sk-proj-another-key-9876');
    await user.click(buttonOf('openai', 'Save'));
    await within(rowOf('openai')).findByText('Saved (ending in 9876).');
    expect(within(rowOf('openai')).getByText('Saved key ••••9876 · Saved, not tested yet.')).toBeTruthy();
    expect(within(rowOf('openai')).queryByText(/x7Qa/)).toBeNull();
  });

  it('shows the server’s reason when it refuses a key, and keeps what was typed', async () => {
    const { user } = await renderCard();
    await user.type(inputOf('openai'), 'sk-proj with-a-space-1234');
    await user.click(buttonOf('openai', 'Save'));
    // A failure is an alert (announced at once), never a polite status.
    const message = await within(rowOf('openai')).findByRole('alert');
    expect(message.textContent).toBe(
      'This OpenAI key contains spaces or invisible characters: paste it again without them.',
    );
    expect(message.classList.contains('alert--error')).toBe(true);
    expect(within(rowOf('openai')).queryByRole('status')).toBeNull();
    expect(rowOf('openai').querySelector('.key-row__saved')).toBeNull();
    expect(inputOf('openai').value).toBe('sk-proj with-a-space-1234');
  });
});

/** The requests the card sent besides the first list (`GET /api/user/api-keys`). */
const sentAfterList = () => vault.requests.filter((sent) => sent.method !== 'GET');

describe('KeysCard: saving automatically', () => {
  it('saves a typed key once when the field is left, shows its last four and clears the field', async () => {
    const { user } = await renderCard();
    await user.type(inputOf('runway'), 'rw-key-0123456789-Kb3Z');
    await user.click(document.body);
    expect((await within(rowOf('runway')).findByRole('status')).textContent).toBe('Saved (ending in Kb3Z).');
    expect(within(rowOf('runway')).getByText('Saved key ••••Kb3Z · Saved, not tested yet.')).toBeTruthy();
    expect(inputOf('runway').value).toBe('');
    // Leaving the (now empty) field again sends nothing more; a slot no provider can check is not tested.
    await user.click(inputOf('runway'));
    await user.click(document.body);
    expect(sentAfterList()).toEqual([
      expect.objectContaining({
        method: 'PUT',
        path: '/api/user/api-keys/runway',
        body: { key: 'rw-key-0123456789-Kb3Z' },
      }),
    ]);
  });

  it('saves on Enter', async () => {
    const { user } = await renderCard();
    await user.type(inputOf('runway'), 'rw-key-0123456789-Kb3Z{Enter}');
    await within(rowOf('runway')).findByText('Saved key ••••Kb3Z · Saved, not tested yet.');
    expect(inputOf('runway').value).toBe('');
    expect(sentAfterList()).toEqual([
      expect.objectContaining({ method: 'PUT', path: '/api/user/api-keys/runway' }),
    ]);
  });

  it('sends nothing when an empty or blank field is left', async () => {
    const { user } = await renderCard();
    await user.click(inputOf('openai'));
    await user.click(document.body);
    await user.type(inputOf('openai'), '   ');
    await user.click(document.body);
    await user.type(inputOf('openai'), '{Enter}');
    expect(sentAfterList()).toEqual([]);
    expect(within(rowOf('openai')).queryByRole('status')).toBeNull();
    expect(within(rowOf('openai')).queryByRole('alert')).toBeNull();
  });

  it('tests a key saved automatically when its provider can check it, and shows the result', async () => {
    vault.nextTest = { status: 'valid', reason: 'OpenAI accepted this key.' };
    const { user } = await renderCard();
    await user.type(inputOf('openai'), FULL_KEY);
    const release = vault.hold();
    await user.click(document.body);
    expect(buttonOf('openai', 'Saving…').disabled).toBe(true);
    release();
    const message = await within(rowOf('openai')).findByText('OpenAI accepted this key.');
    expect(message.getAttribute('role')).toBe('status');
    expect(message.classList.contains('alert--ok')).toBe(true);
    expect(
      within(rowOf('openai')).getByText('Saved key ••••wxyz · Valid: the provider accepted this key.'),
    ).toBeTruthy();
    expect(sentAfterList().map((sent) => `${sent.method} ${sent.path}`)).toEqual([
      'PUT /api/user/api-keys/openai',
      'POST /api/user/api-keys/openai/test',
    ]);
    expect(buttonOf('openai', 'Test').disabled).toBe(false);
    expect(document.body.innerHTML).not.toContain('SECRET');
  });

  it('says in words when the automatic test finds the key refused', async () => {
    vault.nextTest = { status: 'invalid', reason: 'OpenAI rejected this key: check it or create a new one.' };
    const { user } = await renderCard();
    await user.type(inputOf('openai'), `${FULL_KEY}{Enter}`);
    const alert = await within(rowOf('openai')).findByRole('alert');
    expect(alert.textContent).toBe('OpenAI rejected this key: check it or create a new one.');
    expect(
      within(rowOf('openai')).getByText(
        'Saved key ••••wxyz · Rejected: the provider refused this key. Paste a new one.',
      ),
    ).toBeTruthy();
  });

  it('saves once when Save is clicked: the click, not the field losing focus, saves (and does not test)', async () => {
    const { user } = await renderCard();
    await user.type(inputOf('openai'), FULL_KEY);
    await user.click(buttonOf('openai', 'Save'));
    await within(rowOf('openai')).findByText('Saved (ending in wxyz).');
    await user.click(document.body);
    expect(sentAfterList()).toEqual([
      expect.objectContaining({ method: 'PUT', path: '/api/user/api-keys/openai', body: { key: FULL_KEY } }),
    ]);
    expect(within(rowOf('openai')).getByText('Saved key ••••wxyz · Saved, not tested yet.')).toBeTruthy();
  });

  it('saves once when the focus moves to Save before the click', async () => {
    await renderCard();
    fireEvent.change(inputOf('openai'), { target: { value: FULL_KEY } });
    const save = buttonOf('openai', 'Save');
    fireEvent.blur(inputOf('openai'), { relatedTarget: save });
    fireEvent.click(save);
    await within(rowOf('openai')).findByText('Saved (ending in wxyz).');
    expect(sentAfterList()).toEqual([expect.objectContaining({ method: 'PUT' })]);
  });

  it('saves once when the field is left and Save clicked while the first save is on its way', async () => {
    const { user } = await renderCard();
    await user.type(inputOf('runway'), 'rw-key-0123456789-Kb3Z');
    const release = vault.hold();
    fireEvent.blur(inputOf('runway'));
    fireEvent.click(buttonOf('runway', /Sav/));
    fireEvent.keyDown(inputOf('runway'), { key: 'Enter' });
    release();
    await within(rowOf('runway')).findByText('Saved (ending in Kb3Z).');
    expect(sentAfterList()).toEqual([expect.objectContaining({ method: 'PUT' })]);
    expect(inputOf('runway').value).toBe('');
  });

  it('does not send a refused key again each time the field is left; Enter or Save retries it', async () => {
    const { user } = await renderCard();
    await user.type(inputOf('openai'), 'sk-proj with-a-space-1234');
    await user.click(document.body);
    const alert = await within(rowOf('openai')).findByRole('alert');
    expect(alert.textContent).toBe(
      'This OpenAI key contains spaces or invisible characters: paste it again without them.',
    );
    await user.click(inputOf('openai'));
    await user.click(document.body);
    expect(sentAfterList()).toHaveLength(1);
    expect(inputOf('openai').value).toBe('sk-proj with-a-space-1234');
    await user.type(inputOf('openai'), '{Enter}');
    await waitFor(() => expect(sentAfterList()).toHaveLength(2));
    expect(sentAfterList().every((sent) => sent.method === 'PUT')).toBe(true);
  });
});

describe('KeysCard: testing', () => {
  it('shows "Testing…" while the provider is asked, then "valid" with the server’s reason', async () => {
    vault.seed({ providerId: 'openai', lastFour: 'x7Qa' });
    vault.nextTest = { status: 'valid', reason: 'OpenAI accepted this key.' };
    const { user } = await renderCard();
    const release = vault.hold();
    await user.click(buttonOf('openai', 'Test'));
    const testing = buttonOf('openai', 'Testing…');
    expect(testing.disabled).toBe(true);
    // A spinner beside the word, hidden from screen readers (the word says it).
    const spinner = testing.querySelector('.spinner');
    expect(spinner?.getAttribute('aria-hidden')).toBe('true');
    expect(testing.getAttribute('aria-busy')).toBe('true');
    expect(buttonOf('openai', 'Delete').disabled).toBe(true);
    expect(within(rowOf('openai')).queryByRole('status')).toBeNull();
    release();
    const message = await within(rowOf('openai')).findByRole('status');
    expect(message.textContent).toBe('OpenAI accepted this key.');
    expect(message.classList.contains('alert--ok')).toBe(true);
    expect(vault.requests.at(-1)).toMatchObject({ method: 'POST', path: '/api/user/api-keys/openai/test' });
    expect(
      within(rowOf('openai')).getByText('Saved key ••••x7Qa · Valid: the provider accepted this key.'),
    ).toBeTruthy();
    expect(buttonOf('openai', 'Test').disabled).toBe(false);
    expect(buttonOf('openai', 'Test').querySelector('.spinner')).toBeNull();
    expect(buttonOf('openai', 'Test').getAttribute('aria-busy')).toBe('false');
  });

  it('says a rejected key is invalid, in the provider’s words', async () => {
    vault.seed({ providerId: 'openai', lastFour: 'x7Qa', status: 'valid' });
    vault.nextTest = { status: 'invalid', reason: 'OpenAI rejected this key: check it or create a new one.' };
    const { user } = await renderCard();
    await user.click(buttonOf('openai', 'Test'));
    const message = await within(rowOf('openai')).findByRole('alert');
    expect(message.textContent).toBe('OpenAI rejected this key: check it or create a new one.');
    expect(message.classList.contains('alert--error')).toBe(true);
    expect(within(rowOf('openai')).queryByRole('status')).toBeNull();
    const saved = within(rowOf('openai')).getByText(
      'Saved key ••••x7Qa · Rejected: the provider refused this key. Paste a new one.',
    );
    expect(saved.classList.contains('key-row__saved--invalid')).toBe(true);
  });

  it('says when a key was saved but could not be checked, and why, without looking like a success', async () => {
    vault.seed({ providerId: 'openai', lastFour: 'x7Qa' });
    vault.nextTest = {
      status: 'unchecked',
      reason: 'OpenAI did not answer within 10 s, so the key could not be checked: try again later.',
    };
    const { user } = await renderCard();
    expect(within(rowOf('openai')).getByText('Saved key ••••x7Qa · Saved, not tested yet.')).toBeTruthy();
    await user.click(buttonOf('openai', 'Test'));
    const message = await within(rowOf('openai')).findByRole('status');
    expect(message.textContent).toBe(
      'Your key is saved but was not checked. OpenAI did not answer within 10 s, so the key could not be checked: try again later.',
    );
    // Information, neither the success nor the error style.
    expect(message.classList.contains('alert--info')).toBe(true);
    expect(message.classList.contains('alert--ok')).toBe(false);
    expect(message.classList.contains('alert--error')).toBe(false);
    // A check was tried: the saved line no longer says "not tested yet".
    expect(
      within(rowOf('openai')).getByText(
        'Saved key ••••x7Qa · Saved; the last check could not reach the provider.',
      ),
    ).toBeTruthy();
  });

  it('says a key was saved but not checked even when the server gives no reason, in French too', async () => {
    vault.seed({ providerId: 'openai', lastFour: 'x7Qa' });
    vault.nextTest = { status: 'unchecked', reason: null };
    const { user } = await renderCard('fr');
    await user.click(buttonOf('openai', 'Tester'));
    const message = await within(rowOf('openai')).findByRole('status');
    expect(message.textContent).toBe(
      'Votre clé est enregistrée mais n’a pas été vérifiée : le fournisseur n’a pas pu être interrogé. Réessayez plus tard.',
    );
    expect(message.classList.contains('alert--info')).toBe(true);
  });

  it('falls back to the status in words when the server gives no reason', async () => {
    vault.seed({ providerId: 'openai', lastFour: 'x7Qa' });
    vault.nextTest = { status: 'invalid', reason: null };
    const { user } = await renderCard();
    await user.click(buttonOf('openai', 'Test'));
    const message = await within(rowOf('openai')).findByRole('alert');
    expect(message.textContent).toBe('Rejected: the provider refused this key. Paste a new one.');
  });

  it('cannot test a slot without a saved key, or one no provider can check', async () => {
    vault.seed({ providerId: 'runway', lastFour: 'r9Zk' });
    await renderCard();
    expect(buttonOf('openai', 'Test').disabled).toBe(true);
    expect(buttonOf('runway', 'Test').disabled).toBe(true);
    expect(buttonOf('runway', 'Delete').disabled).toBe(false);
  });
});

describe('KeysCard: deleting', () => {
  it('DELETEs the key, then shows the slot empty', async () => {
    vault.seed({ providerId: 'openai', lastFour: 'x7Qa', status: 'valid' });
    const { user, store } = await renderCard();
    const release = vault.hold();
    await user.click(buttonOf('openai', 'Delete'));
    expect(buttonOf('openai', 'Deleting…').disabled).toBe(true);
    release();
    expect((await within(rowOf('openai')).findByRole('status')).textContent).toBe('Deleted.');
    expect(vault.requests.at(-1)).toMatchObject({ method: 'DELETE', path: '/api/user/api-keys/openai' });
    expect(vault.keys.has('openai')).toBe(false);
    expect(rowOf('openai').querySelector('.key-row__saved')).toBeNull();
    expect(within(rowOf('openai')).queryByText(/x7Qa/)).toBeNull();
    expect(inputOf('openai').placeholder).toBe('Paste your key');
    expect(buttonOf('openai', 'Test').disabled).toBe(true);
    expect(buttonOf('openai', 'Delete').disabled).toBe(true);
    expect(store.get(providerKeysAtom)?.keys).toEqual([]);
  });

  it('says so when the key was already gone', async () => {
    vault.seed({ providerId: 'openai', lastFour: 'x7Qa' });
    const { user } = await renderCard();
    vault.keys.delete('openai');
    await user.click(buttonOf('openai', 'Delete'));
    await waitFor(() => {
      expect(within(rowOf('openai')).getByRole('alert').textContent).toBe('No OpenAI key is saved.');
    });
    expect(within(rowOf('openai')).getByRole('alert').classList.contains('alert--error')).toBe(true);
    expect(within(rowOf('openai')).queryByRole('status')).toBeNull();
  });
});
