import { useAtomValue, useSetAtom } from 'jotai';
import { type FormEvent, useId, useState } from 'react';
import { messageOf, request } from '../api/api-client.ts';
import { graphAtom } from '../atoms/graph.ts';
import { useT } from '../atoms/language.ts';
import { templatesAtom } from '../atoms/library.ts';

/** Saves the graph on the canvas as a named template (`POST /api/templates`), listed in /library. */
export function SaveTemplate() {
  const t = useT();
  const graph = useAtomValue(graphAtom);
  const setTemplates = useSetAtom(templatesAtom);
  const nameId = useId();
  const [name, setName] = useState('');
  const [busy, setBusy] = useState(false);
  const [message, setMessage] = useState<{ kind: 'ok' | 'error'; text: string } | null>(null);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setMessage(null);
    try {
      const saved = await request('post', '/api/templates', { body: { name: name.trim(), graph } });
      setTemplates((list) => (list === null ? null : [...list, saved]));
      setMessage({ kind: 'ok', text: t('panel.templateSaved', { name: saved.name }) });
      setName('');
    } catch (caught) {
      setMessage({ kind: 'error', text: messageOf(caught) });
    } finally {
      setBusy(false);
    }
  };

  return (
    <form className="save-template" onSubmit={submit}>
      <label htmlFor={nameId}>{t('panel.templateName')}</label>
      <div className="save-template__row">
        <input id={nameId} maxLength={100} value={name} onChange={(event) => setName(event.target.value)} />
        <button type="submit" className="button" disabled={busy || name.trim() === ''}>
          {t('panel.saveTemplate')}
        </button>
      </div>
      {message && (
        <p role="status" className={`alert alert--${message.kind}`}>
          {message.text}
        </p>
      )}
    </form>
  );
}
