import { useT } from '../atoms/language.ts';

const RADIUS = 52;
const CIRCUMFERENCE = 2 * Math.PI * RADIUS;

/** A circular gauge of the available credits, drawn with SVG (no inline style: the CSP forbids it). */
export function CreditsGauge(props: {
  readonly available: number | null;
  readonly share: number;
  readonly allowance: number | null;
}) {
  const t = useT();
  const label =
    props.available === null
      ? t('dash.gaugeUnlimited')
      : t('dash.gauge', { available: props.available, allowance: props.allowance ?? props.available });
  const tone = props.available === null || props.share > 0.25 ? 'ok' : props.share > 0.1 ? 'low' : 'empty';
  return (
    <svg
      className={`gauge gauge--${tone}`}
      viewBox="0 0 128 128"
      width="128"
      height="128"
      role="img"
      aria-label={label}
    >
      <title>{label}</title>
      <circle className="gauge__track" cx="64" cy="64" r={RADIUS} fill="none" strokeWidth="12" />
      <circle
        className="gauge__fill"
        cx="64"
        cy="64"
        r={RADIUS}
        fill="none"
        strokeWidth="12"
        strokeLinecap="round"
        strokeDasharray={`${(props.available === null ? 1 : props.share) * CIRCUMFERENCE} ${CIRCUMFERENCE}`}
        transform="rotate(-90 64 64)"
      />
      <text x="64" y="62" textAnchor="middle" className="gauge__value" data-testid="credits-available">
        {props.available === null ? '∞' : props.available}
      </text>
      <text x="64" y="82" textAnchor="middle" className="gauge__label">
        {t('dash.available')}
      </text>
    </svg>
  );
}
