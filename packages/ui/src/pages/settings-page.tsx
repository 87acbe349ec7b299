import { KeysCard } from '../settings/keys-card.tsx';

/** /settings: the provider keys card. */
export function SettingsPage() {
  return (
    <div className="settings">
      <h1>Settings</h1>
      <KeysCard />
    </div>
  );
}
