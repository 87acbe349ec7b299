import { useAtom } from 'jotai';
import { type FocusEvent, type KeyboardEvent, useEffect, useId, useRef, useState } from 'react';
import { messageOf, request } from '../api/api-client.ts';
import type { ProviderKey, ProviderKeySlot } from '../api/api-types.ts';
import { providerKeysAtom } from '../atoms/keys.ts';
import { useT } from '../atoms/language.ts';
import type { Translate } from '../i18n/translate.ts';

/**
 * "Your API keys": one row per provider key the installation knows. Keys are never shown back. A
 * typed key is saved automatically when the field is left or Enter is pressed (then tested when a
 * provider can check it); the Save button saves it explicitly.
 */
export function KeysCard() {
  const [keys, setKeys] = useAtom(providerKeysAtom);
  const [error, setError] = useState<string | null>(null);
  const t = useT();
  useEffect(() => {
    request('get', '/api/user/api-keys').then(setKeys, (caught: unknown) => setError(messageOf(caught)));
  }, [setKeys]);
  // From the current list (not this render's): a save and its automatic test update it in turn.
  const replace = (entry: ProviderKey | null, providerId: string) =>
    setKeys((current) => {
      if (current === null) return current;
      const others = current.keys.filter((key) => key.providerId !== providerId);
      return { ...current, keys: entry === null ? others : [...others, entry] };
    });
  return (
    <section className="card keys-card" aria-labelledby="keys-title">
      <h2 id="keys-title">{t('keys.title')}</h2>
      <p className="hint">{t('keys.hint')}</p>
      {error && (
        <p role="alert" className="alert alert--error">
          {error}
        </p>
      )}
      {keys === null && error === null && <p>{t('app.loading')}</p>}
      {keys?.slots.map((slot) => (
        <KeyRow
          key={slot.providerId}
          slot={slot}
          saved={keys.keys.find((key) => key.providerId === slot.providerId) ?? null}
          onChange={(entry) => replace(entry, slot.providerId)}
        />
      ))}
    </section>
  );
}

/** A row's last result: an error, a success, or information (a key saved but not checked). */
interface RowMessage {
  readonly kind: 'ok' | 'error' | 'info';
  readonly text: string;
}

/**
 * What a key test says: a valid key is a success, a refused one an error, and one the provider
 * could not be asked about (`unchecked`) neither: saved, not checked, and why.
 */
function testMessage(entry: ProviderKey, t: Translate): RowMessage {
  if (entry.status === 'valid') return { kind: 'ok', text: entry.statusReason ?? t('keys.status.valid') };
  if (entry.status === 'invalid')
    return { kind: 'error', text: entry.statusReason ?? t('keys.status.invalid') };
  return {
    kind: 'info',
    text:
      entry.statusReason === null || entry.statusReason.trim() === ''
        ? t('keys.checkUncheckedNoReason')
        : t('keys.checkUnchecked', { reason: entry.statusReason }),
  };
}

/** What started a save: leaving the field or Enter (then tested), or the Save button. */
type SaveTrigger = 'auto' | 'button';

/** Keeps the focus in the key field when a button beside it is pressed with a pointer. */
const keepFieldFocus = (event: { preventDefault: () => void }) => event.preventDefault();

function KeyRow(props: {
  readonly slot: ProviderKeySlot;
  readonly saved: ProviderKey | null;
  readonly onChange: (entry: ProviderKey | null) => void;
}) {
  const { slot, saved } = props;
  const inputId = useId();
  const t = useT();
  const [value, setValue] = useState('');
  const [visible, setVisible] = useState(false);
  const [busy, setBusy] = useState<'save' | 'test' | 'delete' | null>(null);
  const [message, setMessage] = useState<RowMessage | null>(null);
  const params = { providerId: slot.providerId };
  // Synchronous guards (state updates land a render later): one action at a time, and a value the
  // server just refused is not sent again each time the field is left.
  const inFlight = useRef(false);
  const refused = useRef<string | null>(null);
  const fieldRef = useRef<HTMLDivElement>(null);
  const saveRef = useRef<HTMLButtonElement>(null);

  const run = async (kind: 'save' | 'test' | 'delete', work: () => Promise<void>) => {
    if (inFlight.current) return;
    inFlight.current = true;
    setBusy(kind);
    setMessage(null);
    try {
      await work();
    } catch (caught) {
      setMessage({ kind: 'error', text: messageOf(caught) });
    } finally {
      inFlight.current = false;
      setBusy(null);
    }
  };

  const test = async () => {
    const entry = await request('post', '/api/user/api-keys/{providerId}/test', { params });
    props.onChange(entry);
    setMessage(testMessage(entry, t));
  };

  const save = async (trigger: SaveTrigger) => {
    const key = value;
    if (key.trim() === '') return;
    await run('save', async () => {
      let entry: ProviderKey;
      try {
        entry = await request('put', '/api/user/api-keys/{providerId}', { params, body: { key } });
      } catch (caught) {
        refused.current = key;
        throw caught;
      }
      refused.current = null;
      props.onChange(entry);
      // What was typed meanwhile stays; the saved key leaves the field.
      setValue((current) => (current === key ? '' : current));
      setMessage({ kind: 'ok', text: t('keys.savedEnding', { lastFour: entry.lastFour }) });
      if (trigger === 'auto' && slot.testable) {
        setBusy('test');
        await test();
      }
    });
  };

  /** Saves when the focus leaves the field (its eye toggle and the Save button count as the field). */
  const onLeave = (event: FocusEvent) => {
    const next = event.relatedTarget;
    if (next instanceof Node && (fieldRef.current?.contains(next) || saveRef.current === next)) return;
    if (value !== refused.current) void save('auto');
  };

  const onKeyDown = (event: KeyboardEvent<HTMLInputElement>) => {
    if (event.key !== 'Enter') return;
    event.preventDefault();
    void save('auto');
  };

  const remove = () =>
    run('delete', async () => {
      await request('delete', '/api/user/api-keys/{providerId}', { params });
      props.onChange(null);
      setMessage({ kind: 'ok', text: t('keys.deleted') });
    });

  return (
    <div className="key-row" data-provider={slot.providerId}>
      <label htmlFor={inputId} className="key-row__label">
        {slot.label}
        <span className="hint"> · {slot.providers.map((provider) => provider.displayName).join(', ')}</span>
      </label>
      {saved && (
        <p className={`key-row__saved key-row__saved--${saved.status}`}>
          {t('keys.savedKey', {
            lastFour: saved.lastFour,
            // "Not tested yet" only while no check was tried; after one that could not reach the provider, say so.
            status: t(
              saved.status === 'unchecked' && saved.checkedAt !== null
                ? 'keys.status.notChecked'
                : `keys.status.${saved.status}`,
            ),
          })}
        </p>
      )}
      <div className="key-row__input" ref={fieldRef}>
        <input
          id={inputId}
          type={visible ? 'text' : 'password'}
          autoComplete="off"
          spellCheck={false}
          placeholder={saved ? t('keys.replace') : t('keys.paste')}
          value={value}
          onChange={(event) => setValue(event.target.value)}
          onKeyDown={onKeyDown}
          onBlur={onLeave}
        />
        <button
          type="button"
          className="button button--ghost"
          onMouseDown={keepFieldFocus}
          onBlur={onLeave}
          aria-pressed={visible}
          aria-label={visible ? t('keys.hide') : t('keys.show')}
          onClick={() => setVisible((shown) => !shown)}
        >
          <svg
            width="18"
            height="18"
            viewBox="0 0 24 24"
            aria-hidden="true"
            fill="none"
            stroke="currentColor"
            strokeWidth="2"
          >
            <path d="M2 12s3.5-7 10-7 10 7 10 7-3.5 7-10 7S2 12 2 12z" />
            <circle cx="12" cy="12" r="3" />
            {visible && <path d="M3 3l18 18" />}
          </svg>
        </button>
      </div>
      <div className="key-row__actions">
        <button
          type="button"
          className="button button--primary"
          ref={saveRef}
          disabled={busy !== null || value.trim() === ''}
          // Pressing Save keeps the focus in the field: the click saves, not the field losing focus.
          onMouseDown={keepFieldFocus}
          onBlur={onLeave}
          onClick={() => void save('button')}
        >
          {busy === 'save' ? t('keys.saving') : t('keys.save')}
        </button>
        <button
          type="button"
          className="button"
          disabled={busy !== null || saved === null || !slot.testable}
          aria-busy={busy === 'test'}
          onClick={() => void run('test', test)}
        >
          {busy === 'test' ? (
            <>
              <span className="spinner" aria-hidden="true" />
              {t('keys.testing')}
            </>
          ) : (
            t('keys.test')
          )}
        </button>
        <button
          type="button"
          className="button button--danger"
          disabled={busy !== null || saved === null}
          onClick={() => void remove()}
        >
          {busy === 'delete' ? t('keys.deleting') : t('keys.delete')}
        </button>
      </div>
      {/* Failures interrupt (alert); a success or a key saved but not checked is said politely (status). */}
      {message && (
        <p role={message.kind === 'error' ? 'alert' : 'status'} className={`alert alert--${message.kind}`}>
          {message.text}
        </p>
      )}
    </div>
  );
}
