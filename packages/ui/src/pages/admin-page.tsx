import { useAtom, useAtomValue } from 'jotai';
import { useCallback, useEffect, useRef, useState } from 'react';
import {
  DurationsCard,
  HeadlineFigures,
  LedgerCard,
  NodeSuccessCard,
  ProviderErrorsCard,
  VaultCard,
} from '../admin/admin-cards.tsx';
import { ApiRequestError, messageOf, request } from '../api/api-client.ts';
import {
  ADMIN_WINDOWS,
  type AdminWindow,
  adminStatsAtom,
  adminWindowAtom,
  reconciliationAtom,
  vaultStatusAtom,
} from '../atoms/admin.ts';
import { languageAtom, useT } from '../atoms/language.ts';
import { formatDate } from '../dashboard/format.ts';

const isForbidden = (error: unknown): boolean => error instanceof ApiRequestError && error.status === 403;

/**
 * /admin: the operators' figures of PRD section 13 (`GET /api/admin/stats?days=`) over a window of
 * 1, 7 or 30 days, plus the vault and ledger reconciliation cards. The API decides who is an admin:
 * a 403 shows the "admins only" message.
 */
export function AdminPage() {
  const t = useT();
  const language = useAtomValue(languageAtom);
  const [days, setDays] = useAtom(adminWindowAtom);
  const [stats, setStats] = useAtom(adminStatsAtom);
  const [vault, setVault] = useAtom(vaultStatusAtom);
  const [report, setReport] = useAtom(reconciliationAtom);
  const [forbidden, setForbidden] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const latest = useRef(0);

  const onError = useCallback((caught: unknown) => {
    if (isForbidden(caught)) setForbidden(true);
    else setError(messageOf(caught));
  }, []);

  const loadStats = useCallback(
    (window: AdminWindow) => {
      const call = ++latest.current;
      setError(null);
      request('get', '/api/admin/stats', { query: { days: window } }).then((body) => {
        if (call === latest.current) setStats(body);
      }, onError);
    },
    [setStats, onError],
  );

  useEffect(() => {
    loadStats(days);
  }, [days, loadStats]);

  useEffect(() => {
    request('get', '/api/admin/vault').then(setVault, onError);
    request('get', '/api/admin/ledger/reconciliation').then(setReport, onError);
  }, [setVault, setReport, onError]);

  // Leaving the page (or logging out) forgets the figures: the next account must not glimpse them.
  useEffect(
    () => () => {
      latest.current += 1;
      setStats(null);
      setVault(null);
      setReport(null);
    },
    [setStats, setVault, setReport],
  );

  if (forbidden)
    return (
      <div className="page admin">
        <h1>{t('admin.title')}</h1>
        <p className="card admin-only" data-testid="admin-only">
          {t('admin.only')}
        </p>
      </div>
    );

  const current = stats !== null && stats.windowDays === days ? stats : null;
  return (
    <div className="page admin">
      <div className="admin__head">
        <h1>{t('admin.title')}</h1>
        <fieldset className="admin-window">
          <legend className="visually-hidden">{t('admin.window')}</legend>
          {ADMIN_WINDOWS.map((window) => (
            <button
              key={window}
              type="button"
              className={
                window === days
                  ? 'button button--primary button--small'
                  : 'button button--ghost button--small'
              }
              aria-pressed={window === days}
              onClick={() => setDays(window)}
            >
              {window === 1 ? t('admin.windowDay') : t('admin.windowDays', { days: window })}
            </button>
          ))}
          <button
            type="button"
            className="button button--ghost button--small"
            onClick={() => loadStats(days)}
          >
            {t('admin.refresh')}
          </button>
        </fieldset>
      </div>
      {error && (
        <p role="alert" className="alert alert--error">
          {error}
        </p>
      )}
      {current === null ? (
        <p className="loading">{t('app.loading')}</p>
      ) : (
        <div data-testid="admin-stats" data-window={current.windowDays}>
          <p className="admin__since">{t('admin.since', { date: formatDate(language, current.since) })}</p>
          <HeadlineFigures stats={current} />
          <div className="admin__grid">
            <NodeSuccessCard stats={current} />
            <DurationsCard stats={current} />
          </div>
          <ProviderErrorsCard stats={current} />
        </div>
      )}
      {(vault !== null || report !== null) && (
        <div className="admin__grid">
          {vault !== null && <VaultCard vault={vault} />}
          {report !== null && <LedgerCard report={report} />}
        </div>
      )}
    </div>
  );
}
