/** One thing wrong with a deployment file, located by a JSON-pointer-like path. */
export interface Problem {
  file: string;
  where: string;
  message: string;
}

export function record(problems: Problem[], file: string) {
  return (where: string, message: string): void => {
    problems.push({ file, where, message });
  };
}

/** Names of settings whose values are secrets: they never appear in a manifest in clear. */
export function isSecretName(name: string): boolean {
  return /TOKEN|SECRET|PASSWORD|_KEY$|SERVICE_ACCOUNT|CREDENTIALS_JSON|^REDIS_URL$/.test(name);
}

export function formatProblems(problems: Problem[]): string {
  return problems.map((p) => `${p.file}${p.where ? ` ${p.where}` : ''}: ${p.message}`).join('\n');
}
