import type { FastifyContextConfig, FastifyInstance } from 'fastify';

/** One route as registered: what the authorization matrix (a test) walks. */
export interface RouteEntry {
  method: string;
  url: string;
  config: FastifyContextConfig;
}

declare module 'fastify' {
  interface FastifyInstance {
    /** Every route registered after recordRouteTable, in order. */
    routeTable: readonly RouteEntry[];
  }
}

/** Records every route registered from now on (call right after creating the app). */
export function recordRouteTable(app: FastifyInstance): void {
  const table: RouteEntry[] = [];
  app.decorate('routeTable', table);
  app.addHook('onRoute', (route) => {
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    for (const method of methods) {
      table.push({ method, url: route.url, config: route.config ?? {} });
    }
  });
}
