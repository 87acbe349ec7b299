import { useAtom } from 'jotai';
import { useEffect, useId, useState } from 'react';
import { api, messageOf } from '../api/api-client.ts';
import type { ProviderKey, ProviderKeySlot, ProviderKeys } from '../api/api-types.ts';
import { providerKeysAtom } from '../atoms/keys.ts';
import { useT } from '../atoms/language.ts';
import type { Translate } from '../i18n/translate.ts';

/** "Your API keys": one row per provider key the installation knows. Keys are never shown back. */
export function KeysCard() {
  const [keys, setKeys] = useAtom(providerKeysAtom);
  const [error, setError] = useState<string | null>(null);
  const t = useT();
  useEffect(() => {
    api<ProviderKeys>('GET', '/api/user/api-keys').then(setKeys, (caught: unknown) =>
      setError(messageOf(caught)),
    );
  }, [setKeys]);
  const replace = (entry: ProviderKey | null, providerId: string) => {
    if (keys === null) return;
    const others = keys.keys.filter((key) => key.providerId !== providerId);
    setKeys({ ...keys, keys: entry === null ? others : [...others, entry] });
  };
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
  const path = `/api/user/api-keys/${encodeURIComponent(slot.providerId)}` as const;

  const act = async (kind: 'save' | 'test' | 'delete') => {
    setBusy(kind);
    setMessage(null);
    try {
      if (kind === 'save') {
        const entry = await api<ProviderKey>('PUT', path, { body: { key: value } });
        props.onChange(entry);
        setValue('');
        setMessage({ kind: 'ok', text: t('keys.savedEnding', { lastFour: entry.lastFour }) });
      } else if (kind === 'test') {
        const entry = await api<ProviderKey>('POST', `${path}/test`);
        props.onChange(entry);
        setMessage(testMessage(entry, t));
      } else {
        await api('DELETE', path);
        props.onChange(null);
        setMessage({ kind: 'ok', text: t('keys.deleted') });
      }
    } catch (caught) {
      setMessage({ kind: 'error', text: messageOf(caught) });
    } finally {
      setBusy(null);
    }
  };

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
      <div className="key-row__input">
        <input
          id={inputId}
          type={visible ? 'text' : 'password'}
          autoComplete="off"
          spellCheck={false}
          placeholder={saved ? t('keys.replace') : t('keys.paste')}
          value={value}
          onChange={(event) => setValue(event.target.value)}
        />
        <button
          type="button"
          className="button button--ghost"
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
          disabled={busy !== null || value.trim() === ''}
          onClick={() => void act('save')}
        >
          {busy === 'save' ? t('keys.saving') : t('keys.save')}
        </button>
        <button
          type="button"
          className="button"
          disabled={busy !== null || saved === null || !slot.testable}
          aria-busy={busy === 'test'}
          onClick={() => void act('test')}
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
          onClick={() => void act('delete')}
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
