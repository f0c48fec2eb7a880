import { createContext, useContext, useEffect, useRef } from 'react';
import type { Api, Me } from './api.js';
import type { Lang, Translate } from './i18n.js';
import type { RealtimeEvent } from './realtime.js';

export interface AppContextValue {
  api: Api;
  me: Me;
  lang: Lang;
  t: Translate;
  /** Subscribes to realtime events; `resync` fires when events may have been missed. */
  subscribe: (listener: RealtimeListener) => () => void;
}

export interface RealtimeListener {
  event?: (event: RealtimeEvent) => void;
  resync?: () => void;
}

export const AppContext = createContext<AppContextValue | null>(null);

export function useApp(): AppContextValue {
  const value = useContext(AppContext);
  if (value === null) throw new Error('useApp outside <AppContext>');
  return value;
}

/** Calls the latest `listener` for each realtime event while the component is mounted. */
export function useRealtime(listener: RealtimeListener): void {
  const { subscribe } = useApp();
  const latest = useRef(listener);
  latest.current = listener;
  useEffect(
    () =>
      subscribe({
        event: (e) => latest.current.event?.(e),
        resync: () => latest.current.resync?.(),
      }),
    [subscribe],
  );
}
