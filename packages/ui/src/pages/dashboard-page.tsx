import { useAtom, useAtomValue } from 'jotai';
import { useCallback, useEffect, useRef, useState } from 'react';
import { messageOf, request } from '../api/api-client.ts';
import type { Content, CreditBalance, CreditHistory, RunHistory } from '../api/api-types.ts';
import { balanceAtom, creditHistoryAtom, recentRunsAtom } from '../atoms/dashboard.ts';
import { languageAtom, useT } from '../atoms/language.ts';
import { CreditsGauge } from '../dashboard/credits-gauge.tsx';
import { formatDate, gaugeShare, PLAN_ALLOWANCE } from '../dashboard/format.ts';
import { listenToUserEvents } from '../dashboard/user-events.ts';
import { Link } from '../layout/link.tsx';

/**
 * /dashboard: the credits widget, the recent runs and the latest videos, read again when the
 * dashboard stream (`GET /api/events`) says a run finished or the credits changed.
 */
export function DashboardPage() {
  const t = useT();
  const [balance, setBalance] = useAtom(balanceAtom);
  const [runs, setRuns] = useAtom(recentRunsAtom);
  const [history, setHistory] = useAtom(creditHistoryAtom);
  const [latest, setLatest] = useState<readonly Content[] | null>(null);
  const [historyOpen, setHistoryOpen] = useState(false);
  const [error, setError] = useState<string | null>(null);

  const onError = useCallback((caught: unknown) => setError(messageOf(caught)), []);
  const loadBalance = useCallback(
    () => request('get', '/api/credits/balance').then(setBalance, onError),
    [setBalance, onError],
  );
  const loadRuns = useCallback(
    () => request('get', '/api/workflow/runs', { query: { limit: 5 } }).then(setRuns, onError),
    [setRuns, onError],
  );
  const loadLatest = useCallback(
    () =>
      request('get', '/api/contents', { query: { limit: 4 } }).then(
        (list) => setLatest(list.contents),
        onError,
      ),
    [onError],
  );
  const loadHistory = useCallback(
    () => request('get', '/api/credits/history', { query: { limit: 20 } }).then(setHistory, onError),
    [setHistory, onError],
  );

  useEffect(() => {
    void loadBalance();
    void loadRuns();
    void loadLatest();
  }, [loadBalance, loadRuns, loadLatest]);

  // The stream stays open while the History panel opens and closes: a ref tells it whether to reload it.
  const historyShown = useRef(historyOpen);
  useEffect(() => {
    historyShown.current = historyOpen;
    if (historyOpen) void loadHistory();
  }, [historyOpen, loadHistory]);

  useEffect(
    () =>
      listenToUserEvents({
        'run.finished': () => {
          void loadRuns();
          void loadLatest();
          void loadBalance();
        },
        'credits.changed': () => {
          void loadBalance();
          if (historyShown.current) void loadHistory();
        },
      }),
    [loadRuns, loadLatest, loadBalance, loadHistory],
  );

  return (
    <div className="page dashboard">
      <h1>{t('dash.title')}</h1>
      {error && (
        <p role="alert" className="alert alert--error">
          {error}
        </p>
      )}
      <div className="dashboard__grid">
        <CreditsCard
          balance={balance}
          historyOpen={historyOpen}
          onToggleHistory={() => setHistoryOpen((open) => !open)}
        />
        <RecentRuns runs={runs} />
      </div>
      {historyOpen && <HistoryPanel history={history} />}
      <LatestContents contents={latest} />
    </div>
  );
}

function CreditsCard(props: {
  readonly balance: CreditBalance | null;
  readonly historyOpen: boolean;
  readonly onToggleHistory: () => void;
}) {
  const t = useT();
  const language = useAtomValue(languageAtom);
  const [explain, setExplain] = useState(false);
  const { balance } = props;
  if (balance === null)
    return (
      <section className="card credits-card" aria-labelledby="credits-title">
        <h2 id="credits-title">{t('dash.credits')}</h2>
        <p>{t('app.loading')}</p>
      </section>
    );
  const allowance = PLAN_ALLOWANCE[balance.plan];
  const share =
    balance.available === null
      ? 1
      : gaugeShare(balance.available, balance.balance, allowance ?? balance.balance);
  return (
    <section className="card credits-card" aria-labelledby="credits-title" data-testid="credits-card">
      <h2 id="credits-title">{t('dash.credits')}</h2>
      <div className="credits-card__body">
        <CreditsGauge
          available={balance.available}
          share={share}
          allowance={allowance === null ? null : Math.max(allowance, balance.balance)}
        />
        <ul className="credits-card__facts">
          <li>{t('dash.plan', { plan: t(`plan.${balance.plan}`) })}</li>
          <li>{t('dash.renews', { date: formatDate(language, balance.renewsAt, false) })}</li>
          <li data-testid="used-today">{t('dash.usedToday', { credits: balance.usedToday })}</li>
          <li data-testid="used-week">{t('dash.usedWeek', { credits: balance.usedThisWeek })}</li>
          {balance.held > 0 && <li>{t('dash.held', { credits: balance.held })}</li>}
        </ul>
      </div>
      <div className="credits-card__actions">
        <button
          type="button"
          className="button"
          aria-expanded={props.historyOpen}
          aria-controls="credit-history"
          onClick={props.onToggleHistory}
        >
          {props.historyOpen ? t('dash.hideHistory') : t('dash.history')}
        </button>
        <button
          type="button"
          className="button button--primary"
          aria-expanded={explain}
          onClick={() => setExplain((shown) => !shown)}
        >
          {t('dash.getMore')}
        </button>
      </div>
      {explain && (
        <p className="alert alert--info" role="status">
          {t('dash.getMoreText')}
        </p>
      )}
    </section>
  );
}

function HistoryPanel(props: { readonly history: CreditHistory | null }) {
  const t = useT();
  const language = useAtomValue(languageAtom);
  return (
    <section className="card history" id="credit-history" aria-labelledby="history-title">
      <h2 id="history-title">{t('dash.historyTitle')}</h2>
      {props.history === null ? (
        <p>{t('app.loading')}</p>
      ) : props.history.entries.length === 0 ? (
        <p>{t('dash.historyEmpty')}</p>
      ) : (
        <div className="table-wrap">
          <table className="table" data-testid="credit-history">
            <thead>
              <tr>
                <th scope="col">{t('dash.date')}</th>
                <th scope="col">{t('dash.kind')}</th>
                <th scope="col">{t('dash.amount')}</th>
                <th scope="col">{t('dash.reason')}</th>
              </tr>
            </thead>
            <tbody>
              {props.history.entries.map((entry) => (
                <tr key={entry.id}>
                  <td>{formatDate(language, entry.createdAt)}</td>
                  <td>{t(`ledger.${entry.kind}`)}</td>
                  <td className="table__number">
                    {entry.balanceDelta > 0
                      ? `+${entry.balanceDelta}`
                      : entry.balanceDelta < 0
                        ? entry.balanceDelta
                        : entry.amount}
                  </td>
                  <td>{entry.reason}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

function RecentRuns(props: { readonly runs: RunHistory | null }) {
  const t = useT();
  const language = useAtomValue(languageAtom);
  return (
    <section className="card recent-runs" aria-labelledby="runs-title">
      <h2 id="runs-title">{t('dash.recentRuns')}</h2>
      {props.runs === null ? (
        <p>{t('app.loading')}</p>
      ) : props.runs.runs.length === 0 ? (
        <p>{t('dash.noRuns')}</p>
      ) : (
        <ul className="run-list">
          {props.runs.runs.map((run) => (
            <li key={run.runId} className="run-list__item" data-testid="recent-run" data-run-id={run.runId}>
              <span className={`status status--${run.status}`}>{t(`phase.${run.status}`)}</span>
              <span>{t('dash.runCost', { credits: run.estimatedCost })}</span>
              <span className="hint">{formatDate(language, run.createdAt)}</span>
              <Link to={`/create?run=${encodeURIComponent(run.runId)}`} className="button button--small">
                {t('dash.open')}
              </Link>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

function LatestContents(props: { readonly contents: readonly Content[] | null }) {
  const t = useT();
  return (
    <section className="card latest" aria-labelledby="latest-title">
      <h2 id="latest-title">{t('dash.latest')}</h2>
      {props.contents === null ? (
        <p>{t('app.loading')}</p>
      ) : props.contents.length === 0 ? (
        <p>{t('dash.noContents')}</p>
      ) : (
        <ul className="thumb-grid">
          {props.contents.map((content) => {
            const thumbnail = content.media.thumbnail?.url ?? content.media.image?.url;
            return (
              <li key={content.id} className="thumb-grid__item" data-testid="latest-content">
                {thumbnail && (
                  <img src={thumbnail} alt={t('lib.thumbnail', { prompt: content.prompt })} loading="lazy" />
                )}
                <p className="thumb-grid__prompt">{content.prompt}</p>
              </li>
            );
          })}
        </ul>
      )}
      <Link to="/library">{t('dash.seeLibrary')}</Link>
    </section>
  );
}
