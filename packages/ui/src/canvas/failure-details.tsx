import { useAtomValue } from 'jotai';
import { useId, useState } from 'react';
import { providerNamesAtom } from '../atoms/keys.ts';
import { useT } from '../atoms/language.ts';
import type { NodeFailure } from '../run/run-state.ts';

/**
 * A failed node's "Details" toggle: the technical facts behind its plain-words message (the error
 * code, the provider, the cause, how many attempts, whether retrying may help), hidden until asked
 * for. The button says whether they are shown (`aria-expanded`) and which list it opens.
 */
export function FailureDetails(props: { readonly failure: NodeFailure }) {
  const { failure } = props;
  const [open, setOpen] = useState(false);
  const names = useAtomValue(providerNamesAtom);
  const listId = useId();
  const t = useT();
  const provider =
    failure.providerId === undefined
      ? undefined
      : names.has(failure.providerId)
        ? `${names.get(failure.providerId)} (${failure.providerId})`
        : failure.providerId;
  return (
    <div className="failure-details">
      <button
        type="button"
        className="failure-details__toggle nodrag"
        aria-expanded={open}
        aria-controls={listId}
        onClick={(event) => {
          // Opening the details is not a click on the node (which selects it).
          event.stopPropagation();
          setOpen((shown) => !shown);
        }}
      >
        <span aria-hidden>{open ? '▾' : '▸'}</span> {t('node.details')}
      </button>
      <dl className="failure-details__list" id={listId} hidden={!open}>
        <dt>{t('node.detail.code')}</dt>
        <dd>
          <code>{failure.code}</code>
        </dd>
        {provider !== undefined && (
          <>
            <dt>{t('node.detail.provider')}</dt>
            <dd>{provider}</dd>
          </>
        )}
        {failure.reason !== undefined && (
          <>
            <dt>{t('node.detail.reason')}</dt>
            <dd>
              <code>{failure.reason}</code>
            </dd>
          </>
        )}
        <dt>{t('node.detail.attempts')}</dt>
        <dd>{failure.attempts}</dd>
        <dt>{t('node.detail.retryable')}</dt>
        <dd>{failure.retryable ? t('node.detail.yes') : t('node.detail.no')}</dd>
      </dl>
    </div>
  );
}
