import { useAtomValue } from 'jotai';
import type { AdminStats, LedgerReconciliation, VaultStatus } from '../api/api-types.ts';
import { languageAtom, useT } from '../atoms/language.ts';
import type { MessageKey } from '../i18n/dictionaries.ts';
import type { Translate } from '../i18n/translate.ts';
import { barWidth, formatNumber, formatRate, inStepOrder } from './format.ts';

const STEP_KEYS: Readonly<Record<string, MessageKey>> = {
  prompt: 'step.prompt',
  enhance: 'step.enhance',
  image: 'step.image',
  video: 'step.video',
  output: 'step.output',
};

/** The node type's name in the user's language, else the type itself. */
export const stepName = (t: Translate, nodeType: string): string => {
  const key = STEP_KEYS[nodeType];
  return key === undefined ? nodeType : t(key);
};

/** One headline figure: a label, a big value (or "No data") and an optional detail line. */
function Figure(props: {
  readonly label: string;
  readonly value: string | null;
  readonly detail?: string;
  readonly testId: string;
  readonly raw: number | null;
}) {
  const t = useT();
  return (
    <section className="card admin-figure" data-testid={props.testId} data-value={props.raw ?? ''}>
      <h2>{props.label}</h2>
      <p className="admin-figure__value" data-testid={`${props.testId}-value`}>
        {props.value ?? t('admin.none')}
      </p>
      {props.detail !== undefined && <p className="admin-figure__detail">{props.detail}</p>}
    </section>
  );
}

/** Active runs, the run success rate and average credits per completed run. */
export function HeadlineFigures(props: { readonly stats: AdminStats }) {
  const t = useT();
  const language = useAtomValue(languageAtom);
  const { activeRuns, runs } = props.stats;
  const active = activeRuns.queued + activeRuns.running;
  return (
    <div className="admin-figures">
      <Figure
        testId="admin-active-runs"
        label={t('admin.activeRuns')}
        value={formatNumber(language, active)}
        raw={active}
        detail={t('admin.activeDetail', { running: activeRuns.running, queued: activeRuns.queued })}
      />
      <Figure
        testId="admin-success-rate"
        label={t('admin.successRate')}
        value={formatRate(language, runs.successRate)}
        raw={runs.successRate}
        detail={t('admin.runCounts', {
          completed: runs.completed,
          failed: runs.failed,
          cancelled: runs.cancelled,
        })}
      />
      <Figure
        testId="admin-average-credits"
        label={t('admin.avgCredits')}
        value={formatNumber(language, runs.averageCreditsPerCompletedRun)}
        raw={runs.averageCreditsPerCompletedRun}
      />
    </div>
  );
}

/** A bar per node type: its success rate over the window. Bars are SVG (the CSP allows no inline style). */
export function NodeSuccessCard(props: { readonly stats: AdminStats }) {
  const t = useT();
  const language = useAtomValue(languageAtom);
  const nodes = inStepOrder(props.stats.nodes);
  return (
    <section className="card" aria-labelledby="admin-node-success" data-testid="admin-node-success">
      <h2 id="admin-node-success">{t('admin.nodeSuccess')}</h2>
      {nodes.length === 0 ? (
        <p>{t('admin.none')}</p>
      ) : (
        <ul className="admin-bars">
          {nodes.map((node) => {
            const rate = formatRate(language, node.successRate) ?? t('admin.none');
            const name = stepName(t, node.nodeType);
            return (
              <li
                key={node.nodeType}
                className="admin-bars__row"
                data-testid="admin-node-bar"
                data-node-type={node.nodeType}
                data-value={node.successRate ?? ''}
              >
                <span className="admin-bars__name">{name}</span>
                <svg
                  className="admin-bars__bar"
                  viewBox="0 0 100 10"
                  preserveAspectRatio="none"
                  role="img"
                  aria-label={t('admin.nodeBar', { node: name, rate })}
                >
                  <rect className="admin-bars__track" x="0" y="0" width="100" height="10" />
                  <rect
                    className="admin-bars__fill"
                    x="0"
                    y="0"
                    width={barWidth(node.successRate)}
                    height="10"
                  />
                </svg>
                <span className="admin-bars__rate">{rate}</span>
                <span className="admin-bars__counts">
                  {t('admin.nodeCounts', { completed: node.completed, failed: node.failed })}
                </span>
              </li>
            );
          })}
        </ul>
      )}
    </section>
  );
}

/** P95 and P99 of the whole run and of each node type. */
export function DurationsCard(props: { readonly stats: AdminStats }) {
  const t = useT();
  const language = useAtomValue(languageAtom);
  const seconds = (value: number | null) => {
    const text = formatNumber(language, value);
    return text === null ? '—' : t('admin.seconds', { seconds: text });
  };
  const rows = [
    { key: 'run', name: t('admin.allRuns'), durations: props.stats.runs.durationSeconds },
    ...inStepOrder(props.stats.nodes).map((node) => ({
      key: node.nodeType,
      name: stepName(t, node.nodeType),
      durations: node.durationSeconds,
    })),
  ];
  return (
    <section className="card" aria-labelledby="admin-durations" data-testid="admin-durations">
      <h2 id="admin-durations">{t('admin.durations')}</h2>
      <table className="admin-table">
        <thead>
          <tr>
            <th scope="col">{t('admin.durationScope')}</th>
            <th scope="col">{t('admin.p95')}</th>
            <th scope="col">{t('admin.p99')}</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((row) => (
            <tr key={row.key} data-scope={row.key}>
              <th scope="row">{row.name}</th>
              <td>{seconds(row.durations.p95)}</td>
              <td>{seconds(row.durations.p99)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

/** Failed provider attempts by provider, code and failure, most first (as the API sorts them). */
export function ProviderErrorsCard(props: { readonly stats: AdminStats }) {
  const t = useT();
  const { providerErrors } = props.stats;
  return (
    <section className="card" aria-labelledby="admin-provider-errors" data-testid="admin-provider-errors">
      <h2 id="admin-provider-errors">{t('admin.providerErrors')}</h2>
      {providerErrors.length === 0 ? (
        <p>{t('admin.noProviderErrors')}</p>
      ) : (
        <table className="admin-table">
          <thead>
            <tr>
              <th scope="col">{t('admin.provider')}</th>
              <th scope="col">{t('admin.code')}</th>
              <th scope="col">{t('admin.failure')}</th>
              <th scope="col">{t('admin.count')}</th>
            </tr>
          </thead>
          <tbody>
            {providerErrors.map((error) => (
              <tr key={`${error.provider}|${error.code}|${error.failure}`}>
                <td>{error.provider}</td>
                <td>{error.code}</td>
                <td>{error.failure}</td>
                <td>{error.count}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

/** The vault's active key, its age against the rotation period, and rows left on older keys. */
export function VaultCard(props: { readonly vault: VaultStatus }) {
  const t = useT();
  const { vault } = props;
  return (
    <section className="card admin-small" aria-labelledby="admin-vault" data-testid="admin-vault">
      <h2 id="admin-vault">{t('admin.vault')}</h2>
      <ul className="admin-facts">
        <li>{t('admin.vaultKey', { key: vault.activeKeyId })}</li>
        <li>
          {t('admin.vaultAge', { age: Math.floor(vault.activeKeyAgeDays), rotation: vault.rotationDays })}
        </li>
        <li className={vault.rotationDue ? 'admin-warn' : undefined}>
          {vault.rotationDue ? t('admin.vaultDue') : t('admin.vaultOk')}
        </li>
        <li>{t('admin.vaultStale', { rows: vault.rowsNotOnActiveKey })}</li>
      </ul>
    </section>
  );
}

/** The ledger's reconciliation: how many accounts were recomputed, and any drift. */
export function LedgerCard(props: { readonly report: LedgerReconciliation }) {
  const t = useT();
  const { report } = props;
  const clean = report.drift.length === 0 && report.holdDrift.length === 0;
  return (
    <section className="card admin-small" aria-labelledby="admin-ledger" data-testid="admin-ledger">
      <h2 id="admin-ledger">{t('admin.ledger')}</h2>
      <ul className="admin-facts">
        <li>{t('admin.ledgerAccounts', { accounts: report.accounts })}</li>
        <li className={clean ? undefined : 'admin-warn'} data-testid="admin-ledger-drift">
          {clean
            ? t('admin.ledgerOk')
            : t('admin.ledgerDrift', { count: report.drift.length, holds: report.holdDrift.length })}
        </li>
      </ul>
    </section>
  );
}
