import { useT } from '../atoms/language.ts';
import { KeysCard } from '../settings/keys-card.tsx';

/** /settings: the provider keys card. */
export function SettingsPage() {
  const t = useT();
  return (
    <div className="settings">
      <h1>{t('settings.title')}</h1>
      <KeysCard />
    </div>
  );
}
