import { useEffect, useState } from 'react';
import type { AccountView } from '../api.js';
import { useApp } from '../context.js';
import { navigate } from '../router.js';

/**
 * The account a per-account screen shows: the one in its path, else the caller's first; with
 * the accounts for a picker. Errors loading the accounts go to `onError`.
 */
export function useChosenAccount(fromPath: string | null, onError: (error: unknown) => void) {
  const { api } = useApp();
  const [accounts, setAccounts] = useState<AccountView[] | null>(null);
  useEffect(() => {
    api.accounts().then(setAccounts).catch(onError);
  }, [api, onError]);
  return { accounts, accountId: fromPath ?? accounts?.[0]?.id ?? null };
}

/** Picks another account by navigating to the screen's path for it (shown with two or more). */
export function AccountPicker(props: {
  accounts: AccountView[] | null;
  accountId: string | null;
  pathFor: (accountId: string) => string;
}) {
  const { t } = useApp();
  if (props.accounts === null || props.accounts.length < 2) return null;
  return (
    <label>
      {t('calendarAccount')}{' '}
      <select
        value={props.accountId ?? ''}
        onChange={(e) => navigate(props.pathFor(e.target.value))}
      >
        {props.accounts.map((a) => (
          <option key={a.id} value={a.id}>
            {a.name}
          </option>
        ))}
      </select>
    </label>
  );
}
