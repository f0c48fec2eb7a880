/**
 * The services `npm start` runs, each as its own process from its build output. Later services
 * add themselves here; the launcher starts exactly what exists.
 */
export interface ServiceEntry {
  name: string;
  /** Path of the built entry point, relative to the repository root. */
  entry: string;
  /** The process other services wait for before the system counts as up. */
  http?: boolean;
}

export const SERVICES: ServiceEntry[] = [
  { name: 'api-gateway', entry: 'services/api-gateway/dist/main.js', http: true },
];
