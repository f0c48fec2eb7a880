import type { MouseEvent, ReactNode } from 'react';
import { ApiError } from './api.js';
import { useApp } from './context.js';
import { navigate } from './router.js';

/** An in-app link: a real <a href> (open in new tab works), client-side navigation on click. */
export function Link(props: {
  to: string;
  children: ReactNode;
  className?: string;
  label?: string;
  current?: boolean;
}) {
  const onClick = (e: MouseEvent<HTMLAnchorElement>) => {
    if (e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
    e.preventDefault();
    navigate(props.to);
  };
  return (
    <a
      href={props.to}
      onClick={onClick}
      className={props.className}
      {...(props.label !== undefined ? { 'aria-label': props.label } : {})}
      {...(props.current === true ? { 'aria-current': 'page' as const } : {})}
    >
      {props.children}
    </a>
  );
}

export function describeError(error: unknown): string {
  if (error instanceof ApiError) return error.message;
  if (error instanceof Error) return error.message;
  return String(error);
}

export function ErrorNote(props: { error: unknown; onRetry?: () => void }) {
  const { t } = useApp();
  if (props.error === null || props.error === undefined) return null;
  return (
    <p className="error" role="alert">
      {t('errorGeneric', { detail: describeError(props.error) })}{' '}
      {props.onRetry !== undefined && (
        <button type="button" className="link" onClick={props.onRetry}>
          {t('retry')}
        </button>
      )}
    </p>
  );
}
