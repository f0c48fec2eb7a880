import {
  AppError,
  canSeeAccount as accessAllows,
  type ApiKeyScope,
  type UserRole,
} from '@wacrm/contracts';

/** The operations a route performs; API keys are scoped to them, roles imply them. */
export type Operation = ApiKeyScope;

/** Who is calling, as established by the auth hook. */
export interface Principal {
  kind: 'user' | 'api-key' | 'admin-token';
  /** Firebase uid, API key id, or `admin-token`. */
  id: string;
  role: UserRole;
  scopes: ReadonlySet<Operation>;
  /** `'all'` for admins; otherwise the accounts this caller may see. */
  accounts: 'all' | ReadonlySet<string>;
}

const EMPLOYEE_SCOPES: ReadonlySet<Operation> = new Set(['read', 'send', 'crm']);
const ALL_SCOPES: ReadonlySet<Operation> = new Set(['read', 'send', 'crm', 'admin']);

export function adminTokenPrincipal(): Principal {
  return {
    kind: 'admin-token',
    id: 'admin-token',
    role: 'admin',
    scopes: ALL_SCOPES,
    accounts: 'all',
  };
}

export function userPrincipal(
  uid: string,
  profile: { role: UserRole; allowedAccounts: string[] } | undefined,
): Principal {
  // A signed-in user without a profile is an employee who may see nothing yet.
  const role = profile?.role ?? 'employee';
  if (role === 'admin') return { kind: 'user', id: uid, role, scopes: ALL_SCOPES, accounts: 'all' };
  return {
    kind: 'user',
    id: uid,
    role,
    scopes: EMPLOYEE_SCOPES,
    accounts: new Set(profile?.allowedAccounts ?? []),
  };
}

/** An `admin`-scoped key may do everything on every account; other keys only their scopes on their accounts. */
export function apiKeyPrincipal(
  keyId: string,
  key: { scopes: ApiKeyScope[]; allowedAccounts: string[] },
): Principal {
  const admin = key.scopes.includes('admin');
  return {
    kind: 'api-key',
    id: keyId,
    role: admin ? 'admin' : 'employee',
    scopes: admin ? ALL_SCOPES : new Set(key.scopes),
    accounts: admin ? 'all' : new Set(key.allowedAccounts),
  };
}

/** Delegates to the one rule in libs/contracts: `null` (no account) is admin-only. */
export function canSeeAccount(principal: Principal, accountId: string | null): boolean {
  return accessAllows(principal.accounts, accountId);
}

export function requireOperation(principal: Principal, operation: Operation): void {
  if (operation === 'admin' && principal.role !== 'admin') {
    throw new AppError('FORBIDDEN', 'this operation needs the admin role');
  }
  if (!principal.scopes.has(operation)) {
    throw new AppError('FORBIDDEN', `this credential lacks the "${operation}" scope`);
  }
}

/** 403 (not 404) for an account the caller may not see: ids are not secret, access is. */
export function requireAccount(principal: Principal, accountId: string | null): void {
  if (!canSeeAccount(principal, accountId)) {
    throw new AppError(
      'FORBIDDEN',
      accountId === null
        ? 'data without an account is admin-only'
        : `no access to account ${accountId}`,
    );
  }
}

export function visibleAccounts<T extends { id: string }>(principal: Principal, items: T[]): T[] {
  return items.filter((item) => canSeeAccount(principal, item.id));
}
