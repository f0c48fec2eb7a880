/**
 * The value of one sample in Prometheus' text exposition format: the first line of metric `name`
 * whose labels include every pair in `labels` (others may be present). Undefined when none does.
 * Parsed line by line with plain string operations, so test output is never fed to a regex that
 * backtracks.
 */
export function metricValue(
  text: string,
  name: string,
  labels: Record<string, string> = {},
): number | undefined {
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const rest = line.slice(name.length);
    let labelText = '';
    let valueText: string;
    if (rest.startsWith('{')) {
      const close = rest.lastIndexOf('}');
      if (close < 0) continue;
      labelText = rest.slice(1, close);
      valueText = rest.slice(close + 1);
    } else if (rest.startsWith(' ')) {
      valueText = rest;
    } else {
      continue;
    }
    const wanted = Object.entries(labels).map(([key, value]) => `${key}=${JSON.stringify(value)}`);
    const present = labelText === '' ? [] : labelText.split(',');
    if (!wanted.every((pair) => present.includes(pair))) continue;
    const value = Number(valueText.trim().split(' ')[0]);
    if (!Number.isNaN(value)) return value;
  }
  return undefined;
}
